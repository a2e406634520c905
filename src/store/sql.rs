//! One way for the store to speak SQL to either engine: SQLite (the file of one dock) and
//! PostgreSQL (the central database of several). A store function is written once, against
//! [`Sql`], with `?1`-style parameters and SQL both engines read; the few places where the
//! engines differ ask [`Sql::engine`].
//!
//! Values cross as [`Cell`]s: integers, reals, text, bytes or null. Times are text in the one
//! form the dock writes (`2026-11-22T01:15:02.123Z`): SQLite keeps that text, PostgreSQL a
//! `timestamptz`, converted both ways here, so text order stays time order for the code above.
//! Flags are the integers 0 and 1 on both, so `WHERE x = 0` means the same everywhere.

use super::{DbError, DbResult};
use std::cell::RefCell;
use std::collections::HashMap;

/// Which engine a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// One value in or out of a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

/// What a statement can be given.
pub trait Arg {
    fn cell(&self) -> Cell;
}

impl Arg for Cell {
    fn cell(&self) -> Cell {
        self.clone()
    }
}

macro_rules! int_arg {
    ($($t:ty),*) => {$(
        impl Arg for $t {
            fn cell(&self) -> Cell {
                Cell::Int(*self as i64)
            }
        }
    )*};
}
int_arg!(i64, i32, u32, u16, u8, usize, u64);

impl Arg for bool {
    fn cell(&self) -> Cell {
        Cell::Int(i64::from(*self))
    }
}

impl Arg for f64 {
    fn cell(&self) -> Cell {
        Cell::Real(*self)
    }
}

impl Arg for str {
    fn cell(&self) -> Cell {
        Cell::Text(self.to_string())
    }
}

impl Arg for String {
    fn cell(&self) -> Cell {
        Cell::Text(self.clone())
    }
}

impl<T: Arg + ?Sized> Arg for &T {
    fn cell(&self) -> Cell {
        (**self).cell()
    }
}

impl<T: Arg> Arg for Option<T> {
    fn cell(&self) -> Cell {
        self.as_ref().map_or(Cell::Null, Arg::cell)
    }
}

/// The arguments of a statement: `args![id, name]`.
#[macro_export]
macro_rules! args {
    () => { &[] as &[&dyn $crate::store::sql::Arg] };
    ($($a:expr),+ $(,)?) => { &[$(&$a as &dyn $crate::store::sql::Arg),+] as &[&dyn $crate::store::sql::Arg] };
}
pub use args;

/// What a value read can become.
pub trait FromCell: Sized {
    fn from_cell(c: &Cell) -> Option<Self>;
}

impl FromCell for Cell {
    fn from_cell(c: &Cell) -> Option<Self> {
        Some(c.clone())
    }
}

impl FromCell for i64 {
    fn from_cell(c: &Cell) -> Option<Self> {
        match c {
            Cell::Int(v) => Some(*v),
            _ => None,
        }
    }
}

macro_rules! int_from {
    ($($t:ty),*) => {$(
        impl FromCell for $t {
            fn from_cell(c: &Cell) -> Option<Self> {
                i64::from_cell(c).and_then(|v| <$t>::try_from(v).ok())
            }
        }
    )*};
}
int_from!(i32, u32, u16, u8, usize, u64);

impl FromCell for bool {
    fn from_cell(c: &Cell) -> Option<Self> {
        i64::from_cell(c).map(|v| v != 0)
    }
}

impl FromCell for f64 {
    fn from_cell(c: &Cell) -> Option<Self> {
        match c {
            Cell::Real(v) => Some(*v),
            Cell::Int(v) => Some(*v as f64),
            _ => None,
        }
    }
}

