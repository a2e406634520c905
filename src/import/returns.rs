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
use super::{FileReport, ImportOptions, ImportReport, Problem};
use crate::domain::codes::Resolution;
use crate::domain::text::printable;
use crate::store::returns::write_return;
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
    super::run_import(store, sources, opts, "returns", |conn, source, import_id, opts, report| {
        let mut outcome = load_file(conn, source, import_id, opts, Mode::Streamed)?;
        if matches!(outcome, FileOutcome::Scattered) {
            conn.execute_batch("ROLLBACK TO file_import; SAVEPOINT file_import;")?;
            outcome = load_file(conn, source, import_id, opts, Mode::Staged)?;
        }
        match outcome {
            FileOutcome::Done(done) => {
                let (file, errors, warnings) = *done;
                {
                    report.errors.extend(errors);
                    report.warnings.extend(warnings);
                    Ok(file)
                }
            }
            FileOutcome::Scattered => unreachable!("a staged read gives each RMA one group"),
        }
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Streamed,
    Staged,
}

enum FileOutcome {
    Done(Box<(FileReport, Vec<Problem>, Vec<Problem>)>),
    Scattered,
}

struct FileLoad<'a> {
    conn: &'a Connection,
    display: String,
    import_id: i64,
    opts: &'a ImportOptions,
    report: FileReport,
    errors: Vec<Problem>,
    warnings: Vec<Problem>,
    rejected: Option<Rejected>,
}

fn load_file(
    conn: &Connection,
    source: &Source,
    import_id: i64,
    opts: &ImportOptions,
    mode: Mode,
) -> rusqlite::Result<FileOutcome> {
    let display = source.display();
    let mut load = FileLoad {
        conn,
        display: display.clone(),
        import_id,
        opts,
        report: FileReport { file: display.clone(), ..FileReport::default() },
        errors: Vec::new(),
        warnings: Vec::new(),
        rejected: None,
    };
    let table = match source.open(RETURNS, &opts.progress) {
        Ok(t) => t,
        Err(p) => {
            load.errors.push(p);
            return Ok(FileOutcome::Done(Box::new((load.report, load.errors, load.warnings))));
        }
    };
    load.report.encoding = table.encoding.to_string();
    load.report.format = table.format.to_string();
    load.report.ignored_headers = table.ignored.clone();
    if opts.skip_invalid && !opts.dry_run {
        if let Some(path) = source.path() {
            load.rejected = Rejected::create(path, RETURNS).ok();
        }
    }
    let mut group: Vec<Row> = Vec::new();
    let rows: Box<dyn Iterator<Item = Result<Row, Problem>>> = match mode {
        Mode::Streamed => table.rows,
        Mode::Staged => stage(conn, table.rows)?,
    };
    for row in rows {
        let row = match row {
            Ok(r) => r,
            Err(p) => {
                load.report.rows += 1;
                load.refuse_unreadable(p);
                continue;
            }
        };
        load.report.rows += 1;
        if !group.is_empty() && group[0].get(f::RMA_NO) != row.get(f::RMA_NO) {
            if load.finish_group(&group)? == GroupEnd::Scattered {
                return Ok(FileOutcome::Scattered);
            }
            group.clear();
        }
        group.push(row);
    }
    if !group.is_empty() && load.finish_group(&group)? == GroupEnd::Scattered {
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

impl FileLoad<'_> {
    fn refuse_unreadable(&mut self, p: Problem) {
        self.report.refused += 1;
        self.report.refused_rows += 1;
        if let Some(r) = &mut self.rejected {
            let _ = r.write(None, p.line, &p.message, RETURNS.len());
        }
        self.errors.push(p);
    }

    fn finish_group(&mut self, rows: &[Row]) -> rusqlite::Result<GroupEnd> {
        let local = *self.opts.now.offset();
        let write = match validate(rows, local) {
            Ok(w) => w,
            Err(problems) => {
                self.refuse_group(rows, problems);
                return Ok(GroupEnd::Written);
            }
        };
        match write_return(self.conn, &write, self.import_id, self.opts.now)? {
            ReturnWritten::Created => self.report.created += 1,
            ReturnWritten::Updated => self.report.updated += 1,
            ReturnWritten::Unchanged => self.report.unchanged += 1,
            ReturnWritten::Conflict { parcel_id, received_at } => {
                self.report.conflicts += 1;
                self.report.unchanged += 1;
                self.warnings.push(Problem::new(
                    &self.display,
                    Some(rows[0].line),
                    format!(
                        "RMA {} changed, but its parcel P{parcel_id} was received at {received_at}: what was received is kept and the change was not applied",
                        printable(&write.rma_no)
                    ),
                ));
            }
            ReturnWritten::SeenEarlierInThisImport => return Ok(GroupEnd::Scattered),
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
