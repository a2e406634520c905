//! Importing expected returns (CONTRACT section 3). Rows are streamed and grouped by RMA; each
//! return is validated whole and written whole, so a return is never loaded with a line missing.
//!
//! Two passes. The first reads and checks every file of the run, holding no lock: each valid
//! return goes to a spool file (or, for a dry run, is only compared with the database), each
//! refused one is reported. Only when every file is checked, and nothing was refused (or
//! `--skip-invalid`), does the second pass write the spooled returns, in short transactions
//! that each end between two returns. Reading and checking run on two threads, as do reading
//! the spool back and writing.
//!
//! Exports list a return's lines together, so the fast path groups consecutive rows. When an
//! RMA turns up again later in the same file (someone sorted it in Excel), the file is read a
//! second time through a temporary table sorted by RMA. Both paths give the same result.

use super::check;
use super::fields::{returns as f, RETURNS};
use super::rejected::Rejected;
use super::source::Source;
use super::spool::{SpoolReader, SpoolWriter, Spooled};
use super::table::Row;
use super::{FileReport, ImportOptions, ImportReport, Problem};
use crate::domain::codes::Resolution;
use crate::domain::text::on_screen;
use crate::store::imports::{self as bookkeeping, Chunks, Stage};
use crate::store::returns::{ReturnCheck, ReturnWriter};
use crate::store::{
    DbError, DbResult, Fingerprint, LineWrite, ReturnWrite, ReturnWritten, Store, StoreError,
};
use chrono::FixedOffset;
use std::collections::{HashMap, HashSet};

/// Loads expected returns from `sources`: all of them or, when any row is refused and
/// `skip_invalid` is off, none.
pub fn import(
    store: &mut Store,
    sources: &[Source],
    opts: &ImportOptions,
) -> Result<ImportReport, StoreError> {
    super::refuse_the_database(store.path(), sources)?;
    let work = super::register(store, "returns", sources, opts)?;
    let result = run(store, sources, opts).map_err(|e| match e {
        Failed::Db(e) => store.err(e),
        Failed::Spool(e) => StoreError::Spool { detail: e.to_string() },
    });
    super::unregister(store, work);
    result
}

/// Why an import stopped: the database, or its own spool file.
enum Failed {
    Db(DbError),
    Spool(std::io::Error),
}

impl From<DbError> for Failed {
    fn from(e: DbError) -> Self {
        Failed::Db(e)
    }
}

impl From<std::io::Error> for Failed {
    fn from(e: std::io::Error) -> Self {
        Failed::Spool(e)
    }
}

fn run(store: &Store, sources: &[Source], opts: &ImportOptions) -> Result<ImportReport, Failed> {
    let mut report = super::new_report("returns", opts);
    let mut run = RunRmas::new(sources);
    let mut spools = Vec::with_capacity(sources.len());
    for (index, source) in sources.iter().enumerate() {
        let errors_before = report.errors.len();
        let checked = match check_file(store, source, index, opts, &mut run, Staging::Streamed)? {
            Checked::Scattered => {
                run.forget(index);
                match check_file(store, source, index, opts, &mut run, Staging::Sorted)? {
                    Checked::Done(done) => done,
                    Checked::Scattered => unreachable!("a sorted read gives each RMA one group"),
                }
            }
            Checked::Done(done) => done,
        };
        let CheckedFile { file, errors, warnings, spool } = *checked;
        report.errors.extend(errors);
        report.warnings.extend(warnings);
        super::warn_if_header_only(&file, &mut report, errors_before);
        report.files.push(file);
        spools.push(spool);
    }
    if !super::goes_ahead(&mut report, opts) {
        // Refused: the valid returns are still counted as they would have been written.
        for (index, spool) in spools.into_iter().enumerate() {
            if let Some(spool) = spool {
                let mut check = ReturnCheck::new(store)?;
                let file = &mut report.files[index];
                let display = file.file.clone();
                for s in spool {
                    let s = s?;
                    let w = check.check(&s.write, s.hash)?;
                    tally(file, &mut report.warnings, &display, s.first_line, &s.write, w);
                }
            }
        }
        return Ok(report);
    }
    let chunks = Chunks::new(store)?;
    let ids = super::start_run(&chunks, "returns", sources, opts, &mut report)?;
    for (index, spool) in spools.into_iter().enumerate() {
        let Some(spool) = spool else { continue };
        let mut writer = ReturnWriter::new(&chunks, ids[index], opts.now)?.in_run_from(ids[0]);
        let file = &mut report.files[index];
        opts.progress.start(&format!("writing {}", file.file), spool.returns());
        let mut problems = (Vec::new(), Vec::new());
        write_spooled(&chunks, &mut writer, spool, file, &mut problems, opts)?;
        opts.progress.finish();
        report.errors.extend(problems.0);
        report.warnings.extend(problems.1);
        super::finish_file(&chunks, ids[index], &report.files[index], opts)?;
    }
    // Unidentified parcels whose RMA just arrived are linked in a short transaction of their own.
    report.linked = bookkeeping::link_unidentified(&chunks, opts.now)?.len() as u64;
    super::finish_run(chunks, "returns", opts, &mut report)?;
    Ok(report)
}

