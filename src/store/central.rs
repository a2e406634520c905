//! The central database: PostgreSQL, for the stations of several docks on one server
//! (`--db postgresql://…`). SQLite stays the embedded default for a dock on one machine.
//!
//! Opening one is what opening an SQLite file is: a database that holds tables of its own and
//! not ours is refused and left untouched; one made by a newer program is refused; a fresh one
//! gets our schema, in order, in one transaction, under an advisory lock so that stations
//! starting at once migrate it once. The schema is `migrations_pg/`, append-only like
//! `migrations/`; its version is kept in `returns_dock_meta`.

use super::sql::{args, in_tx, Mode, Pg, Sql, SqlExt};
use super::{DbError, DbResult, StoreError};
use postgres::{Client, NoTls};

/// The central schema's migrations, in order; the version is the count applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations_pg/0001_meta.sql"),
    include_str!("../../migrations_pg/0002_records.sql"),
    include_str!("../../migrations_pg/0003_docks.sql"),
    include_str!("../../migrations_pg/0004_docks_on_record.sql"),
    include_str!("../../migrations_pg/0005_station_steps.sql"),
    include_str!("../../migrations_pg/0006_destinations.sql"),
    include_str!("../../migrations_pg/0007_photos.sql"),
    include_str!("../../migrations_pg/0008_manifests.sql"),
    include_str!("../../migrations_pg/0009_workbooks.sql"),
    include_str!("../../migrations_pg/0010_shipments.sql"),
];

/// The step from which the log carries a parcel's dock: opening a database from before it logs
/// every parcel's dock (`chain::log_parcel_docks`), once every step has run.
const DOCKS_LOGGED: u32 = 4;

/// The schema version this program makes and knows.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Any key will do, as long as every returns-dock uses the same one: it serialises the first
/// opening of a database by stations starting at once.
const MIGRATION_LOCK: i64 = 0x0072_6574_7572_6e73;

