//! Files out to after-sales (CONTRACT section 5): one row per unit received, per expected
//! unit that never arrived, per unit on no RMA. An export takes what changed since the last
//! one (parcels signed or refused, reviews decided), recorded as a batch of what it took, so
//! a lost file can be produced again with `--batch`.

pub mod feedback;
pub mod feedback_xlsx;
pub mod manifest;
pub mod xlsx;

use crate::domain::codes::{Coded, Outcome};
use crate::domain::money::format_cents;
pub use crate::store::export::Span;
use crate::store::export::{NewBatch, ParcelFacts, ReviewState, Taken};
use crate::store::{DbError, Store, StoreError};
use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The marketplace's refusal reason ids for our reason codes (`[marketplace] refusal_ids` of
/// this program's configuration), set once when it starts, as the destinations are.
static REFUSAL_IDS: std::sync::OnceLock<std::collections::BTreeMap<String, String>> =
    std::sync::OnceLock::new();

/// Sets this program's refusal reason ids; the first call wins.
pub fn set_refusal_ids(ids: std::collections::BTreeMap<String, String>) {
    let _ = REFUSAL_IDS.set(ids);
}

/// The marketplace's id for a refusal for reason `code`, if the table gives one.
pub fn refusal_id(code: &str) -> Option<&'static str> {
    REFUSAL_IDS.get().and_then(|ids| ids.get(code)).map(String::as_str)
}

/// How many columns a row has: the contract's 25, then the evidence's.
pub const WIDTH: usize = 28;

/// The columns, in the contract's order, then those added after them (section 5 allows it):
/// `photos` (the SHA-256 names of the unit's photos and then its parcel's own, `;`-separated),
/// `destination` (where its outcome sent it) and `refuse_reason_id` (the marketplace's id of a
/// refusal's reason, from `[marketplace] refusal_ids`).
pub const COLUMNS: [&str; WIDTH] = [
    "rma_no",
    "order_no",
    "tracking_no",
    "parcel_id",
    "unit_id",
    "station",
    "operator",
    "received_at",
    "signed_at",
    "sku",
    "barcode",
    "serial",
    "title",
    "outcome",
    "grade",
    "reason",
    "cause",
    "discrepancy",
    "note",
    "unit_value",
    "resolution",
    "review",
    "reviewed_by",
    "reviewed_at",
    "review_comment",
    "photos",
    "destination",
    "refuse_reason_id",
];

/// One row of the export. Every field is text as written: amounts with two decimals, times
/// RFC 3339 with their offset, empty where there is nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExportRow {
    pub rma_no: String,
    pub order_no: String,
    pub tracking_no: String,
    pub parcel_id: String,
    pub unit_id: String,
    pub station: String,
    pub operator: String,
    pub received_at: String,
    pub signed_at: String,
    pub sku: String,
    pub barcode: String,
    pub serial: String,
    pub title: String,
    pub outcome: String,
    pub grade: String,
    pub reason: String,
    pub cause: String,
    pub discrepancy: String,
    pub note: String,
    pub unit_value: String,
    pub resolution: String,
    pub review: String,
    pub reviewed_by: String,
    pub reviewed_at: String,
    pub review_comment: String,
    pub photos: String,
    pub destination: String,
    pub refuse_reason_id: String,
}

impl ExportRow {
    /// Every cell in its file form: no control characters, nothing invisible, few marks.
    fn clean(&mut self) {
        for cell in self.cells_mut() {
            crate::domain::text::make_file_safe(cell);
        }
    }

    fn cells_mut(&mut self) -> [&mut String; WIDTH] {
        [
            &mut self.rma_no,
            &mut self.order_no,
            &mut self.tracking_no,
            &mut self.parcel_id,
            &mut self.unit_id,
            &mut self.station,
            &mut self.operator,
            &mut self.received_at,
            &mut self.signed_at,
            &mut self.sku,
            &mut self.barcode,
            &mut self.serial,
            &mut self.title,
            &mut self.outcome,
            &mut self.grade,
            &mut self.reason,
            &mut self.cause,
            &mut self.discrepancy,
            &mut self.note,
            &mut self.unit_value,
            &mut self.resolution,
            &mut self.review,
            &mut self.reviewed_by,
            &mut self.reviewed_at,
            &mut self.review_comment,
            &mut self.photos,
            &mut self.destination,
            &mut self.refuse_reason_id,
        ]
    }