/// The RMAs of the earlier files of a run, by key, with their file and content: one RMA in
/// two files must have the same content. Only kept for runs of several files.
struct RunRmas {
    earlier: Option<HashMap<u64, (usize, i64)>>,
    /// The files of the run, as they are named in messages.
    names: Vec<String>,
}

impl RunRmas {
    fn new(sources: &[Source]) -> RunRmas {
        RunRmas {
            earlier: (sources.len() > 1).then(HashMap::new),
            names: sources.iter().map(Source::display).collect(),
        }
    }

    /// A file read again (sorted) puts its RMAs in again.
    fn forget(&mut self, index: usize) {
        if let Some(m) = &mut self.earlier {
            m.retain(|_, (i, _)| *i != index);
        }
    }
}

/// The key under which an RMA is remembered: 64 bits of its number, so a million RMAs cost a
/// few megabytes. Two numbers with one key would only make a file be read sorted.
fn rma_key(rma: &str) -> u64 {
    let mut f = Fingerprint::default();
    f.add(rma);
    f.value() as u64
}

enum Checked {
    Done(Box<CheckedFile>),
    Scattered,
}

struct CheckedFile {
    file: FileReport,
    errors: Vec<Problem>,
    warnings: Vec<Problem>,
    /// The valid returns, for the second pass (none for a dry run).
    spool: Option<SpoolReader>,
}

/// Whether a file is read as it comes or through a temporary table sorted by RMA.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Staging {
    Streamed,
    Sorted,
}

/// What the reading side hands the checking side: a return ready to write, a refused one, or a
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

/// Rows handed from the reading thread to the checking one at a time.
const BATCH: usize = 512;