impl FromCell for String {
    fn from_cell(c: &Cell) -> Option<Self> {
        match c {
            Cell::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl FromCell for Vec<u8> {
    fn from_cell(c: &Cell) -> Option<Self> {
        match c {
            Cell::Bytes(b) => Some(b.clone()),
            Cell::Text(s) => Some(s.clone().into_bytes()),
            _ => None,
        }
    }
}

impl<T: FromCell> FromCell for Option<T> {
    fn from_cell(c: &Cell) -> Option<Self> {
        match c {
            Cell::Null => Some(None),
            other => T::from_cell(other).map(Some),
        }
    }
}

/// A row read.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    cells: Vec<Cell>,
}

impl Row {
    /// Column `i` as a `T`; a value of another kind is an error that names the column.
    pub fn get<T: FromCell>(&self, i: usize) -> DbResult<T> {
        let cell = self.cells.get(i).ok_or_else(|| DbError::shape(format!("no column {i}")))?;
        T::from_cell(cell).ok_or_else(|| {
            DbError::shape(format!("column {i} holds {cell:?}, not a {}", std::any::type_name::<T>()))
        })
    }
}

/// A connection (or a transaction on one) of either engine.
pub trait Sql {
    fn engine(&self) -> Engine;
    /// Runs a statement; how many rows it changed.
    fn exec(&self, sql: &str, args: &[&dyn Arg]) -> DbResult<usize>;
    /// Runs statements without arguments, one after the other.
    fn batch(&self, sql: &str) -> DbResult<()>;
    /// Calls `f` with each row, in order, without holding them all.
    fn each(&self, sql: &str, args: &[&dyn Arg], f: &mut dyn FnMut(&Row) -> DbResult<()>) -> DbResult<()>;

    /// The audit chain's head (id and hash) as this transaction left it, when the handle keeps
    /// it: on a server, once a transaction's first append holds the appenders' lock, nobody else
    /// appends before it ends, so its own last entry is the head and need not be read again.
    fn chain_head(&self) -> Option<(i64, String)> {
        None
    }

    /// Keeps the head this transaction just appended (see [`Sql::chain_head`]).
    fn keep_chain_head(&self, _id: i64, _hash: &str) {}

    /// The SQLite connection, when this is one (for the move onto `Sql`, see [`Bridge`]).
    fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        None
    }

    /// The PostgreSQL handle, when this is one (for what only the server has: COPY).
    fn as_pg(&self) -> Option<&Pg> {
        None
    }

    /// Every row.
    fn rows(&self, sql: &str, args: &[&dyn Arg]) -> DbResult<Vec<Row>> {
        let mut out = Vec::new();
        self.each(sql, args, &mut |r| {
            out.push(r.clone());
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row, if any.
    fn row(&self, sql: &str, args: &[&dyn Arg]) -> DbResult<Option<Row>> {
        let mut first = None;
        self.each(sql, args, &mut |r| {
            if first.is_none() {
                first = Some(r.clone());
            }
            Ok(())
        })?;
        Ok(first)
    }
}

/// What a transaction is for: a write (on SQLite, the write lock is taken at its start, so a
/// writer waits at BEGIN and never half way), or a read that sees one snapshot throughout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Write,
    Read,
    /// A write whose commit need not wait for the disk: an import's chunk, made durable by the
    /// run's last commit (SQLite: the connection's `synchronous = NORMAL`, which the import
    /// sets; PostgreSQL: `synchronous_commit = off` for that transaction). A crash may lose
    /// the newest chunks, never half of one, and running the import again completes it.
    Chunk,
}

/// Runs `f` in one transaction of `mode` and commits; rolls back when `f` fails. On
/// PostgreSQL a write runs at READ COMMITTED, where unique constraints and row locks decide
/// races, and a read at REPEATABLE READ, one snapshot throughout.
pub fn in_tx<T>(db: &dyn Sql, mode: Mode, f: impl FnOnce(&dyn Sql) -> DbResult<T>) -> DbResult<T> {
    begin(db, mode)?;
    match f(db) {
        Ok(out) => {
            if let Err(e) = db.batch("COMMIT") {
                let _ = db.batch("ROLLBACK");
                return Err(e);
            }
            Ok(out)
        }
        Err(e) => {
            let _ = db.batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Begins a transaction of `mode` as [`in_tx`] does, for a value that holds one across several
/// calls; its owner commits (`COMMIT`) or rolls back (`ROLLBACK`) itself, also when dropped.
///
/// On PostgreSQL a write whose program stops answering inside it (a station frozen, powered
/// off or cut off the network in the middle of a step) would keep its locks, the log's append
/// lock among them, until the server noticed the connection gone: hours, by TCP keepalive,
/// and every other station's writes not saved meanwhile. So the server ends a writer's
/// session once it has sat idle inside its transaction for [`idle_writer`]; the step it was
/// in was never confirmed, and is rolled back.
pub(crate) fn begin(db: &dyn Sql, mode: Mode) -> DbResult<()> {
    match (db.engine(), mode) {
        (Engine::Sqlite, Mode::Write | Mode::Chunk) => db.batch("BEGIN IMMEDIATE"),
        (Engine::Sqlite, Mode::Read) => db.batch("BEGIN DEFERRED"),
        (Engine::Postgres, Mode::Write) => db.batch(&format!(
            "BEGIN; SET LOCAL idle_in_transaction_session_timeout = {}",
            idle_writer().as_millis()
        )),
        (Engine::Postgres, Mode::Chunk) => db.batch(&format!(
            "BEGIN; SET LOCAL idle_in_transaction_session_timeout = {}; SET LOCAL synchronous_commit = off",
            idle_writer().as_millis()
        )),
        (Engine::Postgres, Mode::Read) => db.batch("BEGIN ISOLATION LEVEL REPEATABLE READ"),
    }
}

/// How long a writer of ours may sit idle inside its transaction on the server before it is
/// taken for gone: the busy timeout other writers wait for its locks, and never under 5 s (our
/// writers run their statements back to back; an import's chunk lasts 40 ms).
pub fn idle_writer() -> std::time::Duration {
    super::busy_timeout().max(std::time::Duration::from_secs(5))
}

/// Whether an error is a broken unique or check constraint (a race lost to another writer).
pub fn is_constraint(e: &DbError) -> bool {
    match e {
        DbError::Sqlite(e) => e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation),
        DbError::Postgres(e) => e.code().is_some_and(|c| c.code().starts_with("23")),
        DbError::Shape(_) | DbError::File(_) => false,
    }
}

/// Helpers over [`Sql`] with generic results.
pub trait SqlExt: Sql {
    /// The first column of the first row (None when there is no row).
    fn value<T: FromCell>(&self, sql: &str, args: &[&dyn Arg]) -> DbResult<Option<T>> {
        self.row(sql, args)?.map(|r| r.get(0)).transpose()
    }

    /// The first column of the one row a statement must give.
    fn one<T: FromCell>(&self, sql: &str, args: &[&dyn Arg]) -> DbResult<T> {
        self.value(sql, args)?.ok_or_else(|| DbError::shape(format!("no row from: {}", first_line(sql))))
    }

    /// Each row made into a `T`.
    fn map<T>(&self, sql: &str, args: &[&dyn Arg], f: impl Fn(&Row) -> DbResult<T>) -> DbResult<Vec<T>> {
        let mut out = Vec::new();
        self.each(sql, args, &mut |r| {
            out.push(f(r)?);
            Ok(())
        })?;
        Ok(out)
    }
}

impl<S: Sql + ?Sized> SqlExt for S {}

fn first_line(sql: &str) -> &str {
    sql.trim().lines().next().unwrap_or("")
}

// ---- SQLite ------------------------------------------------------------------------------

impl Sql for rusqlite::Connection {
    fn engine(&self) -> Engine {
        Engine::Sqlite
    }

    fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        Some(self)
    }

    fn exec(&self, sql: &str, args: &[&dyn Arg]) -> DbResult<usize> {
        let mut stmt = self.prepare_cached(sql)?;
        Ok(stmt.execute(rusqlite::params_from_iter(args.iter().map(|a| Lite(a.cell()))))?)
    }

    fn batch(&self, sql: &str) -> DbResult<()> {
        Ok(self.execute_batch(sql)?)
    }

    fn each(&self, sql: &str, args: &[&dyn Arg], f: &mut dyn FnMut(&Row) -> DbResult<()>) -> DbResult<()> {
        let mut stmt = self.prepare_cached(sql)?;
        let n = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(args.iter().map(|a| Lite(a.cell()))))?;
        while let Some(r) = rows.next()? {
            let mut cells = Vec::with_capacity(n);
            for i in 0..n {
                cells.push(match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => Cell::Null,
                    rusqlite::types::ValueRef::Integer(v) => Cell::Int(v),
                    rusqlite::types::ValueRef::Real(v) => Cell::Real(v),
                    rusqlite::types::ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                    rusqlite::types::ValueRef::Blob(b) => Cell::Bytes(b.to_vec()),
                });
            }
            f(&Row { cells })?;
        }
        Ok(())
    }
}

/// A cell as SQLite takes it.
struct Lite(Cell);

impl rusqlite::ToSql for Lite {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match &self.0 {
            Cell::Null => ValueRef::Null,
            Cell::Int(v) => ValueRef::Integer(*v),
            Cell::Real(v) => ValueRef::Real(*v),
            Cell::Text(s) => ValueRef::Text(s.as_bytes()),
            Cell::Bytes(b) => ValueRef::Blob(b),
        }))
    }
}

