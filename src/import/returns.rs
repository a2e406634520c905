//! Importing expected returns (CONTRACT section 3). Rows are streamed and grouped by RMA; each
//! return is validated whole and written whole, so a return is never loaded with a line missing.
//!
//! Exports list a return's lines together, so the fast path groups consecutive rows. When an
//! RMA turns up again later in the same file (someone sorted it in Excel), the file is read a
//! second time through a temporary table sorted by RMA. Both paths give the same result.

use super::check;
use super::fields::{returns as f, RETURNS};
use super::rejected::Rejected;
use super::source::Source;
use super::table::Row;
use super::{FileReport, ImportOptions, ImportReport, Loaded, Problem, Staging};
use crate::domain::codes::Resolution;
use crate::domain::text::printable;
use crate::store::returns::ReturnWriter;
use crate::store::{LineWrite, ReturnWrite, ReturnWritten, Store, StoreError};
use chrono::FixedOffset;
use rusqlite::{params, Connection};
use std::collections::HashMap;
use std::collections::VecDeque;

/// Loads expected returns from `sources`: all of them or, when any row is refused and
/// `skip_invalid` is off, none.
pub fn import(
    store: &mut Store,
    sources: &[Source],
    opts: &ImportOptions,
) -> Result<ImportReport, StoreError> {
    super::run_import(store, sources, opts, "returns", |job, report| {
        let staging = job.staging;
        match load_file(job.conn, job.source, (job.import_id, job.run_from), job.opts, staging)? {
            FileOutcome::Done(done) => {
                let (file, errors, warnings) = *done;
                report.errors.extend(errors);
                report.warnings.extend(warnings);
                Ok(Loaded::File(file))
            }
            FileOutcome::Scattered if staging == Staging::Streamed => Ok(Loaded::Scattered),
            FileOutcome::Scattered => unreachable!("a sorted read gives each RMA one group"),
        }
    })
}

enum FileOutcome {
    Done(Box<(FileReport, Vec<Problem>, Vec<Problem>)>),
    Scattered,
}

/// What the reading side hands the writing side: a return ready to write, a refused one, or a
/// row that could not be read at all.
enum Item {
    Return { first_line: u64, rows: u64, write: ReturnWrite, hash: i64 },
    Refused { rows: Vec<Row>, problems: Vec<(usize, String)> },
    Unreadable(Problem),
}

/// Groups consecutive rows of one RMA and validates each group.
struct Groups<I> {
    rows: I,
    /// The row (or unreadable row) read ahead that starts the next group.
    pending: Option<Result<Row, Problem>>,
    local: FixedOffset,
}

impl<I> Groups<I> {
    fn new(rows: I, local: FixedOffset) -> Self {
        Groups { rows, pending: None, local }
    }
}

impl<I: Iterator<Item = Result<Row, Problem>>> Iterator for Groups<I> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        let first = match self.pending.take().or_else(|| self.rows.next())? {
            Err(p) => return Some(Item::Unreadable(p)),
            Ok(row) => row,
        };
        let mut group = vec![first];
        loop {
            match self.rows.next() {
                Some(Ok(row)) if row.get(f::RMA_NO) == group[0].get(f::RMA_NO) => group.push(row),
                Some(other) => {
                    self.pending = Some(other);
                    break;
                }
                None => break,
            }
        }
        Some(self.finish(group))
    }
}

impl<I> Groups<I> {
    fn finish(&self, rows: Vec<Row>) -> Item {
        match validate(&rows, self.local) {
            Ok(write) => Item::Return {
                first_line: rows[0].line,
                rows: rows.len() as u64,
                hash: write.fingerprint(),
                write,
            },
            Err(problems) => Item::Refused { rows, problems },
        }
    }
}

/// Returns handed from the reading thread to the writing one at a time.
const BATCH: usize = 256;