/// The first pass over one file: read (on a thread of its own), group, check, and spool the
/// valid returns, or for a dry run compare them with the database (reading only).
fn check_file(
    store: &Store,
    source: &Source,
    index: usize,
    opts: &ImportOptions,
    run: &mut RunRmas,
    mode: Staging,
) -> Result<Checked, Failed> {
    let mut errors = Vec::new();
    let (table, report) = super::open_table(source, RETURNS, opts, &mut errors);
    let Some(table) = table else {
        return Ok(Checked::Done(Box::new(CheckedFile {
            file: report,
            errors,
            warnings: Vec::new(),
            spool: None,
        })));
    };
    let sink = if opts.dry_run {
        Sink::DryRun(ReturnCheck::new(store)?)
    } else {
        Sink::Spool(SpoolWriter::create()?)
    };
    let mut check = FileCheck {
        display: source.display(),
        index,
        mode,
        report,
        errors,
        warnings: Vec::new(),
        rejected: Rejected::for_source(source, RETURNS, opts),
        seen: HashSet::new(),
        run,
        sink,
    };
    let local = *opts.now.offset();
    let end = match mode {
        // Reading on one core, grouping and checking on the other.
        Staging::Streamed => std::thread::scope(|scope| {
            // Batches, so the threads hand over rarely; a few in flight bound the memory.
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Result<Row, Problem>>>(4);
            let rows = table.rows;
            let reader =
                std::thread::Builder::new().name("import-reader".into()).spawn_scoped(scope, move || {
                    let mut batch = Vec::with_capacity(BATCH);
                    for row in rows {
                        batch.push(row);
                        if batch.len() == BATCH
                            && tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))).is_err()
                        {
                            return; // the checker stopped early
                        }
                    }
                    let _ = tx.send(batch);
                });
            let end = check.consume(Groups::new(rx.iter().flatten(), local));
            drop(rx);
            if let Ok(reader) = reader {
                let _ = reader.join();
            }
            end
        })?,
        Staging::Sorted => check.consume(Groups::new(stage(store, table.rows)?, local))?,
    };
    if end == GroupEnd::Scattered {
        return Ok(Checked::Scattered);
    }
    opts.progress.finish();
    if let Some(r) = check.rejected.take() {
        if r.rows > 0 {
            check.report.rejected_file = Some(r.finish()?.display().to_string());
        }
    }
    let spool = match check.sink {
        Sink::Spool(w) => Some(w.into_reader()?),
        Sink::DryRun(_) => None,
    };
    Ok(Checked::Done(Box::new(CheckedFile {
        file: check.report,
        errors: check.errors,
        warnings: check.warnings,
        spool,
    })))
}

/// Reads every row into the store's stage and gives them back sorted by RMA, keeping file order
/// within an RMA. The rows that could not be read come first: they have no RMA to sort by.
fn stage<'c>(
    store: &'c Store,
    rows: Box<dyn Iterator<Item = Result<Row, Problem>> + '_>,
) -> DbResult<Box<dyn Iterator<Item = Result<Row, Problem>> + 'c>> {
    let mut stage = Stage::new(store)?;
    let mut problems = Vec::new();
    for row in rows {
        match row {
            Ok(r) => stage.add(r.get(f::RMA_NO), r.line, r.item, &r.values)?,
            Err(p) => problems.push(Err(p)),
        }
    }
    let sorted = stage.sorted()?.map(|staged| match staged {
        Ok(r) => Ok(Row { line: r.line, item: r.item, values: r.values }),
        Err(e) => Err(Problem::new("(staging)", None, e.to_string())),
    });
    Ok(Box::new(problems.into_iter().chain(sorted)))
}

#[derive(PartialEq)]
enum GroupEnd {
    Checked,
    Scattered,
}

/// Where the first pass puts a valid return.
enum Sink<'c> {
    Spool(SpoolWriter),
    /// A dry run: what writing it would do, found by reading the database.
    DryRun(ReturnCheck<'c>),
}

struct FileCheck<'r, 'c> {
    display: String,
    index: usize,
    mode: Staging,
    report: FileReport,
    errors: Vec<Problem>,
    warnings: Vec<Problem>,
    rejected: Option<Rejected>,
    /// The keys of this file's RMAs so far: one seen again means the file is scattered.
    seen: HashSet<u64>,
    run: &'r mut RunRmas,
    sink: Sink<'c>,
}

impl FileCheck<'_, '_> {
    fn consume(&mut self, items: impl Iterator<Item = Item>) -> Result<GroupEnd, Failed> {
        for item in items {
            match item {
                Item::Unreadable(p) => {
                    self.report.rows += 1;
                    self.refuse_unreadable(p);
                }
                Item::Refused { rows, problems } => {
                    let rma = rows[0].get(f::RMA_NO);
                    // A refused return's rows further down must be refused with it.
                    if !rma.is_empty() && !self.seen.insert(rma_key(rma)) && self.mode == Staging::Streamed {
                        return Ok(GroupEnd::Scattered);
                    }
                    self.report.rows += rows.len() as u64;
                    self.refuse_group(&rows, problems);
                }
                Item::Return { first_line, rows, write, hash } => {
                    if self.check(first_line, rows, &write, hash)? == GroupEnd::Scattered {
                        return Ok(GroupEnd::Scattered);
                    }
                }
            }
        }
        Ok(GroupEnd::Checked)
    }

