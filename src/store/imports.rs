//! An import's bookkeeping and its short write transactions.
//!
//! An import writes in chunks: a write transaction is opened before a record is written and
//! committed once it has been open for [`CHUNK`], always between two records, so a record
//! (a return with all its lines) is committed whole or not at all. Between chunks the lock is
//! free for a moment, and stations, whose busy handler retries every millisecond, get in.
//!
//! The run is recorded in `imports` when its writing starts (one row per file, `finished_at`
//! NULL, with this process's pid and host) and each row is completed when its file is done. A
//! row left unfinished by a process that is gone is an interrupted import: the next run of the
//! same kind says so and marks it resumed. Imports are idempotent (unchanged records are
//! found by content), so running the same files again completes the work.
//!
//! A file whose returns are scattered (one RMA's rows apart) is read again through the
//! [`Stage`], a temporary table that gives its rows back sorted by RMA.

use super::sql::{args, begin, Engine, Mode, Sql, SqlExt};
use super::work::{host, live};
use super::{timestamp, DbResult, Store};
use chrono::{DateTime, FixedOffset};
use std::cell::Cell;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long one write transaction of an import stays open at most (plus the record in hand).
pub const CHUNK: Duration = Duration::from_millis(40);

/// The pause between two chunks, so a writer that waits (retrying every millisecond) finds the
/// lock free at least once.
pub const GAP: Duration = Duration::from_millis(2);

/// Short write transactions over one connection. Dropped with a transaction open, it rolls
/// that transaction back: only whole records are ever committed.
pub struct Chunks<'c> {
    db: &'c dyn Sql,
    open_since: Cell<Option<Instant>>,
    commits: Cell<u64>,
    /// The longest time the lock was held by one chunk.
    longest: Cell<Duration>,
    /// Whether commits wait for the disk again (the run's last transaction).
    durable: Cell<bool>,
}

impl<'c> Chunks<'c> {
    /// Chunks are committed without waiting for the disk (SQLite: WAL, `synchronous = NORMAL`:
    /// the database stays consistent, a power cut may lose the last chunks, as a kill would,
    /// and running the import again completes it). [`finish_run`] commits the end of the run
    /// durably, and that flush makes every earlier chunk durable too. PostgreSQL the same, each
    /// chunk with `synchronous_commit = off` ([`Mode::Chunk`]).
    pub fn new(store: &'c Store) -> DbResult<Self> {
        let db = store.db();
        if db.engine() == Engine::Sqlite {
            db.batch("PRAGMA synchronous = NORMAL")?;
        }
        Ok(Chunks {
            db,
            open_since: Cell::new(None),
            commits: Cell::new(0),
            longest: Cell::new(Duration::ZERO),
            durable: Cell::new(false),
        })
    }

    /// The connection the chunks write on, for the store's writes inside the chunk under way.
    pub(super) fn db(&self) -> &'c dyn Sql {
        self.db
    }

    /// Opens a write transaction unless one is open.
    pub fn begin(&self) -> DbResult<()> {
        if self.open_since.get().is_none() {
            begin(self.db, if self.durable.get() { Mode::Write } else { Mode::Chunk })?;
            self.open_since.set(Some(Instant::now()));
        }
        Ok(())
    }

    /// Between two records: commits when the transaction has been open for a chunk's time.
    pub fn tick(&self) -> DbResult<()> {
        if self.open_since.get().is_some_and(|t| t.elapsed() >= CHUNK) {
            self.commit()?;
            // On a central database writers take no lock from an import's chunks.
            if self.db.engine() == Engine::Sqlite {
                std::thread::sleep(GAP);
            }
        }
        Ok(())
    }

    /// Commits the open transaction, if any.
    pub fn commit(&self) -> DbResult<()> {
        if let Some(t) = self.open_since.get() {
            self.db.batch("COMMIT")?;
            self.open_since.set(None);
            self.commits.set(self.commits.get() + 1);
            self.longest.set(self.longest.get().max(t.elapsed()));
        }
        Ok(())
    }

    /// Commits what is open, then runs `last` in one more transaction committed durably
    /// (SQLite: `synchronous = FULL` again), which flushes every chunk before it to disk as well.
    fn finish(self, last: impl FnOnce(&dyn Sql) -> DbResult<()>) -> DbResult<()> {
        self.commit()?;
        self.durable()?;
        self.begin()?;
        last(self.db)?;
        self.commit()
    }

    /// Commits wait for the disk again (SQLite's `synchronous = FULL`, as the store is opened).
    fn durable(&self) -> DbResult<()> {
        self.durable.set(true);
        if self.db.engine() == Engine::Sqlite {
            self.db.batch("PRAGMA synchronous = FULL")?;
        }
        Ok(())
    }

    /// How many chunks were committed, and the longest time one held the lock.
    pub fn stats(&self) -> (u64, Duration) {
        (self.commits.get(), self.longest.get())
    }
}

