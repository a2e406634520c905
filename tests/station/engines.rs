//! One test body on either engine: a generated dock in its SQLite file, or the same file moved
//! to a fresh central database (`db copy`), as a dock moves there. The test reads back through
//! the store's `Sql` layer and drives the real binary by the database's address, so its checks
//! mean the same on both; only what is an engine's own (holding its write lock, waiting for a
//! killed station's session to end) is told apart here.

use super::pty::{generated_dock, Pty};
use returns_dock::store::sql::{args, Sql, SqlExt};
use returns_dock::store::Store;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A dock's records on one engine, with a handle of the test's own to read them.
pub struct Dock {
    pub engine: Engine,
    dir: tempfile::TempDir,
    /// The database as the program is given it: the file's path, or the server's address.
    pub addr: String,
    store: Store,
}

impl Dock {
    /// `returns` generated returns, their catalog and the operators, imported by the real
    /// binary into a file; on PostgreSQL that file is then copied into a fresh database.
    pub fn generated(engine: Engine, returns: u64) -> Dock {
        let (dir, file) = generated_dock(returns);
        let addr = match engine {
            Engine::Sqlite => file.to_str().unwrap().to_string(),
            Engine::Postgres => {
                let url = super::central::pg::fresh_database();
                let out = std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
                    .current_dir(dir.path())
                    .args(["db", "copy", "--from", "dock.db", "--to", &url])
                    .output()
                    .unwrap();
                assert!(out.status.success(), "db copy: {}", String::from_utf8_lossy(&out.stderr));
                url
            }
        };
        let store = Store::open(Path::new(&addr)).unwrap();
        Dock { engine, dir, addr, store }
    }

    /// The working folder (the file's folder; files beside a central database go there too).
    pub fn folder(&self) -> &Path {
        self.dir.path()
    }

    /// A file of the test's in the working folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The records, as the store reads them.
    pub fn db(&self) -> &dyn Sql {
        self.store.db()
    }

    /// A station on this dock's database. On the server its sessions are named after the
    /// station, so that [`Dock::killed`] can tell when they are gone.
    pub fn station(&self, station: &str, env: &[(&str, &str)]) -> Pty {
        let addr = match self.engine {
            Engine::Sqlite => self.addr.clone(),
            Engine::Postgres => format!("{}?application_name={station}", self.addr),
        };
        Pty::start_in(self.folder(), &addr, station, env)
    }

    /// Kills the station (SIGKILL) and waits until the database holds what it will hold of
    /// it: a file at once; a server once the killed station's sessions ended (a statement it
    /// sent before dying, a COMMIT among them, is finished by the server a moment later).
    pub fn killed(&self, pty: Pty, station: &str) {
        pty.kill_hard();
        if self.engine == Engine::Sqlite {
            return;
        }
        let start = Instant::now();
        loop {
            let left: i64 = self
                .db()
                .one(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = ?1",
                    args![station],
                )
                .unwrap();
            if left == 0 {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the killed {station}'s sessions stayed on the server"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The real binary's command line on this database, in the working folder, with a
    /// supervisor's PIN in the environment.
    pub fn cli(&self, pin: &str, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
            .args(["--db", &self.addr])
            .args(args)
            .env("RETURNS_DOCK_PIN", pin)
            .current_dir(self.folder())
            .output()
            .unwrap()
    }

    /// Another program's write transaction, open until the value is dropped: readers go on,
    /// every writer waits for it (SQLite's write lock; on the server, every table of ours
    /// locked against writes).
    pub fn hold_write_lock(&self) -> WriteLock {
        match self.engine {
            Engine::Sqlite => {
                let conn = rusqlite::Connection::open(&self.addr).unwrap();
                conn.execute_batch("BEGIN IMMEDIATE").unwrap();
                WriteLock::File(conn)
            }
            Engine::Postgres => {
                let mut client = postgres::Client::connect(&self.addr, postgres::NoTls).unwrap();
                let tables: String = client
                    .query_one(
                        "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables WHERE schemaname = 'public'",
                        &[],
                    )
                    .unwrap()
                    .get(0);
                client.batch_execute(&format!("BEGIN; LOCK TABLE {tables} IN EXCLUSIVE MODE")).unwrap();
                WriteLock::Server(client)
            }
        }
    }
}

/// See [`Dock::hold_write_lock`].
pub enum WriteLock {
    File(rusqlite::Connection),
    Server(postgres::Client),
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        match self {
            WriteLock::File(c) => {
                let _ = c.execute_batch("ROLLBACK");
            }
            WriteLock::Server(c) => {
                let _ = c.batch_execute("ROLLBACK");
            }
        }
    }
}

/// A test's seed: `var` when set, else `default`. Said when the test fails, with the command
/// that replays it.
pub fn seed(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .map_or(default, |v| v.trim().parse().unwrap_or_else(|_| panic!("{var}={v}: a number")))
}

/// Prints how to replay a run when dropped during a panic (the test's output is shown then).
pub struct Replay(pub String);

impl Drop for Replay {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("to replay this failure: {}", self.0);
        }
    }
}