    fn check(
        &mut self,
        first_line: u64,
        rows: u64,
        write: &ReturnWrite,
        hash: i64,
    ) -> Result<GroupEnd, Failed> {
        let key = rma_key(&write.rma_no);
        if !self.seen.insert(key) {
            if self.mode == Staging::Streamed {
                return Ok(GroupEnd::Scattered);
            }
            // Sorted, an RMA comes twice only when its rows spell it in two ways.
            self.report.rows += rows;
            let p = Problem::new(
                &self.display,
                Some(first_line),
                format!(
                    "RMA {} is written in two ways in this file (full-width and plain?)",
                    on_screen(&write.rma_no)
                ),
            );
            self.refuse_unreadable(p);
            return Ok(GroupEnd::Checked);
        }
        self.report.rows += rows;
        let mut in_earlier_file = false;
        if let Some(earlier) = &mut self.run.earlier {
            match earlier.get(&key) {
                Some(&(file, other)) if file != self.index && other != hash => {
                    let p = Problem::new(
                        &self.display,
                        Some(first_line),
                        format!(
                            "RMA {} is also in {}, with other content: one RMA must come from one file",
                            on_screen(&write.rma_no),
                            on_screen(&self.run.names[file])
                        ),
                    );
                    self.refuse_unreadable(p);
                    return Ok(GroupEnd::Checked);
                }
                Some(_) => in_earlier_file = true,
                None => {
                    earlier.insert(key, (self.index, hash));
                }
            }
        }
        match &mut self.sink {
            Sink::Spool(spool) => spool.put(first_line, hash, write)?,
            Sink::DryRun(_) if in_earlier_file => self.report.unchanged += 1,
            Sink::DryRun(check) => {
                let written = check.check(write, hash)?;
                tally(&mut self.report, &mut self.warnings, &self.display, first_line, write, written);
            }
        }
        Ok(GroupEnd::Checked)
    }