impl Drop for Chunks<'_> {
    fn drop(&mut self) {
        if self.open_since.get().is_some() {
            let _ = self.db.batch("ROLLBACK");
        }
        let _ = self.durable();
    }
}

/// An earlier import of the same kind that stopped before it finished (its process is gone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupted {
    pub file: String,
    pub started_at: String,
}

/// Records the start of a run inside the open chunk: one row per file, unfinished. Earlier
/// unfinished rows of the same kind whose process is gone are marked as resumed by this run
/// and returned. The rows' ids, in the order of `files`.
pub fn start_run(
    chunks: &Chunks<'_>,
    kind: &str,
    files: &[String],
    now: DateTime<FixedOffset>,
) -> DbResult<(Vec<i64>, Vec<Interrupted>)> {
    let db = chunks.db();
    let here = host();
    let pid = i64::from(std::process::id());
    let at = timestamp(now);
    let mut ids = Vec::with_capacity(files.len());
    for file in files {
        ids.push(db.one(
            "INSERT INTO imports (kind, file, started_at, pid, host) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
            args![kind, file, at, pid, here],
        )?);
    }
    let unfinished = db.map(
        "SELECT id, file, started_at, pid, host FROM imports
         WHERE kind = ?1 AND finished_at IS NULL AND resumed_by IS NULL AND id < ?2 ORDER BY id",
        args![kind, ids.first().copied().unwrap_or(i64::MAX)],
        |r| {
            Ok((
                r.get::<i64>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                r.get::<Option<i64>>(3)?,
                r.get::<Option<String>>(4)?,
            ))
        },
    )?;
    let mut interrupted = Vec::new();
    for (id, file, started_at, row_pid, row_host) in unfinished {
        let running = match (row_pid, row_host) {
            (Some(p), Some(h)) => live(p, &h, &here) && p != pid,
            _ => false,
        };
        if running {
            continue;
        }
        db.exec("UPDATE imports SET resumed_by = ?2 WHERE id = ?1", args![id, ids[0]])?;
        interrupted.push(Interrupted { file, started_at });
    }
    Ok((ids, interrupted))
}

/// What one file of an import did, for its row in `imports`.
#[derive(Debug, Clone, Copy, Default)]
pub struct FileCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub refused: u64,
    pub conflicts: u64,
}

/// Completes a file's row, inside the open chunk.
pub fn finish_file(chunks: &Chunks<'_>, id: i64, now: DateTime<FixedOffset>, c: FileCounts) -> DbResult<()> {
    chunks.db().exec(
        "UPDATE imports SET finished_at = ?2, created = ?3, updated = ?4, unchanged = ?5,
             refused = ?6, conflicts = ?7 WHERE id = ?1",
        args![id, timestamp(now), c.created, c.updated, c.unchanged, c.refused, c.conflicts],
    )?;
    Ok(())
}

/// Links the unidentified parcels whose RMA the run just brought, in a short transaction of
/// their own (what is open is committed first); the parcels linked.
pub fn link_unidentified(chunks: &Chunks<'_>, now: DateTime<FixedOffset>) -> DbResult<Vec<i64>> {
    chunks.commit()?;
    chunks.begin()?;
    let linked = super::station::link_unidentified(chunks.db(), now)?;
    chunks.commit()?;
    Ok(linked)
}

/// The run's last transaction, committed durably: its entry in the audit log (`summary`: what
/// the run did).
pub fn finish_run(chunks: Chunks<'_>, kind: &str, now: DateTime<FixedOffset>, summary: &str) -> DbResult<()> {
    chunks.finish(|db| {
        super::audit(db, now, None, None, "import", Some(kind), Some(summary))?;
        Ok(())
    })
}