// ---- PostgreSQL --------------------------------------------------------------------------

/// A PostgreSQL connection as the store speaks to it. The driver wants `&mut` for every
/// statement and the store's functions share one handle, so the client is kept in a `RefCell`
/// (one statement runs at a time, as on SQLite). Transactions are statements (`in_tx`), so
/// one handle serves inside and outside them. Statements are prepared once and kept.
pub struct Pg {
    client: RefCell<postgres::Client>,
    prepared: RefCell<HashMap<String, postgres::Statement>>,
    /// How to connect again after the server went away (a restart), with the session's
    /// settings: None for a handle that must not.
    again: Option<(String, String)>,
    /// Inside a transaction (between BEGIN and COMMIT or ROLLBACK): a connection lost there is
    /// never replaced silently, or the rest of the transaction would run without it.
    in_tx: std::cell::Cell<bool>,
    /// Round trips made so far (statements, prepares, transaction control): what a step costs
    /// on a server, counted for the benchmark and the tests.
    trips: std::cell::Cell<u64>,
    /// The chain's head this transaction appended last, while it holds the appenders' lock
    /// (see [`Sql::chain_head`]); forgotten whenever the transaction or a savepoint ends in a
    /// rollback, or ends at all.
    head: RefCell<Option<(i64, String)>>,
}