fn load_file(
    conn: &Connection,
    source: &Source,
    (import_id, run_from): (i64, i64),
    opts: &ImportOptions,
    mode: Staging,
) -> rusqlite::Result<FileOutcome> {
    let mut errors = Vec::new();
    let (table, report) = super::open_table(source, RETURNS, opts, &mut errors);
    let Some(table) = table else { return Ok(FileOutcome::Done(Box::new((report, errors, Vec::new())))) };
    let mut load = FileLoad {
        writer: ReturnWriter::new(conn, import_id, opts.now)?.in_run_from(run_from),
        display: source.display(),
        report,
        errors,
        warnings: Vec::new(),
        rejected: Rejected::for_source(source, RETURNS, opts),
    };
    let local = *opts.now.offset();
    let end = match mode {
        // Reading and checking on one core, writing on the other.
        Staging::Streamed => std::thread::scope(|scope| {
            // Batches, so the threads hand over rarely; a few in flight bound the memory.
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Item>>(4);
            let rows = table.rows;
            let reader =
                std::thread::Builder::new().name("import-reader".into()).spawn_scoped(scope, move || {
                    let mut batch = Vec::with_capacity(BATCH);
                    for item in Groups::new(rows, local) {
                        batch.push(item);
                        if batch.len() == BATCH
                            && tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))).is_err()
                        {
                            return; // the writer stopped early
                        }
                    }
                    let _ = tx.send(batch);
                });
            let end = load.consume(rx.iter().flatten());
            drop(rx);
            if let Ok(reader) = reader {
                let _ = reader.join();
            }
            end
        })?,
        Staging::Sorted => load.consume(Groups::new(stage(conn, table.rows)?, local))?,
    };
    if end == GroupEnd::Scattered {
        return Ok(FileOutcome::Scattered);
    }
    opts.progress.finish();
    if let Some(r) = load.rejected.take() {
        if r.rows > 0 {
            let path = r.finish().map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            load.report.rejected_file = Some(path.display().to_string());
        }
    }
    Ok(FileOutcome::Done(Box::new((load.report, load.errors, load.warnings))))
}

/// Reads every row into a temporary table and gives them back sorted by RMA, keeping file
/// order within an RMA, a page at a time. Memory stays flat: SQLite spills the sort to disk.
fn stage<'c>(
    conn: &'c Connection,
    rows: Box<dyn Iterator<Item = Result<Row, Problem>> + '_>,
) -> rusqlite::Result<Box<dyn Iterator<Item = Result<Row, Problem>> + 'c>> {
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS import_stage (
             seq INTEGER PRIMARY KEY, rma TEXT NOT NULL, line INTEGER NOT NULL, item INTEGER,
             vals TEXT NOT NULL);
         DELETE FROM temp.import_stage;
         DROP INDEX IF EXISTS temp.import_stage_rma;",
    )?;
    let mut problems = Vec::new();
    {
        let mut insert =
            conn.prepare("INSERT INTO temp.import_stage (rma, line, item, vals) VALUES (?1, ?2, ?3, ?4)")?;
        for row in rows {
            match row {
                Ok(r) => {
                    let vals = serde_json::to_string(&r.values).unwrap_or_default();
                    insert.execute(params![
                        r.get(f::RMA_NO),
                        r.line as i64,
                        r.item.map(|i| i as i64),
                        vals
                    ])?;
                }
                Err(p) => problems.push(Err(p)),
            }
        }
    }
    conn.execute_batch("CREATE INDEX temp.import_stage_rma ON import_stage (rma, seq);")?;
    let pages = StagedRows { conn, after: None, page: VecDeque::new(), done: false };
    Ok(Box::new(problems.into_iter().chain(pages)))
}

struct StagedRows<'c> {
    conn: &'c Connection,
    after: Option<(String, i64)>,
    page: VecDeque<(String, i64, Row)>,
    done: bool,
}

impl StagedRows<'_> {
    const PAGE: i64 = 5000;

    fn fill(&mut self) -> rusqlite::Result<()> {
        let (rma, seq) = self.after.clone().unwrap_or((String::new(), -1));
        let mut stmt = self.conn.prepare_cached(
            "SELECT rma, seq, line, item, vals FROM temp.import_stage
             WHERE (rma, seq) > (?1, ?2) ORDER BY rma, seq LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![rma, seq, Self::PAGE], |r| {
            let vals: String = r.get(4)?;
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                Row {
                    line: r.get::<_, i64>(2)? as u64,
                    item: r.get::<_, Option<i64>>(3)?.map(|i| i as usize),
                    values: serde_json::from_str(&vals).unwrap_or_default(),
                },
            ))
        })?;
        for r in rows {
            self.page.push_back(r?);
        }
        self.done = (self.page.len() as i64) < Self::PAGE;
        Ok(())
    }
}

impl Iterator for StagedRows<'_> {
    type Item = Result<Row, Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.page.is_empty() && !self.done {
            if let Err(e) = self.fill() {
                self.done = true;
                return Some(Err(Problem::new("(staging)", None, e.to_string())));
            }
        }
        let (rma, seq, row) = self.page.pop_front()?;
        self.after = Some((rma, seq));
        Some(Ok(row))
    }
}