    fn cells(&self) -> [&str; WIDTH] {
        [
            &self.rma_no,
            &self.order_no,
            &self.tracking_no,
            &self.parcel_id,
            &self.unit_id,
            &self.station,
            &self.operator,
            &self.received_at,
            &self.signed_at,
            &self.sku,
            &self.barcode,
            &self.serial,
            &self.title,
            &self.outcome,
            &self.grade,
            &self.reason,
            &self.cause,
            &self.discrepancy,
            &self.note,
            &self.unit_value,
            &self.resolution,
            &self.review,
            &self.reviewed_by,
            &self.reviewed_at,
            &self.review_comment,
            &self.photos,
            &self.destination,
            &self.refuse_reason_id,
        ]
    }
}

/// The id printed on a unit's label.
pub fn unit_label(id: i64) -> String {
    crate::domain::ids::UnitId(id).to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
    /// A workbook, its headers in this language (see [`xlsx`]).
    Xlsx(crate::domain::codes::Lang),
}

impl Format {
    pub fn code(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Xlsx(_) => "xlsx",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExportOptions {
    pub format: Format,
    pub span: Span,
    /// A UTF-8 BOM in front, so Excel shows Chinese correctly.
    pub excel: bool,
    pub now: DateTime<FixedOffset>,
    pub by: Option<String>,
    /// Only the parcels received at this dock (None: every dock). A batch made again takes
    /// the dock it took.
    pub dock: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExportDone {
    pub batch: i64,
    pub rows: usize,
    pub parcels: usize,
    pub path: PathBuf,
}

/// Writes the export to `out` (atomically: a temporary file renamed into place) and records
/// the batch. A crash before the rename leaves no file and no batch; the next export takes the
/// same rows again.
///
/// The rows are read from one snapshot (stations keep writing meanwhile), and the batch is
/// recorded afterwards in a short write transaction that marks what the snapshot took (see
/// [`Store::record_export`]); anything committed after the snapshot is left for the next
/// export. Should another incremental export take some of the same changes in between, this
/// one is made again once, and if that too is overtaken it stops with
/// [`ExportError::Overtaken`] (its file removed).
pub fn export(store: &mut Store, out: &Path, opts: &ExportOptions) -> Result<ExportDone, ExportError> {
    export_with(store, out, opts, &mut || {})
}

/// As [`export`], to a file of its own in `dir` named with its batch ([`fresh_name`]): the name
/// is chosen from the same snapshot as the rows, and the batch is recorded under that number
/// (an export that finds it taken meanwhile is made again), so no two exports share a name.
pub fn export_fresh(store: &mut Store, dir: &Path, opts: &ExportOptions) -> Result<ExportDone, ExportError> {
    run(store, Target::Fresh(dir), opts, &mut || {})
}

/// As [`export`]; `meanwhile` runs once the file is in place, while the snapshot is still
/// open and before the batch is recorded (tests write from another connection there).
pub fn export_with(
    store: &mut Store,
    out: &Path,
    opts: &ExportOptions,
    meanwhile: &mut dyn FnMut(),
) -> Result<ExportDone, ExportError> {
    not_the_database(store, out).map_err(ExportError::Store)?;
    run(store, Target::File(out), opts, meanwhile)
}

/// Refuses an output file (or the temporary name it is written under) that is the database
/// itself or its `-wal`/`-shm`: every file the commands write goes through here.
pub fn not_the_database(store: &Store, out: &Path) -> Result<(), StoreError> {
    let tmp = partial_name(out);
    for p in [out, tmp.as_path()] {
        if crate::store::is_database_file(p, store.path()) {
            return Err(StoreError::IsTheDatabase {
                path: p.display().to_string(),
                db: store.path().display().to_string(),
            });
        }
    }
    Ok(())
}

/// The name a file is written under before it is renamed into place: `out` and `.partial`.
fn partial_name(out: &Path) -> PathBuf {
    let mut tmp = out.as_os_str().to_owned();
    tmp.push(".partial");
    PathBuf::from(tmp)
}

/// Where an export goes: a file named by the caller, or a fresh name in a directory.
#[derive(Clone, Copy)]
enum Target<'a> {
    File(&'a Path),
    Fresh(&'a Path),
}

fn run(
    store: &mut Store,
    target: Target<'_>,
    opts: &ExportOptions,
    meanwhile: &mut dyn FnMut(),
) -> Result<ExportDone, ExportError> {
    let what = match target {
        Target::File(p) | Target::Fresh(p) => p.display().to_string(),
    };
    let work =
        store.start_work("export", Some(&what), opts.now).map_err(|e| ExportError::Store(store.err(e)))?;
    let mut made: Option<PathBuf> = None;
    let result = (|| {
        for attempt in 0..2 {
            // A file of the attempt before that was overtaken: this attempt writes its own.
            if let Some(old) = made.take() {
                let _ = std::fs::remove_file(old);
            }
            let snap = write_snapshot(store, target, opts, meanwhile)?;
            made = Some(snap.path.clone());
            let path = snap.path.display().to_string();
            let batch = NewBatch {
                now: opts.now,
                by: opts.by.as_deref(),
                format: opts.format.code(),
                path: &path,
                rows: snap.rows,
            };
            match store.record_export(&snap.taken, &batch, snap.named) {
                Ok(Some(batch)) => {
                    return Ok(ExportDone { batch, rows: snap.rows, parcels: snap.parcels, path: snap.path })
                }
                Ok(None) if attempt == 0 => continue,
                Ok(None) => break,
                // No batch, so no file: the next export writes these rows under this number.
                Err(e) => {
                    if let Some(old) = made.take() {
                        let _ = std::fs::remove_file(old);
                    }
                    return Err(ExportError::Store(store.err(e)));
                }
            }
        }
        if let Some(old) = made.take() {
            let _ = std::fs::remove_file(old);
        }
        Err(ExportError::Overtaken { path: what.clone() })
    })();
    if matches!(result, Err(ExportError::NothingNew { .. })) {
        if let Some(old) = made.take() {
            let _ = std::fs::remove_file(old);
        }
    }
    let _ = store.finish_work(work);
    result
}

/// What an export read and wrote from its snapshot.
struct Snapshot {
    taken: Taken,
    rows: usize,
    parcels: usize,
    path: PathBuf,
    /// The batch number the file is named with, to be recorded under it.
    named: Option<i64>,
}

/// Reads the span's rows from one snapshot and writes them to the target. An incremental
/// export that finds nothing due since the last batch writes nothing ([`ExportError::NothingNew`]).
fn write_snapshot(
    store: &mut Store,
    target: Target<'_>,
    opts: &ExportOptions,
    meanwhile: &mut dyn FnMut(),
) -> Result<Snapshot, ExportError> {
    let db = store.path().display().to_string();
    let e = |err: DbError| ExportError::Store(crate::store::classify_db(&db, err));
    let reading = store.export_reading(opts.span, opts.dock.as_deref()).map_err(e)?;
    let Some(reading) = reading else {
        let Span::Batch(id) = opts.span else { unreachable!("only a batch can be missing") };
        return Err(ExportError::NoSuchBatch(id));
    };
    let parcels = reading.parcels().to_vec();
    if opts.span == Span::SinceLast && parcels.is_empty() {
        return Err(ExportError::NothingNew {
            last: reading.last_incremental_batch(opts.dock.as_deref()).map_err(e)?,
        });
    }
    let (path, named) = match target {
        Target::File(p) => (p.to_path_buf(), None),
        Target::Fresh(dir) => {
            let batch = match opts.span {
                Span::Batch(id) => id,
                _ => reading.next_batch_id().map_err(e)?,
            };
            (fresh_name(dir, batch, opts.now, opts.format.code()), Some(batch))
        }
    };
    let out = path.as_path();
    // Each parcel's rows go to the file as they are made (CSV); nothing holds them all.
    let mut rows = 0;
    write_atomically(out, opts, |sink| {
        for p in &parcels {
            let mut made = parcel_rows(&reading.facts(*p).map_err(e)?);
            made.iter_mut().for_each(|r| r.show_times_in(*opts.now.offset()));
            rows += made.len();
            sink.write(made)
                .map_err(|source| ExportError::Write { path: out.display().to_string(), source })?;
        }
        Ok(())
    })?;
    meanwhile();
    let taken = reading.close().map_err(e)?;
    Ok(Snapshot { taken, rows, parcels: parcels.len(), path, named })
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Store(StoreError),
    #[error("{path}: cannot write the export: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("no export batch {0}")]
    NoSuchBatch(i64),
    #[error("{path}: other exports recorded their batches while this one was writing, twice; the file was removed: run the export again")]
    Overtaken { path: String },
    /// Nothing was signed, refused or decided since the last incremental batch (`last`, None
    /// when there was never one): no file was written and no batch recorded.
    #[error("{}", match last { Some(b) => format!("nothing new since batch {b}"), None => "nothing to export yet".to_string() })]
    NothingNew { last: Option<i64> },
}

/// Every row of one closed parcel: its units, then the expected units that never came.
pub fn parcel_rows(f: &ParcelFacts) -> Vec<ExportRow> {
    let view = &f.view;
    let base = |rid: Option<i64>| {
        let mut row = ExportRow {
            parcel_id: format!("P{}", view.id),
            station: view.station.clone(),
            operator: view.operator.clone(),
            received_at: view.received_at.clone(),
            signed_at: f.closed_at.clone().unwrap_or_default(),
            tracking_no: view.scan.clone(),
            ..ExportRow::default()
        };
        // A unit on no line of a parcel with one RMA is still that RMA's business.
        let ret = rid.and_then(|id| f.returns.get(&id)).or_else(|| match f.returns.len() {
            1 => f.returns.values().next(),
            _ => None,
        });
        if let Some(r) = ret {
            row.rma_no = r.rma_no.clone();
            row.order_no = r.order_no.clone();
            row.tracking_no = r.tracking_no.clone().unwrap_or_else(|| view.scan.clone());
            row.resolution = r.resolution.clone();
        }
        row
    };
    let mut rows = Vec::new();
    let refused_parcel = view.state == crate::domain::codes::ParcelState::Refused;
    let none = (None, None, ReviewState::default());
    for u in &view.units {
        // A unit still awaiting some of its boxes is exported once it has an outcome.
        if u.outcome.is_none() && u.incomplete() && !refused_parcel {
            continue;
        }
        let mut row = base(u.line.map(|l| l.0));
        let (barcode, value, own_review) = f.units.get(&u.id).unwrap_or(&none);
        row.unit_id = unit_label(u.id);
        row.sku = u.sku.clone().unwrap_or_default();
        row.barcode = barcode.clone().unwrap_or_else(|| u.scan.clone());
        row.serial = u.serial.clone().unwrap_or_default();
        row.title = u
            .line
            .and_then(|l| view.lines.iter().find(|x| x.line == l))
            .and_then(|l| l.title.clone())
            .unwrap_or_default();
        let review = if own_review.review.is_empty() { &f.review } else { own_review };
        let outcome = match (&review.new_outcome, u.outcome, refused_parcel) {
            (Some(o), _, _) if review.review == "overturned" => o.clone(),
            (_, Some(o), _) => o.code().to_string(),
            (_, None, true) => Outcome::Refuse.code().to_string(),
            _ => String::new(),
        };
        row.outcome = outcome;
        row.grade = review
            .new_grade
            .clone()
            .filter(|_| review.review == "overturned")
            .or(u.grade.map(|g| g.code().to_string()))
            .unwrap_or_default();
        row.reason = u
            .reason
            .map(|r| r.code().to_string())
            .or_else(|| f.refuse_reason.clone().filter(|_| refused_parcel))
            .unwrap_or_default();
        row.cause = u.cause.map(|c| c.code().to_string()).unwrap_or_default();
        row.discrepancy = u.flag.map(|f| f.code().to_string()).unwrap_or_default();
        row.note = u.note.clone().unwrap_or_default();
        row.unit_value = value.map(format_cents).unwrap_or_default();
        row.destination = u.destination.clone().unwrap_or_default();
        row.photos = photo_names(f.photos.get(&Some(u.id)), f.photos.get(&None));
        set_review(&mut row, review);
        rows.push(row);
    }
    // A refused box refuses what its returns expected of it; a signed box has the units its
    // returns closed without (stored when they closed: awaited units are not missing yet).
    let missing: Vec<((i64, i64), i64)> = if refused_parcel {
        view.discrepancies()
            .into_iter()
            .filter_map(|d| match d {
                crate::domain::parcel::Discrepancy::Missing { line, qty } => Some((line, qty)),
                _ => None,
            })
            .collect()
    } else {
        f.missing.clone()
    };
    for (line, qty) in missing {
        let Some(l) = view.lines.iter().find(|x| x.line == line) else { continue };
        let (barcode, value) = f.lines.get(&line).cloned().unwrap_or_default();
        for _ in 0..qty {
            let mut row = base(Some(line.0));
            row.sku = l.sku.clone();
            row.barcode = barcode.clone().unwrap_or_default();
            row.title = l.title.clone().unwrap_or_default();
            if refused_parcel {
                row.outcome = Outcome::Refuse.code().into();
                row.reason = f.refuse_reason.clone().unwrap_or_default();
            } else {
                row.outcome = "missing".into();
                row.discrepancy = "missing".into();
            }
            row.unit_value = value.map(format_cents).unwrap_or_default();
            row.photos = photo_names(None, f.photos.get(&None));
            set_review(&mut row, &f.review);
            rows.push(row);
        }
    }
    for row in &mut rows {
        if row.outcome == Outcome::Refuse.code() {
            row.refuse_reason_id = refusal_id(&row.reason).unwrap_or_default().to_string();
        }
    }
    rows.iter_mut().for_each(ExportRow::clean);
    rows
}

/// A row's `photos`: the unit's, then its parcel's own.
fn photo_names(unit: Option<&Vec<String>>, parcel: Option<&Vec<String>>) -> String {
    let names: Vec<&str> = unit.into_iter().chain(parcel).flatten().map(String::as_str).collect();
    names.join(";")
}

impl ExportRow {
    /// Times are stored as UTC instants; after-sales reads them in the exporting machine's
    /// zone, with its offset (`2026-11-22T09:15:02.123+08:00`).
    pub fn show_times_in(&mut self, zone: chrono::FixedOffset) {
        for t in [&mut self.received_at, &mut self.signed_at, &mut self.reviewed_at] {
            if let Ok(at) = chrono::DateTime::parse_from_rfc3339(t) {
                *t = at.with_timezone(&zone).to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
            }
        }
    }
}

fn set_review(row: &mut ExportRow, r: &ReviewState) {
    row.review = r.review.clone();
    row.reviewed_by = r.by.clone();
    row.reviewed_at = r.at.clone();
    row.review_comment = r.comment.clone();
}

/// The default name of batch `batch` made at `at` in `dir`:
/// `returns-export-b<batch, 4 digits or more>-<date>-<hour><minute>.<ext>`, e.g.
/// `returns-export-b0007-20261201-1546.csv`; with `-2`, `-3`, ... when a file of that name is
/// there already (the same batch made again within a minute). `exists` is a stat; nothing is
/// opened.
pub fn fresh_name(
    dir: &Path,
    batch: i64,
    at: chrono::DateTime<chrono::FixedOffset>,
    ext: &str,
) -> std::path::PathBuf {
    let stem = format!("returns-export-b{batch:04}-{}", at.format("%Y%m%d-%H%M"));
    let mut path = dir.join(format!("{stem}.{ext}"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{stem}-{n}.{ext}"));
        n += 1;
    }
    path
}

/// A cell for a spreadsheet: in its file form, and with a leading `'` when Excel would run it
/// as a formula. Excel skips leading blanks, so `  =HYPERLINK(...)` is a formula too, and so
/// is one behind a zero-width character or a BOM (which the file form takes out). Tab and CR
/// (the contract's other two) are blanks in the file form, so a cell never begins with them.
/// Full-width ＝＋－＠ are text to Excel, but anything that folds them (NFKC, as the dock's own
/// import does) makes them live, so they are guarded too.
pub fn guard(cell: &str) -> std::borrow::Cow<'_, str> {
    use unicode_normalization::UnicodeNormalization;
    let cell = crate::domain::text::in_file(cell);
    let live = cell.trim_start().chars().next().is_some_and(|c| {
        std::iter::once(c).nfkc().next().is_some_and(|c| matches!(c, '=' | '+' | '-' | '@'))
    });
    if live {
        format!("'{cell}").into()
    } else {
        cell
    }
}

/// Where rows go: CSV straight to the file; JSON (one pretty array) gathered first; a
/// workbook's to the thread that writes it, a few hundred at a time.
enum Sink<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Json(Vec<ExportRow>),
    Xlsx { to: std::sync::mpsc::SyncSender<Vec<ExportRow>>, pending: Vec<ExportRow> },
}

/// How many rows go to the workbook's thread at a time.
const XLSX_CHUNK: usize = 512;

/// The workbook's thread has stopped (its own error says why).
fn writer_gone() -> std::io::Error {
    std::io::Error::other("the workbook's writer stopped")
}

impl<W: Write> Sink<W> {
    fn write(&mut self, rows: Vec<ExportRow>) -> std::io::Result<()> {
        match self {
            Sink::Xlsx { to, pending } => {
                pending.extend(rows);
                if pending.len() >= XLSX_CHUNK {
                    to.send(std::mem::take(pending)).map_err(|_| writer_gone())?;
                }
            }
            Sink::Csv(csv) => {
                for r in rows {
                    for cell in r.cells() {
                        csv.write_field(guard(cell).as_bytes())?;
                    }
                    csv.write_record(None::<&[u8]>)?;
                }
            }
            Sink::Json(all) => all.extend(rows),
        }
        Ok(())
    }
}

/// Writes the file through `fill` into `out.partial`, synced, then renamed into place; on any
/// error the partial file is removed.
fn write_atomically(
    out: &Path,
    opts: &ExportOptions,
    fill: impl FnOnce(&mut Sink<&mut std::io::BufWriter<std::fs::File>>) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    let werr = |source| ExportError::Write { path: out.display().to_string(), source };
    // A workbook has no BOM: its text is Unicode whatever the spreadsheet.
    let bom = opts.excel && opts.format == Format::Csv;
    let tmp = write_partial(out, bom, |w| {
        let json = match opts.format {
            Format::Csv => {
                let mut csv = csv::Writer::from_writer(&mut *w);
                csv.write_record(COLUMNS).map_err(|e| werr(e.into()))?;
                let mut sink = Sink::Csv(Box::new(csv));
                fill(&mut sink)?;
                if let Sink::Csv(mut csv) = sink {
                    csv.flush().map_err(werr)?;
                }
                None
            }
            Format::Json => {
                let mut sink = Sink::Json(Vec::new());
                fill(&mut sink)?;
                match sink {
                    Sink::Json(rows) => Some(rows),
                    _ => None,
                }
            }
            Format::Xlsx(lang) => {
                // The workbook is made on a thread of its own while this one reads the rows
                // (its XML and compression cost as much as the reading).
                let zone = *opts.now.offset();
                let (to, from) = std::sync::mpsc::sync_channel::<Vec<ExportRow>>(16);
                std::thread::scope(|scope| {
                    let file = &mut *w;
                    let writer =
                        scope.spawn(move || xlsx::write(file, from.into_iter().flatten(), lang, zone));
                    let mut sink = Sink::Xlsx { to, pending: Vec::new() };
                    let filled = fill(&mut sink).and_then(|()| match sink {
                        Sink::Xlsx { to, pending } => to.send(pending).map_err(|_| werr(writer_gone())),
                        _ => Ok(()),
                    });
                    // A reading that failed ends the rows here (the sink is gone): the
                    // writer finishes a file that is removed below.
                    let written = writer
                        .join()
                        .map_err(|_| werr(std::io::Error::other("the workbook's writer panicked")))?;
                    // The writer's own error says more than "it stopped".
                    written.map_err(|e| werr(std::io::Error::other(e.to_string())))?;
                    filled
                })?;
                None
            }
        };
        if let Some(rows) = json {
            serde_json::to_writer_pretty(&mut *w, &rows).map_err(|e| werr(std::io::Error::other(e)))?;
            w.write_all(b"\n").map_err(werr)?;
        }
        Ok(())
    })?;
    std::fs::rename(&tmp, out).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        werr(e)
    })
}

/// Writes a file through `fill` under its temporary name (`out.partial`; a BOM first with
/// `bom`), flushed and synced; its name, for the caller to rename into place once what the
/// file stands for is recorded. On any error the partial file is removed.
pub fn write_partial<E: From<ExportError>>(
    out: &Path,
    bom: bool,
    fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<(), E>,
) -> Result<PathBuf, E> {
    let werr = |source| ExportError::Write { path: out.display().to_string(), source };
    crate::files::not_a_folder(out).map_err(werr)?;
    let tmp = partial_name(out);
    let result = (|| -> Result<(), E> {
        let file = std::fs::File::create(&tmp).map_err(werr)?;
        let mut w = std::io::BufWriter::new(file);
        if bom {
            w.write_all(b"\xEF\xBB\xBF").map_err(werr)?;
        }
        fill(&mut w)?;
        w.flush().map_err(werr)?;
        w.get_ref().sync_all().map_err(werr)?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(tmp)
}

/// Whether a cell is a whole amount with two decimals (for tests and checks).
pub fn is_amount(s: &str) -> bool {
    s.split_once('.').is_some_and(|(w, f)| {
        !w.is_empty()
            && w.bytes().all(|b| b.is_ascii_digit())
            && f.len() == 2
            && f.bytes().all(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(guard("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(guard("+86 138"), "'+86 138");
        assert_eq!(guard("@SUM"), "'@SUM");
        assert_eq!(guard("-1"), "'-1");
        assert_eq!(guard("plain"), "plain");
    }

    #[test]
    fn formulas_behind_blanks_and_invisible_characters_are_neutralised() {
        assert_eq!(guard("  =HYPERLINK(\"http://x\")"), "'  =HYPERLINK(\"http://x\")");
        assert_eq!(guard("\u{200b}=cmd|' /c calc'!A0"), "'=cmd|' /c calc'!A0");
        assert_eq!(guard("\u{feff}+1"), "'+1");
        assert_eq!(guard("\u{202e}\u{2066}@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(guard("\u{3000}-1"), "'\u{3000}-1");
        // Tab and CR are blanks in a file: a cell never carries them, formula or not.
        assert_eq!(guard("\t=1"), "' =1");
        assert_eq!(guard("\tx"), " x");
        assert_eq!(guard("\r\n=1"), "'  =1");
        // Full-width forms that fold to a formula's first character.
        assert_eq!(guard("＝1+1"), "'＝1+1");
        assert_eq!(guard("＋86 138"), "'＋86 138");
        assert_eq!(guard("＠SUM"), "'＠SUM");
        // What is not a formula stays as it is: numbers, Chinese, a dash inside.
        assert_eq!(guard("199.00"), "199.00");
        assert_eq!(guard("蓝牙耳机－黑色"), "蓝牙耳机－黑色");
        assert_eq!(guard("a\u{1b}[31m=b"), "a[31m=b");
    }

    #[test]
    fn two_exports_in_one_second_get_two_files() {
        let dir = tempfile::tempdir().unwrap();
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-22T09:15:02+08:00").unwrap();
        let first = fresh_name(dir.path(), 7, at, "csv");
        assert!(first.ends_with("returns-export-b0007-20261122-0915.csv"), "{first:?}");
        std::fs::write(&first, "rows").unwrap();
        let again = fresh_name(dir.path(), 7, at, "csv");
        assert!(again.ends_with("returns-export-b0007-20261122-0915-2.csv"), "{again:?}");
        assert!(
            fresh_name(dir.path(), 12345, at, "json").ends_with("returns-export-b12345-20261122-0915.json")
        );
    }

    #[test]
    fn labels_and_amounts() {
        assert_eq!(unit_label(42), "U00000042");
        assert!(is_amount("12.90") && !is_amount("12.9") && !is_amount("x.00"));
    }
}
