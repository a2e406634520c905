//! Long work in progress: an import or an export registers itself in `running_work` when it
//! starts and removes itself when it ends, each in a short transaction. A writer that stayed
//! locked out reads the table (a read needs no lock in WAL) to say what holds the database.
//! A row left by a process that was killed is stale: its pid is gone on this host, and it is
//! ignored (and removed by the next registration).

use super::sql::{args, in_tx, Mode, Sql, SqlExt};
use super::{timestamp, DbResult};
use chrono::{DateTime, FixedOffset};

/// This machine's name, as rows of running work and imports record it.
pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Whether process `pid` of this host still runs (a zombie, killed and not yet reaped, does
/// not). Reads `/proc`, never the database.
pub fn alive(pid: i64) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    // The state follows the command name, which is in parentheses and may hold anything.
    stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()).is_some_and(|s| s != "Z")
}

/// Whether process `pid` of this host still runs and is the one that wrote a row at
/// `registered`: a pid reused since (after a reboot, or by a later process) started after it.
fn still_the_one(pid: i64, registered: &str) -> bool {
    if !alive(pid) {
        return false;
    }
    let (Some(started), Ok(row)) = (process_started(pid), DateTime::parse_from_rfc3339(registered)) else {
        return true;
    };
    // The row is written just after the process starts. The start is worked out from the boot
    // time, which a clock set since boot shifts; a minute covers that. A pid reused within a
    // minute of a crash still counts as running, and frees the id when it ends.
    started <= row.timestamp() as f64 + 60.0
}

/// When process `pid` started, in seconds since 1970: its start in clock ticks after boot
/// (`/proc/PID/stat`, field 22) and the boot time (`/proc/stat`, `btime`).
fn process_started(pid: i64) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    // Fields after the name start with the state (field 3); the start time is field 22.
    let ticks: f64 = rest.split_whitespace().nth(19)?.parse().ok()?;
    let boot: f64 = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    Some(boot + ticks / CLOCK_TICKS)
}

/// `sysconf(_SC_CLK_TCK)`: 100 on every Linux the dock runs on.
const CLOCK_TICKS: f64 = 100.0;

/// What a station registers as, in `running_work`.
const STATION: &str = "station";

/// Claims station id `station` for this process while it runs: one station id, one running
/// station, so that starting a second station under a busy id cannot resume (and so take over)
/// a parcel open there without a supervisor. The answer is the claim's id (for [`finish`]), or
/// who holds the id: `pid 4242 on dock-pc-2, since 10:03:12`.
pub fn claim_station(
    db: &dyn Sql,
    station: &str,
    now: DateTime<FixedOffset>,
) -> DbResult<Result<i64, String>> {
    let here = host();
    in_tx(db, Mode::Write, |tx| {
        let rows = tx.map(
            "SELECT id, pid, host, started_at FROM running_work WHERE what = ?1 AND file = ?2",
            args![STATION, station],
            |r| Ok((r.get::<i64>(0)?, r.get::<i64>(1)?, r.get::<String>(2)?, r.get::<String>(3)?)),
        )?;
        for (id, pid, row_host, started) in rows {
            if row_host != here || still_the_one(pid, &started) {
                let since = DateTime::parse_from_rfc3339(&started)
                    .map(|t| t.with_timezone(now.offset()).format("%H:%M:%S").to_string())
                    .unwrap_or(started);
                return Ok(Err(format!("pid {pid} on {row_host}, since {since}")));
            }
            tx.exec("DELETE FROM running_work WHERE id = ?1", args![id])?;
        }
        let id = tx.one(
            "INSERT INTO running_work (what, file, pid, host, started_at) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
            args![STATION, station, std::process::id(), here, timestamp(now)],
        )?;
        Ok(Ok(id))
    })
}

/// Whether a row of process `pid` on `host` may still stand for running work.
pub fn live(pid: i64, row_host: &str, this_host: &str) -> bool {
    // Another host's processes cannot be checked from here; they are taken to be running.
    row_host != this_host || alive(pid)
}

/// Registers work starting now (`what`: e.g. "import returns"; `file`: what it reads or
/// writes), in a short transaction of its own; its id, for [`finish`]. Stale rows of this host
/// go at the same time.
pub fn start(db: &dyn Sql, what: &str, file: Option<&str>, now: DateTime<FixedOffset>) -> DbResult<i64> {
    let here = host();
    let rows = db.map("SELECT id, pid FROM running_work WHERE host = ?1", args![here], |r| {
        Ok((r.get::<i64>(0)?, r.get::<i64>(1)?))
    })?;
    let stale: Vec<i64> = rows.into_iter().filter(|(_, pid)| !alive(*pid)).map(|(id, _)| id).collect();
    in_tx(db, Mode::Write, |tx| {
        for id in &stale {
            tx.exec("DELETE FROM running_work WHERE id = ?1", args![id])?;
        }
        tx.one(
            "INSERT INTO running_work (what, file, pid, host, started_at) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
            args![what, file, std::process::id(), here, timestamp(now)],
        )
    })
}

/// Removes the registration of work that ended (done, refused or failed).
pub fn finish(db: &dyn Sql, id: i64) -> DbResult<()> {
    db.exec("DELETE FROM running_work WHERE id = ?1", args![id]).map(|_| ())
}

/// What holds the database, if it is long work of another process of ours that still runs:
/// `import returns big.csv (pid 4242, since 10:03:12)`.
pub fn holder(db: &dyn Sql) -> DbResult<Option<String>> {
    let here = host();
    let me = i64::from(std::process::id());
    let rows = db.map(
        "SELECT what, file, pid, host, started_at FROM running_work WHERE NOT (pid = ?1 AND host = ?2)
           AND what <> 'station' ORDER BY id",
        args![me, here],
        |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<Option<String>>(1)?,
                r.get::<i64>(2)?,
                r.get::<String>(3)?,
                r.get::<String>(4)?,
            ))
        },
    )?;
    for (what, file, pid, row_host, started) in rows {
        if !live(pid, &row_host, &here) {
            continue;
        }
        let since = DateTime::parse_from_rfc3339(&started)
            .map(|t| t.format("%H:%M:%S").to_string())
            .unwrap_or(started);
        let file = file.map(|f| format!(" {}", crate::domain::text::on_screen(&f))).unwrap_or_default();
        let place = if row_host == here { String::new() } else { format!(" on {row_host}") };
        return Ok(Some(format!("{what}{file} (pid {pid}{place}, since {since})")));
    }
    Ok(None)
}

/// The registration of this process's work with id `id`, if it is still there (for tests).
pub fn registered(db: &dyn Sql, id: i64) -> DbResult<bool> {
    Ok(db.row("SELECT 1 FROM running_work WHERE id = ?1", args![id])?.is_some())
}

impl super::Store {
    /// Registers long work of this process ([`start`]); its id, for [`super::Store::finish_work`].
    pub fn start_work(
        &self,
        what: &str,
        file: Option<&str>,
        now: DateTime<FixedOffset>,
    ) -> super::DbResult<i64> {
        start(self.db(), what, file, now)
    }

    /// Removes the registration of work that ended.
    pub fn finish_work(&self, id: i64) -> super::DbResult<()> {
        finish(self.db(), id)
    }
}