#[derive(PartialEq)]
enum GroupEnd {
    Written,
    Scattered,
}

struct FileLoad<'c> {
    writer: ReturnWriter<'c>,
    display: String,
    report: FileReport,
    errors: Vec<Problem>,
    warnings: Vec<Problem>,
    rejected: Option<Rejected>,
}

impl FileLoad<'_> {
    fn consume(&mut self, items: impl Iterator<Item = Item>) -> rusqlite::Result<GroupEnd> {
        for item in items {
            match item {
                Item::Unreadable(p) => {
                    self.report.rows += 1;
                    self.refuse_unreadable(p);
                }
                Item::Refused { rows, problems } => {
                    self.report.rows += rows.len() as u64;
                    self.refuse_group(&rows, problems);
                }
                Item::Return { first_line, rows, write, hash } => {
                    self.report.rows += rows;
                    if self.write(first_line, &write, hash)? == GroupEnd::Scattered {
                        return Ok(GroupEnd::Scattered);
                    }
                }
            }
        }
        Ok(GroupEnd::Written)
    }

    fn refuse_unreadable(&mut self, p: Problem) {
        self.report.refused += 1;
        self.report.refused_rows += 1;
        if let Some(r) = &mut self.rejected {
            let _ = r.write(None, p.line, &p.message, RETURNS.len());
        }
        self.errors.push(p);
    }

    fn write(&mut self, first_line: u64, write: &ReturnWrite, hash: i64) -> rusqlite::Result<GroupEnd> {
        match self.writer.write(write, hash)? {
            ReturnWritten::Created => self.report.created += 1,
            ReturnWritten::Updated => self.report.updated += 1,
            ReturnWritten::Unchanged => self.report.unchanged += 1,
            ReturnWritten::Conflict { parcel_id, received_at } => {
                self.report.conflicts += 1;
                self.report.unchanged += 1;
                self.warnings.push(Problem::new(
                    &self.display,
                    Some(first_line),
                    format!(
                        "RMA {} changed, but its parcel P{parcel_id} was received at {received_at}: what was received is kept and the change was not applied",
                        printable(&write.rma_no)
                    ),
                ));
            }
            ReturnWritten::SeenEarlierInThisImport => return Ok(GroupEnd::Scattered),
            ReturnWritten::InEarlierFile { file: other } => {
                let p = Problem::new(
                    &self.display,
                    Some(first_line),
                    format!(
                        "RMA {} is also in {}, with other content: one RMA must come from one file",
                        printable(&write.rma_no),
                        printable(&other)
                    ),
                );
                self.refuse_unreadable(p);
            }
        }
        Ok(GroupEnd::Written)
    }

    fn refuse_group(&mut self, rows: &[Row], problems: Vec<(usize, String)>) {
        self.report.refused += 1;
        self.report.refused_rows += rows.len() as u64;
        let mut by_row: HashMap<usize, Vec<String>> = HashMap::new();
        for (i, msg) in &problems {
            by_row.entry(*i).or_default().push(msg.clone());
        }
        let first_bad = problems.first().map(|(i, _)| rows[*i].place()).unwrap_or_default();
        for (i, row) in rows.iter().enumerate() {
            let reason = match by_row.get(&i) {
                Some(msgs) => msgs.join("; "),
                None => format!("another line of this RMA was refused (line {first_bad})"),
            };
            if let Some(r) = &mut self.rejected {
                let _ = r.write(Some(row), Some(row.line), &reason, RETURNS.len());
            }
        }
        for (i, msg) in problems {
            let row = &rows[i];
            let msg = match row.item {
                Some(item) => format!("item {item}: {msg}"),
                None => msg,
            };
            self.errors.push(Problem::new(&self.display, Some(row.line), msg));
        }
    }
}

