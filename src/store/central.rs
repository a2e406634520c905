//! The central database: PostgreSQL, for the stations of several docks on one server
//! (`--db postgresql://…`). SQLite stays the embedded default for a dock on one machine.
//!
//! Opening one is what opening an SQLite file is: a database that holds tables of its own and
//! not ours is refused and left untouched; one made by a newer program is refused; a fresh one
//! gets our schema, in order, in one transaction, under an advisory lock so that stations
//! starting at once migrate it once. The schema is `migrations_pg/`, append-only like
//! `migrations/`; its version is kept in `returns_dock_meta`.

use super::StoreError;
use postgres::{Client, NoTls};

/// The central schema's migrations, in order; the version is the count applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations_pg/0001_meta.sql"),
    include_str!("../../migrations_pg/0002_records.sql"),
    include_str!("../../migrations_pg/0003_docks.sql"),
    include_str!("../../migrations_pg/0004_station_steps.sql"),
];

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
    client: Client,
    address: String,
    /// The address as given (with its password), to connect again after a server restart.
    url: String,
}

impl Central {
    /// Connects to the server at `url`, checks the database is ours (or empty) and not newer,
    /// and brings its schema up to date.
    pub fn open(url: &str) -> Result<Central, StoreError> {
        let mut central = Central::connect(url)?;
        central.migrate()?;
        Ok(central)
    }

    /// As [`Central::open`], for a database that must be ours already (the commands that only
    /// read, as for a file that must exist): an empty or mistyped database is said, and nothing
    /// is made in it.
    pub fn open_existing(url: &str) -> Result<Central, StoreError> {
        let mut central = Central::connect(url)?;
        let ours: bool = central
            .client
            .query_one("SELECT to_regclass('public.returns_dock_meta') IS NOT NULL", &[])
            .map_err(|e| central.err(e))?
            .get(0);
        if !ours {
            return Err(StoreError::Missing { path: central.address.clone() });
        }
        central.migrate()?;
        Ok(central)
    }

    fn connect(url: &str) -> Result<Central, StoreError> {
        let address = shown(url);
        let client = Client::connect(url, NoTls)
            .map_err(|e| StoreError::CannotOpen { path: address.clone(), detail: one_line(&e) })?;
        Ok(Central { client, address, url: url.to_string() })
    }

    /// The open database as the store speaks to it. The session waits for a row lock no
    /// longer than the busy timeout (as SQLite waits for its write lock), and reads and writes
    /// times in UTC.
    pub fn into_sql(mut self) -> Result<super::sql::Pg, StoreError> {
        let settings =
            format!("SET lock_timeout = {}; SET TimeZone = 'UTC'", super::busy_timeout().as_millis());
        self.client.batch_execute(&settings).map_err(|e| self.err(e))?;
        Ok(super::sql::Pg::reconnecting(self.client, &self.url, &settings))
    }

    /// The address as it may be shown (no password).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The schema version the database is at.
    pub fn schema_version(&mut self) -> Result<u32, StoreError> {
        let row = self
            .client
            .query_opt("SELECT value FROM returns_dock_meta WHERE key = 'schema_version'", &[])
            .map_err(|e| self.err(e))?;
        Ok(row.and_then(|r| r.get::<_, String>(0).parse().ok()).unwrap_or(0))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let address = self.address.clone();
        let err = |e: postgres::Error| StoreError::CannotOpen { path: address.clone(), detail: one_line(&e) };
        let mut tx = self.client.transaction().map_err(err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).map_err(err)?;
        let ours: bool = tx
            .query_one("SELECT to_regclass('public.returns_dock_meta') IS NOT NULL", &[])
            .map_err(err)?
            .get(0);
        let found: u32 = if ours {
            let v: Option<String> = tx
                .query_opt("SELECT value FROM returns_dock_meta WHERE key = 'schema_version'", &[])
                .map_err(err)?
                .map(|r| r.get(0));
            v.and_then(|v| v.parse().ok()).unwrap_or(0)
        } else {
            // Somebody else's database: any table at all in its public schema.
            let tables: i64 = tx
                .query_one(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
                    &[],
                )
                .map_err(err)?
                .get(0);
            if tables > 0 {
                return Err(StoreError::NotOurs {
                    path: self.address.clone(),
                    detail: if tables == 1 {
                        "it holds a table of its own".to_string()
                    } else {
                        format!("it holds {tables} tables of its own")
                    },
                });
            }
            0
        };
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew { path: self.address.clone(), found, known: SCHEMA_VERSION });
        }
        for (n, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            tx.batch_execute(sql).map_err(|e| StoreError::CannotOpen {
                path: address.clone(),
                detail: format!("schema step {}: {}", n + 1, one_line(&e)),
            })?;
        }
        if found < SCHEMA_VERSION {
            tx.execute(
                "INSERT INTO returns_dock_meta (key, value) VALUES ('schema_version', $1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&SCHEMA_VERSION.to_string()],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    fn err(&self, e: postgres::Error) -> StoreError {
        StoreError::CannotOpen { path: self.address.clone(), detail: one_line(&e) }
    }
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