impl Pg {
    pub fn new(client: postgres::Client) -> Pg {
        Pg {
            client: RefCell::new(client),
            prepared: RefCell::new(HashMap::new()),
            again: None,
            in_tx: std::cell::Cell::new(false),
            trips: std::cell::Cell::new(0),
            head: RefCell::new(None),
        }
    }

    /// How many round trips to the server this handle has made.
    pub fn round_trips(&self) -> u64 {
        self.trips.get()
    }

    fn trip(&self) {
        self.trips.set(self.trips.get() + 1);
    }

    /// A handle that connects again to `url` (running `settings` first) when the server went
    /// away between two transactions: the statement that found it gone fails (and says so), the
    /// next one runs on a new connection.
    pub fn reconnecting(client: postgres::Client, url: &str, settings: &str) -> Pg {
        Pg { again: Some((url.to_string(), settings.to_string())), ..Pg::new(client) }
    }

    /// This handle, from now on connecting again as [`Pg::reconnecting`] does.
    pub fn reconnecting_to(mut self, url: &str, settings: &str) -> Pg {
        self.again = Some((url.to_string(), settings.to_string()));
        self
    }

    /// Before a statement: a connection that is gone is replaced, outside a transaction.
    fn ready(&self) -> DbResult<()> {
        if !self.client.borrow().is_closed() || self.in_tx.get() {
            return Ok(());
        }
        let Some((url, settings)) = &self.again else { return Ok(()) };
        let mut client = postgres::Client::connect(url, postgres::NoTls)?;
        client.batch_execute(settings)?;
        *self.client.borrow_mut() = client;
        self.prepared.borrow_mut().clear();
        Ok(())
    }

    fn statement(&self, sql: &str) -> DbResult<postgres::Statement> {
        self.ready()?;
        if let Some(s) = self.prepared.borrow().get(sql) {
            return Ok(s.clone());
        }
        self.trip();
        let stmt = self.client.borrow_mut().prepare(&dollar_params(sql))?;
        self.prepared.borrow_mut().insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }
}

