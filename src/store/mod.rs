//! The only module that speaks SQL. Opens the database file with the pragmas the dock relies on,
//! migrates it forward, and refuses files it must not touch (not SQLite, damaged, newer).

pub mod auth;
pub mod boxes;
pub mod catalog;
pub mod central;
pub mod chain;
pub mod copy;
pub mod demo;
pub mod dock;
pub mod export;
pub mod feedback;
pub mod imports;
pub mod manifest;
pub mod photos;
pub mod returns;
pub mod review;
pub mod shipments;
pub mod sql;
pub mod station;
pub mod users;
pub mod view;
pub mod work;

pub use catalog::{ProductWrite, ProductWritten};
pub use returns::{LineWrite, ReturnWrite, ReturnWritten};
pub use users::{UserWrite, UserWritten};

use chrono::{DateTime, FixedOffset};
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The migrations, in order. Index + 1 is the `user_version` a database has after it.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_init.sql"),
    include_str!("../../migrations/0002_review_lookups.sql"),
    include_str!("../../migrations/0003_records.sql"),
    include_str!("../../migrations/0004_long_work.sql"),
    include_str!("../../migrations/0005_trust.sql"),
    include_str!("../../migrations/0006_masked_phones.sql"),
    include_str!("../../migrations/0007_boxes.sql"),
    include_str!("../../migrations/0008_export_marks.sql"),
    include_str!("../../migrations/0009_one_open_box.sql"),
    include_str!("../../migrations/0010_docks.sql"),
    include_str!("../../migrations/0011_docks_on_record.sql"),
    include_str!("../../migrations/0012_destinations.sql"),
    include_str!("../../migrations/0013_photos.sql"),
    include_str!("../../migrations/0014_manifests.sql"),
    include_str!("../../migrations/0015_workbooks.sql"),
    include_str!("../../migrations/0016_shipments.sql"),
];

/// The schema version from which phone numbers are stored masked (see its migration).
const MASKED_PHONES: u32 = 6;

/// The schema version from which a return may arrive in several boxes (see its migration).
const BOXES: u32 = 7;

/// The schema version from which exports take what is marked due (see its migration).
const EXPORT_MARKS: u32 = 8;
/// The schema version after which the log carries a parcel's dock (0011_docks_on_record.sql).
const DOCKS_LOGGED: u32 = 11;
/// The schema version whose migration edits a table's recorded definition (0015_workbooks.sql).
const WORKBOOKS: u32 = 15;
/// The schema version whose migration does the same for an import's kind (0016_shipments.sql).
const SHIPMENTS: u32 = 16;

/// The schema version this program writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Where each outcome sends a unit: the `[disposition]` of this program's configuration, set
/// once when it starts ([`set_disposition`]), as the busy timeout is read once. Every outcome
/// written (an inspection, an undo, a refusal by the policy, a supervisor's overturn) takes its
/// destination from it.
static DISPOSITION: OnceLock<crate::domain::disposition::Disposition> = OnceLock::new();

/// Sets this program's destinations (its configuration's); the first call wins.
pub fn set_disposition(d: crate::domain::disposition::Disposition) {
    let _ = DISPOSITION.set(d);
}

/// This program's destinations: as set at its start, else the defaults.
pub fn disposition() -> &'static crate::domain::disposition::Disposition {
    DISPOSITION.get_or_init(Default::default)
}

/// How long a writer waits for another program's transaction before giving up, unless
/// `RETURNS_DOCK_BUSY_TIMEOUT_MS` says otherwise.
const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The busy timeout: `RETURNS_DOCK_BUSY_TIMEOUT_MS` (milliseconds), read once, else 10 s.
pub fn busy_timeout() -> Duration {
    static TIMEOUT: OnceLock<Duration> = OnceLock::new();
    *TIMEOUT.get_or_init(|| {
        std::env::var("RETURNS_DOCK_BUSY_TIMEOUT_MS")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(DEFAULT_BUSY_TIMEOUT, Duration::from_millis)
    })
}