    fn refuse_unreadable(&mut self, p: Problem) {
        self.report.refused += 1;
        self.report.refused_rows += 1;
        if let Some(r) = &mut self.rejected {
            let _ = r.write(None, p.line, &p.message, RETURNS.len());
        }
        self.errors.push(p);
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

/// Counts what writing (or, for a dry run, checking) a return did; a change not applied to a
/// received return is a warning.
fn tally(
    report: &mut FileReport,
    warnings: &mut Vec<Problem>,
    display: &str,
    first_line: u64,
    write: &ReturnWrite,
    written: ReturnWritten,
) -> Option<Problem> {
    match written {
        ReturnWritten::Created => report.created += 1,
        ReturnWritten::Updated => report.updated += 1,
        ReturnWritten::Unchanged => report.unchanged += 1,
        ReturnWritten::Conflict { parcel_id, received_at } => {
            report.conflicts += 1;
            report.unchanged += 1;
            warnings.push(Problem::new(
                display,
                Some(first_line),
                format!(
                    "RMA {} changed, but its parcel P{parcel_id} was received at {received_at}: what was received is kept and the change was not applied",
                    on_screen(&write.rma_no)
                ),
            ));
        }
        // The first pass rules these out; should the database disagree, the return is refused.
        ReturnWritten::SeenEarlierInThisImport => {
            return Some(Problem::new(
                display,
                Some(first_line),
                format!("RMA {} comes twice in this import", on_screen(&write.rma_no)),
            ))
        }
        ReturnWritten::InEarlierFile { file } => {
            return Some(Problem::new(
                display,
                Some(first_line),
                format!(
                    "RMA {} is also in {}, with other content: one RMA must come from one file",
                    on_screen(&write.rma_no),
                    on_screen(&file)
                ),
            ))
        }
    }
    None
}

/// The second pass over one file: the spooled returns, read back on a thread of their own,
/// written in the chunks' short transactions.
fn write_spooled(
    chunks: &Chunks<'_>,
    writer: &mut ReturnWriter<'_>,
    spool: SpoolReader,
    file: &mut FileReport,
    (errors, warnings): &mut (Vec<Problem>, Vec<Problem>),
    opts: &ImportOptions,
) -> Result<(), Failed> {
    let display = file.file.clone();
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<Vec<Spooled>>>(4);
        let reader = std::thread::Builder::new().name("import-spool".into()).spawn_scoped(scope, move || {
            let mut batch = Vec::with_capacity(BATCH);
            for item in spool {
                match item {
                    Ok(s) => batch.push(s),
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
                if batch.len() == BATCH
                    && tx.send(Ok(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))).is_err()
                {
                    return;
                }
            }
            let _ = tx.send(Ok(batch));
        });
        let written = (|| -> Result<(), Failed> {
            // The returns of one batch of the writer's, written in one chunk.
            let mut batch: Vec<Spooled> = Vec::new();
            let mut lines = 0;
            let mut write = |writer: &mut ReturnWriter<'_>, batch: &mut Vec<Spooled>| -> Result<(), Failed> {
                chunks.begin()?;
                let pairs: Vec<(&ReturnWrite, i64)> = batch.iter().map(|s| (&s.write, s.hash)).collect();
                let done = writer.write_batch(&pairs)?;
                chunks.tick()?;
                for (s, w) in batch.drain(..).zip(done) {
                    if let Some(p) = tally(file, warnings, &display, s.first_line, &s.write, w) {
                        file.refused += 1;
                        file.refused_rows += 1;
                        errors.push(p);
                    }
                    opts.progress.advance(1);
                }
                Ok(())
            };
            for spooled in rx.iter() {
                for s in spooled? {
                    if !batch.is_empty() && lines + s.write.lines.len() > writer.batch_lines() {
                        write(writer, &mut batch)?;
                        lines = 0;
                    }
                    lines += s.write.lines.len();
                    batch.push(s);
                }
            }
            if !batch.is_empty() {
                write(writer, &mut batch)?;
            }
            Ok(())
        })();
        drop(rx);
        if let Ok(reader) = reader {
            let _ = reader.join();
        }
        written
    })
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
    // The dock never needs a customer's number: only its masked form is kept, from here on.
    let phone = text(0, "phone", first.get(f::PHONE))
        .map(|p| crate::domain::text::mask_phone(&p))
        .filter(|p| !p.is_empty());
    let mut reason = text(0, "reason", first.get(f::REASON));
    let mut fail = |i: usize, msg: String| errors.push((i, msg));
    let resolution = match first.get(f::RESOLUTION) {
        "" => Resolution::Refund,
        v => parse_resolution(v).unwrap_or_else(|| {
            fail(0, format!("resolution \"{}\" is not refund, exchange or repair", on_screen(v)));
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
                        on_screen(&rma_no),
                        on_screen(&order_no),
                        first.place(),
                        on_screen(order)
                    ),
                );
            }
            let tracking = check::identifier("tracking_no", row.get(f::TRACKING_NO)).unwrap_or_default();
            if !tracking.is_empty() && tracking_no.as_deref().is_some_and(|t| t != tracking) {
                fail(
                    i,
                    format!(
                        "RMA {} has tracking_no {} on line {} but {} here",
                        on_screen(&rma_no),
                        on_screen(tracking_no.as_deref().unwrap_or("")),
                        first.place(),
                        on_screen(&tracking)
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
                    on_screen(&rma_no),
                    on_screen(&sku),
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