/// Where [`Pg::copy_in`]'s rows go, one row's cells at a time.
pub type RowSink<'a> = dyn FnMut(&[Cell]) -> DbResult<()> + 'a;

impl Pg {
    /// Loads rows into `table` with COPY (text format), the server's fastest way in: each row's
    /// cells in `columns`' order. Returns how many rows went in.
    pub fn copy_in(
        &self,
        table: &str,
        columns: &[String],
        rows: &mut dyn FnMut(&mut RowSink<'_>) -> DbResult<()>,
    ) -> DbResult<u64> {
        use std::io::Write;
        let mut client = self.client.borrow_mut();
        let sql = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
        let mut writer = client.copy_in(sql.as_str())?;
        let mut line = String::new();
        let mut failed: Option<std::io::Error> = None;
        rows(&mut |cells| {
            line.clear();
            for (i, c) in cells.iter().enumerate() {
                if i > 0 {
                    line.push('\t');
                }
                copy_text(c, &mut line);
            }
            line.push('\n');
            if let Err(e) = writer.write_all(line.as_bytes()) {
                failed.get_or_insert(e);
            }
            Ok(())
        })?;
        if let Some(e) = failed {
            return Err(DbError::shape(format!("COPY into {table}: {e}")));
        }
        Ok(writer.finish()?)
    }
}

/// A cell as COPY's text format writes it: `\N` for null, backslash escapes for the tab, the
/// line break, the carriage return and the backslash itself; bytes as `\x` hex.
fn copy_text(c: &Cell, out: &mut String) {
    match c {
        Cell::Null => out.push_str("\\N"),
        Cell::Int(v) => out.push_str(&v.to_string()),
        Cell::Real(v) => out.push_str(&format!("{v:?}")),
        Cell::Text(s) => {
            for ch in s.chars() {
                match ch {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    other => out.push(other),
                }
            }
        }
        Cell::Bytes(b) => {
            // A photo is megabytes: two digits a byte, without a format each.
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\\\x");
            out.reserve(b.len() * 2);
            for byte in b {
                out.push(HEX[usize::from(byte >> 4)] as char);
                out.push(HEX[usize::from(byte & 15)] as char);
            }
        }
    }
}

impl Sql for Pg {
    fn engine(&self) -> Engine {
        Engine::Postgres
    }

    fn as_pg(&self) -> Option<&Pg> {
        Some(self)
    }

    fn exec(&self, sql: &str, args: &[&dyn Arg]) -> DbResult<usize> {
        let stmt = self.statement(sql)?;
        self.trip();
        let cells: Vec<Cell> = args.iter().map(|a| a.cell()).collect();
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> =
            cells.iter().map(|c| c as &(dyn postgres::types::ToSql + Sync)).collect();
        let n = self.client.borrow_mut().execute(&stmt, &params)?;
        Ok(n as usize)
    }

    fn batch(&self, sql: &str) -> DbResult<()> {
        self.trip();
        let word =
            sql.split(|c: char| c.is_whitespace() || c == ';').next().unwrap_or("").to_ascii_uppercase();
        match word.as_str() {
            // Inside a transaction only once it began: a BEGIN that found the server gone
            // leaves the handle free to connect again at the next step.
            "BEGIN" | "START" => {
                self.head.replace(None);
                self.ready()?;
                self.client.borrow_mut().batch_execute(sql)?;
                self.in_tx.set(true);
                return Ok(());
            }
            // A rollback to a savepoint may take back entries appended since, and the lock
            // with them: the head is read again at the next append.
            "ROLLBACK" | "ABORT" if sql.to_ascii_uppercase().contains(" TO ") => {
                self.head.replace(None);
            }
            "COMMIT" | "ROLLBACK" | "END" | "ABORT" => {
                self.head.replace(None);
                self.in_tx.set(false)
            }
            _ => self.ready()?,
        }
        Ok(self.client.borrow_mut().batch_execute(sql)?)
    }

    fn chain_head(&self) -> Option<(i64, String)> {
        self.head.borrow().clone().filter(|_| self.in_tx.get())
    }

