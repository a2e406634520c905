//! Files in: expected returns, the catalog, users. Every refusal names the file, the line and
//! the reason; by default one refused row means nothing is loaded.

pub mod catalog;
mod check;
pub mod decode;
pub mod fields;
mod rejected;
pub mod returns;
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
}

impl ImportOptions {
    pub fn new(now: DateTime<FixedOffset>) -> Self {
        ImportOptions { dry_run: false, skip_invalid: false, now, progress: Progress::hidden() }
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

pub use source::Source;

use crate::store::{self as st, Store, StoreError};
use rusqlite::{params, Connection, TransactionBehavior};

/// What a loader is given for one file.
pub(crate) struct FileJob<'a> {
    pub conn: &'a Connection,
    pub source: &'a Source,
    pub import_id: i64,
    /// The first file's import id in this run: an id from here on is this run's.
    pub run_from: i64,
    pub staging: Staging,
    pub opts: &'a ImportOptions,
}

type Loader<'l> = dyn FnMut(FileJob<'_>, &mut ImportReport) -> rusqlite::Result<Loaded> + 'l;

/// Runs one import command: one transaction over all its files, and at the end commit (or,
/// for a dry run or a refused row without `skip_invalid`, roll back). A file whose records
/// turn out scattered is read again, sorted, in a fresh attempt.
pub(crate) fn run_import(
    store: &mut Store,
    sources: &[Source],
    opts: &ImportOptions,
    kind: &'static str,
    mut load: impl FnMut(FileJob<'_>, &mut ImportReport) -> rusqlite::Result<Loaded>,
) -> Result<ImportReport, StoreError> {
    let db = store.path().display().to_string();
    let mut staged = vec![Staging::Streamed; sources.len()];
    loop {
        match import_once(store, sources, opts, kind, &staged, &mut load) {
            Ok(Ok(report)) => return Ok(report),
            Ok(Err(scattered)) => staged[scattered] = Staging::Sorted,
            Err(err) => return Err(st::classify(&db, err)),
        }
    }
}

/// Whether a file is read as it comes or through a temporary table sorted by record key.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Staging {
    Streamed,
    Sorted,
}

/// What loading one file gave: its report, or the news that its records are scattered and
/// it must be read again sorted.
pub enum Loaded {
    File(FileReport),
    Scattered,
}

/// One attempt: `Ok(Err(i))` when source `i` turned out scattered (everything was rolled back).
fn import_once(
    store: &mut Store,
    sources: &[Source],
    opts: &ImportOptions,
    kind: &'static str,
    staged: &[Staging],
    load: &mut Loader<'_>,
) -> rusqlite::Result<Result<ImportReport, usize>> {
    let mut report = ImportReport {
        what: match kind {
            "catalog" => "products",
            other => other,
        },
        dry_run: opts.dry_run,
        ..ImportReport::default()
    };
    let now = st::timestamp(opts.now);
    let tx = store.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut run_from = None;
    for (i, source) in sources.iter().enumerate() {
        tx.execute(
            "INSERT INTO imports (kind, file, started_at) VALUES (?1, ?2, ?3)",
            params![kind, source.display(), now],
        )?;
        let import_id = tx.last_insert_rowid();
        let run_from = *run_from.get_or_insert(import_id);
        let job = FileJob { conn: &tx, source, import_id, run_from, staging: staged[i], opts };
        let errors_before = report.errors.len();
        let file = match load(job, &mut report)? {
            Loaded::File(f) => f,
            Loaded::Scattered => {
                tx.rollback()?;
                return Ok(Err(i));
            }
        };
        if file.rows == 0 && report.errors.len() == errors_before {
            let message = "only a header, no rows: nothing to import from this file".to_string();
            report.warnings.push(Problem::new(&source.display(), Some(1), message));
        }
        tx.execute(
            "UPDATE imports SET finished_at = ?2, created = ?3, updated = ?4, unchanged = ?5,
                 refused = ?6, conflicts = ?7 WHERE id = ?1",
            params![import_id, now, file.created, file.updated, file.unchanged, file.refused, file.conflicts],
        )?;
        report.files.push(file);
    }
    if kind == "returns" {
        report.linked = crate::store::station::link_unidentified(&tx, opts.now)?.len() as u64;
    }
    let refused = !report.errors.is_empty();
    if opts.dry_run || (refused && !opts.skip_invalid) {
        tx.rollback()?;
        // Refused rows were only written out for a load that goes ahead.
        for f in &mut report.files {
            if let Some(r) = f.rejected_file.take() {
                let _ = std::fs::remove_file(r);
            }
        }
        report.committed = false;
    } else {
        report.committed = true;
        st::audit(&tx, opts.now, None, None, "import", Some(kind), Some(&report.summary()))?;
        tx.commit()?;
    }
    Ok(Ok(report))
}

/// Opens a source for a loader: its table (None when it cannot be opened, the problem then
/// going to `errors`) and a report that already names its encoding, format and ignored headers.
pub(crate) fn open_table(
    source: &Source,
    fields: &'static [table::FieldSpec],
    opts: &ImportOptions,
    errors: &mut Vec<Problem>,
) -> (Option<table::Table>, FileReport) {
    let mut file = FileReport { file: source.display(), ..FileReport::default() };
    match source.open(fields, &opts.progress) {
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