thread_local! {
    /// When this thread's current wait for a lock began (SQLite calls the handler with count 0
    /// at the start of each wait).
    static WAIT_BEGAN: Cell<Option<Instant>> = const { Cell::new(None) };
    /// How long the last wait that gave up lasted, for the message.
    static GAVE_UP_AFTER: Cell<Option<Duration>> = const { Cell::new(None) };
}

/// The busy handler of every connection: try again every millisecond until the timeout.
/// SQLite's own handler sleeps in growing steps (up to 100 ms), so a station waiting on an
/// import that commits in short chunks would keep missing the gaps between them.
fn retry_every_millisecond(count: i32) -> bool {
    let now = Instant::now();
    let began = WAIT_BEGAN.with(|b| match b.get() {
        Some(t) if count > 0 => t,
        _ => {
            b.set(Some(now));
            GAVE_UP_AFTER.with(|g| g.set(None));
            now
        }
    });
    let waited = now - began;
    if waited >= busy_timeout() {
        GAVE_UP_AFTER.with(|g| g.set(Some(waited)));
        return false;
    }
    std::thread::sleep(Duration::from_millis(1));
    true
}

/// How long this thread's last wait for a lock lasted before it gave up (None when a busy
/// error came without any wait, e.g. a read snapshot that could not become a write).
fn last_wait() -> Option<Duration> {
    GAVE_UP_AFTER.with(|g| g.take())
}

/// A duration as the messages say it: `10 s`, `0.3 s`.
pub fn seconds(d: Duration) -> String {
    let tenths = (d.as_millis() + 50) / 100;
    if tenths.is_multiple_of(10) {
        format!("{} s", tenths / 10)
    } else {
        format!("{}.{} s", tenths / 10, tenths % 10)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: not a returns-dock database (not an SQLite file); it was left untouched")]
    NotSqlite { path: String },
    #[error(
        "{path}: the database file is damaged ({detail}); it was left untouched: restore it from a backup"
    )]
    Damaged { path: String, detail: String },
    #[error("{path}: made by a newer returns-dock (schema version {found}; this program knows up to {known}); use the newer program")]
    TooNew { path: String, found: u32, known: u32 },
    #[error("{path}: the database is read-only ({detail})")]
    ReadOnly { path: String, detail: String },
    /// `holder` is what holds the lock, when it is one of ours that said so (running_work).
    #[error("{path}: the database stayed locked for {}{}", seconds(*waited), match holder {
        Some(h) => format!(": {h} holds it"),
        None => " by another program".to_string(),
    })]
    Busy { path: String, waited: Duration, holder: Option<String> },
    #[error("cannot keep the import's checked returns in the temporary directory: {detail}")]
    Spool { detail: String },
    #[error("{path}: this is the database {db} (or its -wal or -shm file); nothing was done")]
    IsTheDatabase { path: String, db: String },
    #[error("{path}: the disk is full; nothing more can be recorded until space is freed")]
    Full { path: String },
    #[error("{path}: no database there (import, users and the station create one); nothing was created")]
    Missing { path: String },
    #[error("{path}: cannot open the database: {detail}")]
    CannotOpen { path: String, detail: String },
    #[error("{path}: not a returns-dock database ({detail}); it was left untouched")]
    NotOurs { path: String, detail: String },
    #[error("{path}: database error: {source}")]
    Sql { path: String, source: rusqlite::Error },
    #[error("{path}: database error: {detail}")]
    Engine { path: String, detail: String },
    #[error("{path}: {detail}; nothing was done")]
    Refused { path: String, detail: String },
}

/// A database error as the store's callers see it: what went wrong in the engine, without the
/// engine's type. [`Store::err`] turns it into what the user needs to hear ([`StoreError`]).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] postgres::Error),
    /// A value read was not of the kind the code expects (a column missing or of another kind).
    #[error("unexpected data: {0}")]
    Shape(String),
    /// A file the store keeps beside the database (a photo) could not be read or written.
    #[error("{0}")]
    File(String),
}