    fn keep_chain_head(&self, id: i64, hash: &str) {
        if self.in_tx.get() {
            self.head.replace(Some((id, hash.to_string())));
        }
    }

    fn each(&self, sql: &str, args: &[&dyn Arg], f: &mut dyn FnMut(&Row) -> DbResult<()>) -> DbResult<()> {
        use postgres::fallible_iterator::FallibleIterator;
        let stmt = self.statement(sql)?;
        self.trip();
        let cells: Vec<Cell> = args.iter().map(|a| a.cell()).collect();
        // The rows are read before `f` sees them, so `f` may run statements of its own.
        let rows: Vec<Row> = {
            let mut client = self.client.borrow_mut();
            let mut found = Vec::new();
            let mut rows = client.query_raw(&stmt, cells.iter())?;
            while let Some(r) = rows.next()? {
                found.push(pg_row(&r)?);
            }
            found
        };
        for r in &rows {
            f(r)?;
        }
        Ok(())
    }
}

/// `?1`, `?2`, … as PostgreSQL writes them (`$1`, `$2`, …), outside quoted text.
pub fn dollar_params(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '?' => {
                out.push('$');
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
}

/// A PostgreSQL row as cells: integers of any width, booleans as 0 and 1, and times as the
/// dock's text form.
fn pg_row(r: &postgres::Row) -> DbResult<Row> {
    use postgres::types::Type;
    let mut cells = Vec::with_capacity(r.len());
    for (i, col) in r.columns().iter().enumerate() {
        let t = col.type_();
        let cell = if *t == Type::INT8 {
            r.try_get::<_, Option<i64>>(i)?.map_or(Cell::Null, Cell::Int)
        } else if *t == Type::INT4 {
            r.try_get::<_, Option<i32>>(i)?.map_or(Cell::Null, |v| Cell::Int(v.into()))
        } else if *t == Type::INT2 {
            r.try_get::<_, Option<i16>>(i)?.map_or(Cell::Null, |v| Cell::Int(v.into()))
        } else if *t == Type::BOOL {
            r.try_get::<_, Option<bool>>(i)?.map_or(Cell::Null, |v| Cell::Int(v.into()))
        } else if *t == Type::FLOAT8 {
            r.try_get::<_, Option<f64>>(i)?.map_or(Cell::Null, Cell::Real)
        } else if *t == Type::FLOAT4 {
            r.try_get::<_, Option<f32>>(i)?.map_or(Cell::Null, |v| Cell::Real(v.into()))
        } else if *t == Type::TIMESTAMPTZ {
            r.try_get::<_, Option<chrono::DateTime<chrono::Utc>>>(i)?
                .map_or(Cell::Null, |v| Cell::Text(super::timestamp(v.fixed_offset())))
        } else if *t == Type::BYTEA {
            r.try_get::<_, Option<Vec<u8>>>(i)?.map_or(Cell::Null, Cell::Bytes)
        } else {
            r.try_get::<_, Option<String>>(i)?.map_or(Cell::Null, Cell::Text)
        };
        cells.push(cell);
    }
    Ok(Row { cells })
}

impl postgres::types::ToSql for Cell {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::{IsNull, Type};
        match self {
            Cell::Null => Ok(IsNull::Yes),
            Cell::Int(v) if *ty == Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
            Cell::Int(v) if *ty == Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
            Cell::Int(v) if *ty == Type::BOOL => (*v != 0).to_sql(ty, out),
            Cell::Int(v) if *ty == Type::FLOAT8 => (*v as f64).to_sql(ty, out),
            Cell::Int(v) if *ty == Type::TEXT || *ty == Type::VARCHAR => v.to_string().to_sql(ty, out),
            Cell::Int(v) => v.to_sql(ty, out),
            Cell::Real(v) => v.to_sql(ty, out),
            Cell::Text(s) if *ty == Type::TIMESTAMPTZ => {
                chrono::DateTime::parse_from_rfc3339(s)?.with_timezone(&chrono::Utc).to_sql(ty, out)
            }
            Cell::Text(s) if *ty == Type::INT8 => s.trim().parse::<i64>()?.to_sql(ty, out),
            Cell::Text(s) => s.as_str().to_sql(ty, out),
            Cell::Bytes(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}