/// Whether `db` names a PostgreSQL server rather than a file.
pub fn is_address(db: &str) -> bool {
    let lower = db.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// The address as it may be shown: its password, if any, left out.
pub fn shown(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let base = match base.split_once("://").and_then(|(scheme, rest)| Some((scheme, rest.rsplit_once('@')?)))
    {
        Some((scheme, (auth, host))) if auth.contains(':') => {
            let user = auth.split_once(':').map_or(auth, |(user, _)| user);
            format!("{scheme}://{user}:***@{host}")
        }
        _ => base.to_string(),
    };
    match query {
        // A password given as a parameter is left out the same way.
        Some(q) => {
            let params: Vec<&str> = q
                .split('&')
                .map(|kv| if kv.to_ascii_lowercase().starts_with("password=") { "password=***" } else { kv })
                .collect();
            format!("{base}?{}", params.join("&"))
        }
        None => base,
    }
}

/// An open central database.
pub struct Central {
    db: Pg,
    address: String,
    /// The address as given (with its password), to connect again after a server restart.
    url: String,
}

impl Central {
    /// Connects to the server at `url`, checks the database is ours (or empty) and not newer,
    /// and brings its schema up to date.
    pub fn open(url: &str) -> Result<Central, StoreError> {
        let central = Central::connect(url)?;
        central.migrate()?;
        Ok(central)
    }

    /// As [`Central::open`], for a database that must be ours already (the commands that only
    /// read, as for a file that must exist): an empty or mistyped database is said, and nothing
    /// is made in it.
    pub fn open_existing(url: &str) -> Result<Central, StoreError> {
        let central = Central::connect(url)?;
        if !central.ours().map_err(|e| central.err(e))? {
            return Err(StoreError::Missing { path: central.address.clone() });
        }
        central.migrate()?;
        Ok(central)
    }

    /// Connects, the session set as the store wants it: it waits for a row lock no longer than
    /// the busy timeout (as SQLite waits for its write lock), and reads and writes times in UTC.
    fn connect(url: &str) -> Result<Central, StoreError> {
        let address = shown(url);
        let mut client = Client::connect(url, NoTls)
            .map_err(|e| StoreError::CannotOpen { path: address.clone(), detail: one_line(&e) })?;
        client
            .batch_execute(&settings())
            .map_err(|e| StoreError::CannotOpen { path: address.clone(), detail: one_line(&e) })?;
        Ok(Central { db: Pg::new(client), address, url: url.to_string() })
    }

    /// The open database as the store speaks to it, connecting again (with the same settings)
    /// after the server went away between two transactions.
    pub fn into_sql(self) -> Result<Pg, StoreError> {
        Ok(self.db.reconnecting_to(&self.url, &settings()))
    }

    /// The address as it may be shown (no password).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The schema version the database is at.
    pub fn schema_version(&mut self) -> Result<u32, StoreError> {
        version(&self.db).map_err(|e| self.err(e))
    }

    /// Whether our own table is there.
    fn ours(&self) -> DbResult<bool> {
        self.db.one("SELECT to_regclass('public.returns_dock_meta') IS NOT NULL", args![])
    }

    /// Brings the schema up to date in one transaction, with the steps SQL cannot do (hashes
    /// computed here) in the same transaction as the step they follow.
    fn migrate(&self) -> Result<(), StoreError> {
        let db: &dyn Sql = &self.db;
        let address = &self.address;
        // A refusal rolls the transaction back like an error: nothing is made.
        let mut refused: Option<StoreError> = None;
        let mut refuse = |why: StoreError| {
            refused = Some(why);
            DbError::shape("refused".to_string())
        };
        let done = in_tx(db, Mode::Write, |tx| {
            tx.exec("SELECT pg_advisory_xact_lock(?1)", args![MIGRATION_LOCK])?;
            let found = if self.ours()? {
                version(tx)?
            } else {
                // Somebody else's database: any table at all in its public schema.
                let tables: i64 = tx.one(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
                    args![],
                )?;
                if tables > 0 {
                    return Err(refuse(StoreError::NotOurs {
                        path: address.clone(),
                        detail: if tables == 1 {
                            "it holds a table of its own".to_string()
                        } else {
                            format!("it holds {tables} tables of its own")
                        },
                    }));
                }
                0
            };
            if found > SCHEMA_VERSION {
                return Err(refuse(StoreError::TooNew {
                    path: address.clone(),
                    found,
                    known: SCHEMA_VERSION,
                }));
            }
            for (n, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
                if let Err(e) = tx.batch(sql) {
                    let detail = match e {
                        DbError::Postgres(e) => one_line(&e),
                        other => other.to_string(),
                    };
                    return Err(refuse(StoreError::CannotOpen {
                        path: address.clone(),
                        detail: format!("schema step {}: {detail}", n + 1),
                    }));
                }
            }
            // After every step: appending to the log uses what later steps make (step 5's
            // `audit_log_head`).
            if found < DOCKS_LOGGED {
                super::chain::log_parcel_docks(tx)?;
            }
            if found < SCHEMA_VERSION {
                tx.exec(
                    "INSERT INTO returns_dock_meta (key, value) VALUES ('schema_version', ?1)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    args![SCHEMA_VERSION.to_string()],
                )?;
            }
            Ok(())
        });
        match (done, refused) {
            (Ok(()), _) => Ok(()),
            (Err(_), Some(refused)) => Err(refused),
            (Err(e), None) => Err(self.err(e)),
        }
    }

    fn err(&self, e: DbError) -> StoreError {
        match e {
            DbError::Postgres(e) => {
                StoreError::CannotOpen { path: self.address.clone(), detail: one_line(&e) }
            }
            other => super::classify_db(&self.address, other),
        }
    }
}

/// The tables whose rows are history: a role that is not the owner may add to them and read
/// them, never change or remove what is there (the triggers refuse it to the owner as well).
const APPEND_ONLY: &[&str] = &["audit_log", "unit_steps"];

/// The grants that let `role` run the stations and the commands on a central database it does
/// not own: read and write the records, take ids from the sequences, only add to the history
/// (no UPDATE, DELETE or TRUNCATE on the log and the units' steps), and only read the schema's
/// version (the owner brings the schema up to date). Run again after an update that adds a
/// table. The role's name is quoted, so any name the server allows may be given.
pub fn grants(role: &str) -> Result<String, String> {
    if role.is_empty() || role.len() > 63 || role.contains('\0') {
        return Err(format!("{role:?}: not a role name (1 to 63 bytes)"));
    }
    let r = format!("\"{}\"", role.replace('"', "\"\""));
    let history = APPEND_ONLY.join(", ");
    Ok(format!(
        "GRANT USAGE ON SCHEMA public TO {r};\n\
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r};\n\
         REVOKE UPDATE, DELETE, TRUNCATE ON {history} FROM {r};\n\
         REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON returns_dock_meta FROM {r};\n\
         GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r};\n"
    ))
}

impl Central {
    /// Gives `role` the [`grants`], in one transaction (run by the database's owner).
    pub fn grant(&self, role: &str) -> Result<(), StoreError> {
        let sql =
            grants(role).map_err(|detail| StoreError::Refused { path: self.address.clone(), detail })?;
        in_tx(&self.db, Mode::Write, |tx| tx.batch(&sql)).map_err(|e| self.err(e))
    }
}

/// The session's settings, on every connection.
fn settings() -> String {
    format!("SET lock_timeout = {}; SET TimeZone = 'UTC'", super::busy_timeout().as_millis())
}

/// The schema version recorded (0 when none is).
fn version(db: &dyn Sql) -> DbResult<u32> {
    let v: Option<String> =
        db.value("SELECT value FROM returns_dock_meta WHERE key = 'schema_version'", args![])?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// What a server's error means for the user: a lost or refused connection, a full disk, a
/// read-only server, a lock waited on too long, else the server's own words.
pub fn classify(path: &str, e: postgres::Error) -> StoreError {
    let path = path.to_string();
    let detail = one_line(&e);
    let Some(db) = e.as_db_error() else { return StoreError::CannotOpen { path, detail } };
    match db.code().code() {
        "53100" => StoreError::Full { path },
        "25006" => StoreError::ReadOnly { path, detail },
        "55P03" | "57014" => StoreError::Busy { path, waited: super::busy_timeout(), holder: None },
        c if c.starts_with("08") || c.starts_with("28") || c.starts_with("57P") => {
            StoreError::CannotOpen { path, detail }
        }
        _ => StoreError::Engine { path, detail },
    }
}

/// A driver error on one line, with the server's own message where there is one.
fn one_line(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text = format!("{text}: {s}");
                source = s.source();
            }
            text.replace('\n', " ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_told_from_files_and_shown_without_their_password() {
        assert!(is_address("postgresql://dock@db.example/returns"));
        assert!(is_address("Postgres://dock@db/returns"));
        assert!(!is_address("returns-dock.db"));
        assert!(!is_address("./postgres/returns.db"));
        assert_eq!(
            shown("postgresql://dock:s3cret@db:5432/returns"),
            "postgresql://dock:***@db:5432/returns"
        );
        assert_eq!(shown("postgresql://dock@db/returns"), "postgresql://dock@db/returns");
        assert_eq!(shown("postgresql://db/returns"), "postgresql://db/returns");
        assert_eq!(
            shown("postgresql://dock@db/returns?sslmode=disable&password=s3cret"),
            "postgresql://dock@db/returns?sslmode=disable&password=***"
        );
        assert_eq!(shown("postgresql://dock:pw@db/r?PASSWORD=x"), "postgresql://dock:***@db/r?password=***");
    }
}