impl DbError {
    pub(crate) fn shape(what: String) -> DbError {
        DbError::Shape(what)
    }
}

/// What the store's operations answer: the value, or the engine's error ([`DbError`]).
pub type DbResult<T> = Result<T, DbError>;

/// An open database: a dock's SQLite file (WAL lets several stations share it) or a central
/// PostgreSQL database (`postgresql://…`, for several docks). One per process (or per thread).
pub struct Store {
    handle: Handle,
    /// The file, or the server's address as it may be shown (no password).
    path: PathBuf,
    /// The server's address as given (with its password), to open it again.
    address: Option<String>,
}

enum Handle {
    File(Connection),
    Central(Box<sql::Pg>),
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(store) = Store::open_central(path, central::Central::open)? {
            return Ok(store);
        }
        Store::open_with(path, OpenFlags::SQLITE_OPEN_CREATE)
    }

    /// A server's address opens the central database there (made ours on first use, refused if
    /// it is somebody else's or newer); None for a file's path.
    fn open_central(
        path: &Path,
        open: fn(&str) -> Result<central::Central, StoreError>,
    ) -> Result<Option<Store>, StoreError> {
        let text = path.to_string_lossy();
        if !central::is_address(&text) {
            return Ok(None);
        }
        let central = open(&text)?;
        let shown = PathBuf::from(central.address());
        Ok(Some(Store {
            handle: Handle::Central(Box::new(central.into_sql()?)),
            path: shown,
            address: Some(text.into_owned()),
        }))
    }

    /// Opens and migrates the database at `path`, which must exist: for the commands that
    /// only read (and `export`, which records its batch), so that a mistyped path is said,
    /// never answered with an empty new database. SQLite itself refuses to create the file
    /// (no `SQLITE_OPEN_CREATE`), so nothing appears, not even a `-wal` or `-shm`.
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        if let Some(store) = Store::open_central(path, central::Central::open_existing)? {
            return Ok(store);
        }
        // An empty file with no write-ahead log beside it holds no database (SQLite would take
        // it for a new one and a command that only reads would create the schema in it).
        let wal = PathBuf::from(format!("{}-wal", path.display()));
        if std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0) && !wal.exists() {
            return Err(StoreError::CannotOpen {
                path: path.display().to_string(),
                detail: "the file is empty: no database there; nothing was created".into(),
            });
        }
        Store::open_with(path, OpenFlags::empty()).map_err(|e| match e {
            StoreError::CannotOpen { path: shown, .. } if std::fs::symlink_metadata(path).is_err() => {
                StoreError::Missing { path: shown }
            }
            other => other,
        })
    }

    fn open_with(path: &Path, create: OpenFlags) -> Result<Store, StoreError> {
        let shown = path.display().to_string();
        // `metadata` is a stat, not an open: no descriptor on the file is opened or closed
        // outside SQLite, so no lock this process holds on it can be dropped.
        if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
            return Err(StoreError::CannotOpen { path: shown, detail: "it is a directory".into() });
        }
        // A database made before files were private (or by another program) is tightened
        // before SQLite opens it; a new one is created private by the process's umask (see
        // files.rs). A file of another user is theirs to set: that chmod is not ours to make.
        for file in crate::files::database_files(path) {
            match crate::files::tighten(&file) {
                Err(e) if e.kind() != std::io::ErrorKind::PermissionDenied => {
                    return Err(StoreError::CannotOpen { path: shown, detail: e.to_string() })
                }
                _ => {}
            }
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | create | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| classify(&shown, e))?;
        let mut store = Store { handle: Handle::File(conn), path: path.to_path_buf(), address: None };
        store.check_header()?;
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// SQLite reads the file's header at the first statement and answers "not a database" for
    /// anything that is not one. This is asked before any pragma that could write. Reading the
    /// header with `std::fs` instead would open and close a descriptor on the database file,
    /// and closing any descriptor on it drops every POSIX lock this process holds there,
    /// including a running connection's: another program then deletes the WAL still in use.
    fn check_header(&self) -> Result<(), StoreError> {
        self.conn()
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get::<_, i64>(0))
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// A private database in memory, for tests and benchmarks.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory().map_err(|e| classify(":memory:", e))?;
        let mut store = Store { handle: Handle::File(conn), path: PathBuf::from(":memory:"), address: None };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    fn configure(&self) -> Result<(), StoreError> {
        self.conn().busy_handler(Some(retry_every_millisecond)).map_err(|e| self.err(e))?;
        // Every statement of the station's steps stays prepared (the driver keeps 16 by
        // default, fewer than one signature uses, so each step prepared most of its own again).
        self.conn().set_prepared_statement_cache_capacity(256);
        // WAL lets stations read while one writes; FULL makes every commit durable before the
        // screen confirms it.
        let mode: String =
            self.conn().query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(|e| self.err(e))?;
        if mode != "wal" && mode != "memory" {
            return Err(StoreError::CannotOpen {
                path: self.shown(),
                detail: format!("write-ahead logging could not be enabled (journal mode {mode})"),
            });
        }
        self.conn()
            .execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(|e| self.err(e))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let found = self.schema_version()?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew { path: self.shown(), found, known: SCHEMA_VERSION });
        }
        if found == SCHEMA_VERSION {
            return Ok(());
        }
        self.migrate_to(SCHEMA_VERSION)
    }

    /// Applies the migrations up to `target`, all in one transaction. Another process may be
    /// migrating at the same moment: the version is read again once the write lock is held.
    pub fn migrate_to(&mut self, target: u32) -> Result<(), StoreError> {
        let shown = self.shown();
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| classify(&shown, e))?;
        let found: u32 =
            tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| classify(&shown, e))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew { path: shown, found, known: SCHEMA_VERSION });
        }
        returns::give_mask_phone(&tx).map_err(|e| classify_db(&shown, e))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().take(target as usize).skip(found as usize) {
            tx.execute_batch(sql).map_err(|e| classify(&shown, e))?;
            // What SQL cannot do: hashes are computed here.
            if i + 1 == chain::SEALED_FROM_VERSION as usize {
                chain::seal_history(&tx).map_err(|e| classify_db(&shown, e))?;
            }
            if i as u32 + 1 == MASKED_PHONES {
                returns::fingerprint_masked_phones(&tx).map_err(|e| classify_db(&shown, e))?;
            }
            if i as u32 + 1 == BOXES {
                chain::log_receipts_made(&tx).map_err(|e| classify_db(&shown, e))?;
            }
            if i as u32 + 1 == EXPORT_MARKS {
                export::mark_earlier_batches(&tx).map_err(|e| classify_db(&shown, e))?;
            }
            if i as u32 + 1 == DOCKS_LOGGED {
                chain::log_parcel_docks(&*tx as &Connection).map_err(|e| classify_db(&shown, e))?;
            }
            if i as u32 + 1 == WORKBOOKS || i as u32 + 1 == SHIPMENTS {
                // The definition edited by hand: every connection reads the schema again.
                let v: i64 = tx
                    .query_row("PRAGMA schema_version", [], |r| r.get(0))
                    .map_err(|e| classify(&shown, e))?;
                tx.pragma_update(None, "schema_version", v + 1).map_err(|e| classify(&shown, e))?;
            }
            tx.pragma_update(None, "user_version", i as u32 + 1).map_err(|e| classify(&shown, e))?;
        }
        tx.commit().map_err(|e| classify(&shown, e))
    }

    /// `PRAGMA user_version`: 0 for a new file.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        if self.is_central() {
            use sql::SqlExt;
            let v: Option<String> = self
                .db()
                .value("SELECT value FROM returns_dock_meta WHERE key = 'schema_version'", sql::args![])
                .map_err(|e| self.err(e))?;
            return Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0));
        }
        self.conn().query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| self.err(e))
    }

    /// True when another connection (a running station, another command) has this database
    /// open. Every WAL connection holds a shared lock on the file while it is open, so the
    /// question is asked by taking the exclusive lock for a moment, without waiting. The store
    /// keeps that lock until it is dropped: ask only just before closing it.
    pub fn in_use_elsewhere(&mut self) -> Result<bool, StoreError> {
        if self.is_central() {
            // A server is in use by design; the demo, which asks, never runs on one.
            return Ok(true);
        }
        self.conn().busy_handler(None).map_err(|e| self.err(e))?;
        self.conn().execute_batch("PRAGMA locking_mode = EXCLUSIVE").map_err(|e| self.err(e))?;
        match self.conn().execute_batch("BEGIN EXCLUSIVE; COMMIT") {
            Ok(()) => Ok(false),
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
                ) =>
            {
                Ok(true)
            }
            Err(e) => Err(self.err(e)),
        }
    }

    /// The database as the store's operations speak to it, whichever engine it is.
    pub fn db(&self) -> &dyn sql::Sql {
        match &self.handle {
            Handle::File(c) => c,
            Handle::Central(pg) => pg.as_ref(),
        }
    }

    /// The docks on record: those named on the parcels received, in order.
    pub fn docks(&self) -> DbResult<Vec<String>> {
        docks(self.db())
    }

    /// Another connection to the same database (for work on a thread of its own).
    pub fn reopen(&self) -> Result<Store, StoreError> {
        match &self.address {
            Some(url) => Store::open(Path::new(url)),
            None => Store::open(&self.path),
        }
    }

    /// Where files the program writes beside its database go (the station's exports and its
    /// log): the file's folder, or the working folder for a central database.
    pub fn folder(&self) -> PathBuf {
        if self.is_central() {
            return PathBuf::from(".");
        }
        self.path.parent().map(Path::to_path_buf).unwrap_or_default()
    }

    /// How many round trips this handle has made to a central database's server (None for a
    /// file, which has none): what a step costs there, for the benchmark and the tests.
    pub fn round_trips(&self) -> Option<u64> {
        match &self.handle {
            Handle::File(_) => None,
            Handle::Central(pg) => Some(pg.round_trips()),
        }
    }

    /// Whether this is a central database (PostgreSQL) rather than a dock's file.
    pub fn is_central(&self) -> bool {
        matches!(self.handle, Handle::Central(_))
    }

    /// The SQLite connection of a dock's file, for what only a file has (its pragmas, its
    /// migrations, tests that look under the store). Not for a central database.
    pub fn conn(&self) -> &Connection {
        match &self.handle {
            Handle::File(c) => c,
            Handle::Central(_) => panic!("{}: a central database has no SQLite connection", self.shown()),
        }
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        let shown = self.shown();
        match &mut self.handle {
            Handle::File(c) => c,
            Handle::Central(_) => panic!("{shown}: a central database has no SQLite connection"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn shown(&self) -> String {
        self.path.display().to_string()
    }

    /// Turns an SQLite error into what the user needs to hear about this file; a lock that
    /// stayed held is said with what holds it, where that is known.
    pub fn err(&self, e: impl Into<DbError>) -> StoreError {
        match e.into() {
            DbError::Sqlite(e) => classify_on(self.conn(), &self.shown(), e),
            other => classify_db(&self.shown(), other),
        }
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        use sql::SqlExt;
        self.db().value("SELECT value FROM meta WHERE key = ?1", sql::args![key]).map_err(|e| self.err(e))
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.db()
            .exec(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                sql::args![key, value],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}

/// Builds the schema of an older version, `version`, in an empty database: its migrations'
/// SQL only, as that version of the program left it (for tests and benchmarks of migrating an
/// older database). Versions from the sealed log on need the program's own steps: refused.
pub fn older_schema(conn: &Connection, version: u32) -> rusqlite::Result<()> {
    assert!(version < chain::SEALED_FROM_VERSION, "older_schema builds versions before the sealed log");
    for sql in MIGRATIONS.iter().take(version as usize) {
        conn.execute_batch(sql)?;
    }
    conn.pragma_update(None, "user_version", version)
}

/// Appends to the audit log, sealed onto its chain; returns the entry's id, which orders events.
pub fn audit(
    db: &dyn sql::Sql,
    at: DateTime<FixedOffset>,
    station: Option<&str>,
    actor: Option<&str>,
    action: &str,
    subject: Option<&str>,
    detail: Option<&str>,
) -> DbResult<i64> {
    let at = timestamp(at);
    chain::append(db, &chain::Content { at: &at, station, actor, action, subject, detail })
}

/// How every time is written: the instant in UTC, RFC 3339 with milliseconds and `Z`. One
/// fixed form, so that text order is time order whatever the offset of the station that wrote
/// it; times are shown in the reader's zone.
pub fn timestamp(at: DateTime<FixedOffset>) -> String {
    at.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// As [`classify`], for an error the store answered with.
pub fn classify_db(path: &str, e: DbError) -> StoreError {
    match e {
        DbError::Sqlite(e) => classify(path, e),
        DbError::Postgres(e) => central::classify(path, e),
        DbError::Shape(detail) => StoreError::Engine { path: path.to_string(), detail },
        DbError::File(detail) => StoreError::Refused { path: path.to_string(), detail },
    }
}

pub fn classify(path: &str, e: rusqlite::Error) -> StoreError {
    let path = path.to_string();
    let detail = e.to_string();
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => StoreError::NotSqlite { path },
        Some(ErrorCode::DatabaseCorrupt) => StoreError::Damaged { path, detail },
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly { path, detail },
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
            StoreError::Busy { path, waited: last_wait().unwrap_or_default(), holder: None }
        }
        Some(ErrorCode::DiskFull) => StoreError::Full { path },
        Some(ErrorCode::CannotOpen) | Some(ErrorCode::PermissionDenied) => {
            StoreError::CannotOpen { path, detail }
        }
        _ => StoreError::Sql { path, source: e },
    }
}

/// As [`classify`], and when the database stayed locked, the message names what holds it if
/// that is a long-running command of ours (see [`work`]).
pub fn classify_on(conn: &Connection, path: &str, e: rusqlite::Error) -> StoreError {
    match classify(path, e) {
        StoreError::Busy { path, waited, .. } => {
            StoreError::Busy { path, waited, holder: work::holder(conn).ok().flatten() }
        }
        other => other,
    }
}

/// Whether `file` is the database at `db` or its `-wal`, `-shm` or journal file (same device and
/// inode). Only `stat`s are made: nothing is opened, so no lock this process holds on the
/// database can be dropped.
pub fn is_database_file(file: &Path, db: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(f) = std::fs::metadata(file) else { return false };
    crate::files::database_files(db)
        .any(|name| std::fs::metadata(name).is_ok_and(|d| d.dev() == f.dev() && d.ino() == f.ino()))
}

/// FNV-1a, 64 bits: a content fingerprint that is stable across builds and platforms (the
/// standard library's hasher is not), so re-importing an unchanged file finds it unchanged.
#[derive(Clone, Copy)]
pub struct Fingerprint(u64);

impl Default for Fingerprint {
    fn default() -> Self {
        Fingerprint(0xcbf2_9ce4_8422_2325)
    }
}

impl Fingerprint {
    pub fn add(&mut self, s: &str) {
        for b in s.bytes().chain(std::iter::once(0x1f)) {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    pub fn add_i64(&mut self, v: i64) {
        for b in v.to_le_bytes() {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    pub fn add_opt(&mut self, s: Option<&str>) {
        self.add(s.unwrap_or("\u{0}"));
    }

    pub fn value(self) -> i64 {
        self.0 as i64
    }
}

/// The docks named on the parcels of `db`, in order.
pub fn docks(db: &dyn sql::Sql) -> DbResult<Vec<String>> {
    use sql::SqlExt;
    db.map("SELECT DISTINCT dock FROM parcels WHERE dock IS NOT NULL ORDER BY dock", sql::args![], |r| {
        r.get(0)
    })
}