/// Checks one return's rows and builds what is stored. Errors come with the index of the row
/// they concern; every error of every row is reported, not just the first.
fn validate(rows: &[Row], local: FixedOffset) -> Result<ReturnWrite, Vec<(usize, String)>> {
    let mut errors: Vec<(usize, String)> = Vec::new();
    let first = &rows[0];
    let mut fail = |i: usize, msg: String| errors.push((i, msg));

    let rma_no = check::required_identifier("rma_no", first.get(f::RMA_NO)).unwrap_or_else(|e| {
        fail(0, e);
        String::new()
    });
    let order_no = check::required_identifier("order_no", first.get(f::ORDER_NO)).unwrap_or_else(|e| {
        fail(0, e);
        String::new()
    });
    let tracking_no = match check::identifier("tracking_no", first.get(f::TRACKING_NO)) {
        Ok(t) => (!t.is_empty()).then_some(t),
        Err(e) => {
            fail(0, e);
            None
        }
    };
    let mut text = |i: usize, name: &str, v: &str| match check::text(name, v) {
        Ok(t) => t,
        Err(e) => {
            errors.push((i, e));
            None
        }
    };
    let carrier = text(0, "carrier", first.get(f::CARRIER));
    let customer = text(0, "customer", first.get(f::CUSTOMER));
    let phone = text(0, "phone", first.get(f::PHONE));
    let mut reason = text(0, "reason", first.get(f::REASON));
    let mut fail = |i: usize, msg: String| errors.push((i, msg));
    let resolution = match first.get(f::RESOLUTION) {
        "" => Resolution::Refund,
        v => parse_resolution(v).unwrap_or_else(|| {
            fail(0, format!("resolution \"{}\" is not refund, exchange or repair", printable(v)));
            Resolution::Refund
        }),
    };
    let requested_at = check::datetime(first.get(f::CREATED_AT), local).unwrap_or_else(|e| {
        fail(0, e);
        None
    });

    let mut lines = Vec::with_capacity(rows.len());
    let mut seen: HashMap<(String, Vec<String>), usize> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            let order = row.get(f::ORDER_NO);
            if !order.is_empty()
                && check::identifier("order_no", order).ok().as_deref() != Some(order_no.as_str())
            {
                fail(
                    i,
                    format!(
                        "RMA {} has order_no {} on line {} but {} here",
                        printable(&rma_no),
                        printable(&order_no),
                        first.place(),
                        printable(order)
                    ),
                );
            }
            let tracking = check::identifier("tracking_no", row.get(f::TRACKING_NO)).unwrap_or_default();
            if !tracking.is_empty() && tracking_no.as_deref().is_some_and(|t| t != tracking) {
                fail(
                    i,
                    format!(
                        "RMA {} has tracking_no {} on line {} but {} here",
                        printable(&rma_no),
                        printable(tracking_no.as_deref().unwrap_or("")),
                        first.place(),
                        printable(&tracking)
                    ),
                );
            }
            if reason.is_none() && !row.get(f::REASON).is_empty() {
                reason = check::text("reason", row.get(f::REASON)).ok().flatten();
            }
        }
        let mut row_errors = check::Errors::default();
        let sku = row_errors.take(check::required_identifier("sku", row.get(f::SKU)));
        let barcode = row_errors.take(check::barcode(row.get(f::BARCODE))).flatten();
        let title = row_errors.take(check::text("title", row.get(f::TITLE))).flatten();
        let qty = row_errors.take(check::quantity(row.get(f::QTY)));
        let serials = qty.and_then(|q| row_errors.take(check::serials(row.get(f::SERIALS), q)));
        let unit_value_cents = row_errors.take(check::amount("unit_value", row.get(f::UNIT_VALUE))).flatten();
        if !row_errors.is_empty() {
            for e in row_errors.0 {
                fail(i, e);
            }
            continue;
        }
        let (Some(sku), Some(qty), Some(serials)) = (sku, qty, serials) else { continue };
        let mut key_serials = serials.clone();
        key_serials.sort();
        if let Some(&j) = seen.get(&(sku.clone(), key_serials.clone())) {
            fail(
                i,
                format!(
                    "duplicate line: RMA {} already lists SKU {} on line {}; put the quantity on one line",
                    printable(&rma_no),
                    printable(&sku),
                    rows[j].place()
                ),
            );
            continue;
        }
        seen.insert((sku.clone(), key_serials), i);
        lines.push(LineWrite { sku, barcode, title, qty, serials, unit_value_cents });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|(i, _)| *i);
        return Err(errors);
    }
    Ok(ReturnWrite {
        rma_no,
        order_no,
        tracking_no,
        carrier,
        customer,
        phone,
        reason,
        resolution,
        requested_at,
        lines,
    })
}

/// `refund`, `退货退款`, Amazon's `StandardRefund`, `Replacement` ...
fn parse_resolution(v: &str) -> Option<Resolution> {
    Resolution::parse(v).or_else(|| {
        let l = v.to_lowercase();
        if l.contains("refund") {
            Some(Resolution::Refund)
        } else if l.contains("exchange") || l.contains("replace") {
            Some(Resolution::Exchange)
        } else if l.contains("repair") {
            Some(Resolution::Repair)
        } else {
            None
        }
    })
}