/// A file's rows kept in a temporary table, to be read back sorted by RMA, keeping file order
/// within an RMA, a page at a time. Memory stays flat: the engine spills the sort to disk.
/// The table is the connection's own (SQLite's `temp` schema, a PostgreSQL temporary table,
/// whose name needs no schema: the session's temporary tables come first).
pub struct Stage<'c> {
    db: &'c dyn Sql,
}

/// A row as the [`Stage`] gives it back.
pub struct StagedRow {
    pub line: u64,
    pub item: Option<usize>,
    pub values: Vec<String>,
}

impl<'c> Stage<'c> {
    /// An empty stage: what an earlier file left in the table is gone.
    pub fn new(store: &'c Store) -> DbResult<Self> {
        let db = store.db();
        db.batch(match db.engine() {
            Engine::Sqlite => {
                "CREATE TEMP TABLE IF NOT EXISTS import_stage (
                     seq INTEGER PRIMARY KEY, rma TEXT NOT NULL, line INTEGER NOT NULL, item INTEGER,
                     vals TEXT NOT NULL);
                 DELETE FROM temp.import_stage;
                 DROP INDEX IF EXISTS temp.import_stage_rma;"
            }
            Engine::Postgres => {
                "CREATE TEMPORARY TABLE IF NOT EXISTS import_stage (
                     seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, rma TEXT NOT NULL,
                     line BIGINT NOT NULL, item BIGINT, vals TEXT NOT NULL);
                 DELETE FROM import_stage;
                 DROP INDEX IF EXISTS import_stage_rma;"
            }
        })?;
        Ok(Stage { db })
    }

    /// Adds a row of RMA `rma`, after the rows added before it.
    pub fn add(&mut self, rma: &str, line: u64, item: Option<usize>, values: &[String]) -> DbResult<()> {
        let vals = serde_json::to_string(values).unwrap_or_default();
        // No `temp.` before the name: on SQLite a temporary table hides a main one of that
        // name, as on PostgreSQL.
        self.db.exec(
            "INSERT INTO import_stage (rma, line, item, vals) VALUES (?1, ?2, ?3, ?4)",
            args![rma, line as i64, item.map(|i| i as i64), vals],
        )?;
        Ok(())
    }

    /// Every row added, sorted by RMA and, within one, in the order they were added.
    pub fn sorted(self) -> DbResult<StagedRows<'c>> {
        let db = self.db;
        // The index goes where its table is (SQLite names the schema; PostgreSQL may not).
        db.batch(match db.engine() {
            Engine::Sqlite => "CREATE INDEX temp.import_stage_rma ON import_stage (rma, seq);",
            Engine::Postgres => "CREATE INDEX import_stage_rma ON import_stage (rma, seq);",
        })?;
        Ok(StagedRows { db, after: None, page: VecDeque::new(), done: false })
    }
}

/// The staged rows in order, read a page at a time. A page that cannot be read is the last
/// answer: its error.
pub struct StagedRows<'c> {
    db: &'c dyn Sql,
    after: Option<(String, i64)>,
    page: VecDeque<(String, i64, StagedRow)>,
    done: bool,
}

impl StagedRows<'_> {
    const PAGE: i64 = 5000;

    fn fill(&mut self) -> DbResult<()> {
        let (rma, seq) = self.after.clone().unwrap_or((String::new(), -1));
        let page = &mut self.page;
        self.db.each(
            "SELECT rma, seq, line, item, vals FROM import_stage
             WHERE (rma, seq) > (?1, ?2) ORDER BY rma, seq LIMIT ?3",
            args![rma, seq, Self::PAGE],
            &mut |r| {
                let vals: String = r.get(4)?;
                page.push_back((
                    r.get::<String>(0)?,
                    r.get::<i64>(1)?,
                    StagedRow {
                        line: r.get::<i64>(2)? as u64,
                        item: r.get::<Option<i64>>(3)?.map(|i| i as usize),
                        values: serde_json::from_str(&vals).unwrap_or_default(),
                    },
                ));
                Ok(())
            },
        )?;
        self.done = (self.page.len() as i64) < Self::PAGE;
        Ok(())
    }
}

impl Iterator for StagedRows<'_> {
    type Item = DbResult<StagedRow>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.page.is_empty() && !self.done {
            if let Err(e) = self.fill() {
                self.done = true;
                return Some(Err(e));
            }
        }
        let (rma, seq, row) = self.page.pop_front()?;
        self.after = Some((rma, seq));
        Some(Ok(row))
    }
}
