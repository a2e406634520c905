//! Files in: expected returns, the catalog, users. Every refusal names the file, the line and
//! the reason; by default one refused row means nothing is loaded.

pub mod catalog;
mod check;
pub mod decode;
pub mod fields;
mod rejected;
pub mod returns;
pub mod shipments;
pub mod table;
pub mod users;

use chrono::{DateTime, FixedOffset};
use std::fmt;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A refused row or file: `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: Option<u64>,
    pub message: String,
    /// The file cannot be read past this point.
    pub fatal: bool,
    /// The file could not be opened or read at all (exit code 3, not 1).
    pub unusable: bool,
}

impl Problem {
    pub fn new(file: &str, line: Option<u64>, message: impl Into<String>) -> Problem {
        Problem { file: file.to_string(), line, message: message.into(), fatal: false, unusable: false }
    }

    /// The file itself could not be used (missing, unreadable).
    pub fn unusable(file: &str, message: impl Into<String>) -> Problem {
        Problem { unusable: true, fatal: true, ..Problem::new(file, None, message) }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.file, l, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Validate and report; write nothing.
    pub dry_run: bool,
    /// Load the valid rows and write the refused ones to `FILE.rejected.csv`.
    pub skip_invalid: bool,
    /// When the import runs, and the offset given to times written without one.
    pub now: DateTime<FixedOffset>,
    pub progress: Progress,
    /// The supervisor who changes users (proven by PIN); none only while the database has no
    /// supervisor yet.
    pub by: Option<crate::store::auth::Proven>,
}

impl ImportOptions {
    pub fn new(now: DateTime<FixedOffset>) -> Self {
        ImportOptions { dry_run: false, skip_invalid: false, now, progress: Progress::hidden(), by: None }
    }
}

/// What one file did.
#[derive(Debug, Clone, Default)]
pub struct FileReport {
    pub file: String,
    pub encoding: String,
    pub format: String,
    /// Data rows read (lines of returns, products, users).
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Records refused (returns, products, users), and the rows they had.
    pub refused: u64,
    pub refused_rows: u64,
    pub conflicts: u64,
    pub ignored_headers: Vec<String>,
    pub rejected_file: Option<String>,
}

/// What a whole import command did.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub what: &'static str,
    pub files: Vec<FileReport>,
    /// Rows or files refused.
    pub errors: Vec<Problem>,
    /// Accepted, but worth a look (a change not applied to a received return).
    pub warnings: Vec<Problem>,
    /// Whether anything was written (false for a dry run, or when errors stopped the load).
    pub committed: bool,
    pub dry_run: bool,
    /// Unidentified parcels linked to the returns just loaded.
    pub linked: u64,
    /// Earlier imports of this kind that were interrupted, which this one completed.
    pub resumed: Vec<crate::store::imports::Interrupted>,
}

impl ImportReport {
    fn total(&self, f: impl Fn(&FileReport) -> u64) -> u64 {
        self.files.iter().map(f).sum()
    }

    /// The closing one-line summary.
    pub fn summary(&self) -> String {
        let verb = if self.dry_run {
            "dry run, nothing written:"
        } else if self.committed {
            "imported"
        } else {
            "refused, nothing written:"
        };
        let mut s = format!(
            "{verb} {} {} from {} file{} ({} rows): {} created, {} updated, {} unchanged, {} refused",
            self.total(|f| f.created + f.updated + f.unchanged + f.refused),
            self.what,
            self.files.len(),
            if self.files.len() == 1 { "" } else { "s" },
            self.total(|f| f.rows),
            self.total(|f| f.created),
            self.total(|f| f.updated),
            self.total(|f| f.unchanged),
            self.total(|f| f.refused),
        );
        let conflicts = self.total(|f| f.conflicts);
        if conflicts > 0 {
            s.push_str(&format!(", {conflicts} conflicts with received parcels (kept as received)"));
        }
        if self.linked > 0 {
            s.push_str(&format!(", {} unidentified parcels linked", self.linked));
        }
        for r in &self.resumed {
            s.push_str(&format!(
                "; resumed an import of {} interrupted after it started at {}",
                crate::domain::text::on_screen(&r.file),
                r.started_at
            ));
        }
        s
    }

    /// Details worth a line each: encodings, ignored headers, rejected files.
    pub fn details(&self) -> Vec<String> {
        let mut out = Vec::new();
        for f in self.files.iter().filter(|f| !f.format.is_empty()) {
            let mut line = format!("{}: {} {}", f.file, f.format, f.encoding);
            if !f.ignored_headers.is_empty() {
                line.push_str(&format!("; columns ignored: {}", f.ignored_headers.join(", ")));
            }
            out.push(line);
            if let Some(r) = &f.rejected_file {
                out.push(format!("{}: {} refused rows written to {r}", f.file, f.refused_rows));
            }
        }
        out
    }
}

/// A progress line on the terminal (stderr) for long imports; silent when stderr is piped.
#[derive(Clone)]
pub struct Progress(Option<Arc<ProgressInner>>);

struct ProgressInner {
    done: AtomicU64,
    state: Mutex<(String, u64, Instant)>,
}

impl Progress {
    pub fn hidden() -> Progress {
        Progress(None)
    }

    /// Shown when stderr is a terminal.
    pub fn on_terminal() -> Progress {
        if std::io::stderr().is_terminal() {
            Progress(Some(Arc::new(ProgressInner {
                done: AtomicU64::new(0),
                state: Mutex::new((String::new(), 0, Instant::now())),
            })))
        } else {
            Progress::hidden()
        }
    }

    pub fn start(&self, name: &str, total: u64) {
        if let Some(p) = &self.0 {
            p.done.store(0, Ordering::Relaxed);
            if let Ok(mut s) = p.state.lock() {
                *s = (name.to_string(), total, Instant::now());
            }
        }
    }

    pub fn advance(&self, bytes: u64) {
        let Some(p) = &self.0 else { return };
        let done = p.done.fetch_add(bytes, Ordering::Relaxed) + bytes;
        let Ok(mut s) = p.state.lock() else { return };
        if s.2.elapsed() < Duration::from_millis(250) {
            return;
        }
        s.2 = Instant::now();
        let pct = (done * 100).checked_div(s.1).unwrap_or(0).min(100);
        let filled = (pct / 4) as usize;
        let bar = format!("{}{}", "#".repeat(filled), "-".repeat(25 - filled));
        let _ = write!(std::io::stderr(), "\r{}: [{bar}] {pct:>3}% ", s.0);
    }

    pub fn finish(&self) {
        if self.0.is_some() {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "Progress(terminal)" } else { "Progress(hidden)" })
    }
}

pub mod source;
mod spool;

pub use source::Source;

use crate::store::imports::{self as bookkeeping, Chunks, FileCounts};
use crate::store::{self as st, DbError, DbResult, Store, StoreError};

/// Which pass a loader is in: every file of a run is checked before anything is written.
pub(crate) enum Pass<'a, 'c> {
    /// Read and check every record, and find what writing it would do, writing nothing: no
    /// write lock is taken (a dry run stops here, as does a refused run).
    Check,
    /// Write the records, each whole, in the chunks' short transactions.
    Write(&'a Chunks<'c>),
}

/// What a loader is given for one file.
pub(crate) struct FileJob<'a, 'c> {
    /// What the check pass reads; the write pass writes in the chunks of [`Pass::Write`].
    pub store: &'c Store,
    pub source: &'a Source,
    /// The file's place in the run (the first is 0).
    pub index: usize,
    pub pass: Pass<'a, 'c>,
    pub opts: &'a ImportOptions,
}

/// Runs one import command in two passes. The first reads and checks every file (no write
/// lock); then, unless it is a dry run or a row was refused without `skip_invalid`, the
/// second reads the files again and writes in short transactions, and the run is recorded.
/// The loader is called once per file and pass; it must find the same refusals both times.
pub(crate) fn run_import(
    store: &Store,
    sources: &[Source],
    opts: &ImportOptions,
    kind: &'static str,
    mut load: impl FnMut(FileJob<'_, '_>, &mut ImportReport) -> DbResult<FileReport>,
) -> Result<ImportReport, StoreError> {
    refuse_the_database(store.path(), sources)?;
    let work = register(store, kind, sources, opts)?;
    let result = (|| {
        let mut report = new_report(kind, opts);
        for (index, source) in sources.iter().enumerate() {
            let errors_before = report.errors.len();
            let job = FileJob { store, source, index, pass: Pass::Check, opts };
            let file = load(job, &mut report)?;
            warn_if_header_only(&file, &mut report, errors_before);
            report.files.push(file);
        }
        if !goes_ahead(&mut report, opts) {
            return Ok(report);
        }
        let chunks = Chunks::new(store)?;
        let ids = start_run(&chunks, kind, sources, opts, &mut report)?;
        for (index, source) in sources.iter().enumerate() {
            // The same refusals again: they were reported by the first pass.
            let mut again = ImportReport::default();
            let job = FileJob { store, source, index, pass: Pass::Write(&chunks), opts };
            let mut file = load(job, &mut again)?;
            // A refusal only the writing can find (a supervisor's authority taken away
            // meanwhile) is reported too.
            let known: std::collections::HashSet<String> =
                report.errors.iter().map(|e| e.to_string()).collect();
            report.errors.extend(again.errors.into_iter().filter(|e| !known.contains(&e.to_string())));
            file.rejected_file = report.files[index].rejected_file.take();
            finish_file(&chunks, ids[index], &file, opts)?;
            report.files[index] = file;
        }
        finish_run(chunks, kind, opts, &mut report)?;
        Ok(report)
    })();
    // The error is read first: what holds the lock, and how long this waited for it.
    let result = result.map_err(|e: DbError| store.err(e));
    unregister(store, work);
    result
}

pub(crate) fn new_report(kind: &'static str, opts: &ImportOptions) -> ImportReport {
    ImportReport {
        what: match kind {
            "catalog" => "products",
            other => other,
        },
        dry_run: opts.dry_run,
        ..ImportReport::default()
    }
}

pub(crate) fn warn_if_header_only(file: &FileReport, report: &mut ImportReport, errors_before: usize) {
    if file.rows == 0 && report.errors.len() == errors_before && !file.format.is_empty() {
        let message = "only a header, no rows: nothing to import from this file".to_string();
        report.warnings.push(Problem::new(&file.file, Some(1), message));
    }
}

/// After the first pass: whether the run is written. A dry run, or a refused row without
/// `skip_invalid`, stops here, and the refused rows' files (only meant for a load that goes
/// ahead) are removed.
pub(crate) fn goes_ahead(report: &mut ImportReport, opts: &ImportOptions) -> bool {
    let refused = !report.errors.is_empty();
    if opts.dry_run || (refused && !opts.skip_invalid) {
        for f in &mut report.files {
            if let Some(r) = f.rejected_file.take() {
                let _ = std::fs::remove_file(r);
            }
        }
        report.committed = false;
        return false;
    }
    true
}

/// Records the run's start (one unfinished row per file, in a short transaction of its own)
/// and notes what earlier interrupted run of this kind it resumes; the rows' ids.
pub(crate) fn start_run(
    chunks: &Chunks<'_>,
    kind: &str,
    sources: &[Source],
    opts: &ImportOptions,
    report: &mut ImportReport,
) -> DbResult<Vec<i64>> {
    let names: Vec<String> = sources.iter().map(Source::display).collect();
    chunks.begin()?;
    let (ids, resumed) = bookkeeping::start_run(chunks, kind, &names, opts.now)?;
    chunks.commit()?;
    report.resumed = resumed;
    Ok(ids)
}

/// Completes a file's row, in the chunk under way.
pub(crate) fn finish_file(
    chunks: &Chunks<'_>,
    id: i64,
    file: &FileReport,
    opts: &ImportOptions,
) -> DbResult<()> {
    chunks.begin()?;
    let counts = FileCounts {
        created: file.created,
        updated: file.updated,
        unchanged: file.unchanged,
        refused: file.refused,
        conflicts: file.conflicts,
    };
    bookkeeping::finish_file(chunks, id, opts.now, counts)?;
    chunks.tick()
}

/// The run's last transaction, committed durably: its entry in the audit log.
pub(crate) fn finish_run(
    chunks: Chunks<'_>,
    kind: &str,
    opts: &ImportOptions,
    report: &mut ImportReport,
) -> DbResult<()> {
    report.committed = true;
    bookkeeping::finish_run(chunks, kind, opts.now, &report.summary())
}

/// An input file that is the database itself (or its -wal or -shm) is refused before it is
/// opened: reading it through `std::fs` would drop this process's locks on the database.
pub(crate) fn refuse_the_database(db: &std::path::Path, sources: &[Source]) -> Result<(), StoreError> {
    for p in sources.iter().filter_map(Source::path) {
        if st::is_database_file(p, db) {
            return Err(StoreError::IsTheDatabase {
                path: p.display().to_string(),
                db: db.display().to_string(),
            });
        }
    }
    Ok(())
}

/// A real run (not a dry run) says it is running, so a writer kept waiting can name it.
pub(crate) fn register(
    store: &Store,
    kind: &str,
    sources: &[Source],
    opts: &ImportOptions,
) -> Result<Option<i64>, StoreError> {
    if opts.dry_run {
        return Ok(None);
    }
    let files: Vec<String> = sources.iter().map(Source::display).collect();
    store
        .start_work(&format!("import {kind}"), Some(&files.join(" ")), opts.now)
        .map(Some)
        .map_err(|e| store.err(e))
}

pub(crate) fn unregister(store: &Store, work: Option<i64>) {
    if let Some(id) = work {
        let _ = store.finish_work(id);
    }
}

/// Opens a source for a loader: its table (None when it cannot be opened, the problem then
/// going to `errors`) and a report that already names its encoding, format and ignored headers.
pub(crate) fn open_table(
    source: &Source,
    fields: &'static [table::FieldSpec],
    opts: &ImportOptions,
    errors: &mut Vec<Problem>,
) -> (Option<table::Table>, FileReport) {
    let opened = source.open(fields, &opts.progress);
    // Named after opening: a workbook's sheet is known then.
    let mut file = FileReport { file: source.display(), ..FileReport::default() };
    match opened {
        Ok(t) => {
            file.encoding = t.encoding.to_string();
            file.format = t.format.to_string();
            file.ignored_headers = t.ignored.clone();
            (Some(t), file)
        }
        Err(p) => {
            errors.push(p);
            (None, file)
        }
    }
}
