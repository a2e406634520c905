//! Expected returns: written by imports, one return (with all its lines) at a time.

use super::imports::Chunks;
use super::sql::{args, begin, Arg, Mode, Sql, SqlExt};
use super::{timestamp, DbError, DbResult, Fingerprint, Store};
use crate::domain::codes::{Coded, Resolution};
use crate::domain::tracking::tracking_key;
use chrono::{DateTime, FixedOffset};
use rusqlite::{params, Connection};

/// One expected return as validated from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnWrite {
    pub rma_no: String,
    pub order_no: String,
    pub tracking_no: Option<String>,
    pub carrier: Option<String>,
    pub customer: Option<String>,
    pub phone: Option<String>,
    pub reason: Option<String>,
    pub resolution: Resolution,
    pub requested_at: Option<String>,
    pub lines: Vec<LineWrite>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineWrite {
    pub sku: String,
    pub barcode: Option<String>,
    pub title: Option<String>,
    pub qty: i64,
    pub serials: Vec<String>,
    pub unit_value_cents: Option<i64>,
}

/// What writing one return did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnWritten {
    Created,
    Updated,
    Unchanged,
    /// The file changes a return whose parcel is already at the dock: what was received is
    /// kept and the change is not applied.
    Conflict {
        parcel_id: i64,
        received_at: String,
    },
    /// The same RMA already came earlier in this very import: the file's rows of one return
    /// are not together. Nothing was written.
    SeenEarlierInThisImport,
    /// An earlier file of the same run (named as it was given) had this RMA with other
    /// content. Nothing was written.
    InEarlierFile {
        file: String,
    },
}

impl ReturnWrite {
    /// What identifies the return's content: equal fingerprints mean an unchanged return.
    pub fn fingerprint(&self) -> i64 {
        let mut f = Fingerprint::default();
        for s in [&self.rma_no, &self.order_no] {
            f.add(s);
        }
        for s in
            [&self.tracking_no, &self.carrier, &self.customer, &self.phone, &self.reason, &self.requested_at]
        {
            f.add_opt(s.as_deref());
        }
        f.add(self.resolution.code());
        for l in &self.lines {
            f.add(&l.sku);
            f.add_opt(l.barcode.as_deref());
            f.add_opt(l.title.as_deref());
            f.add_i64(l.qty);
            for s in &l.serials {
                f.add(s);
            }
            f.add("\u{1e}");
            f.add_i64(l.unit_value_cents.unwrap_or(-1));
        }
        f.value()
    }
}

/// The lookup key of a number, or None when the number is its own key (the usual case), so
/// that only unusual numbers cost a second index entry.
pub fn key_if_different(number: &str) -> Option<String> {
    if number.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        return None;
    }
    Some(tracking_key(number))
}

/// Writes returns for one import, in its chunks.
pub struct ReturnWriter<'c> {
    db: &'c dyn Sql,
    import_id: i64,
    /// The first import id of this run (several files): see [`ReturnWriter::in_run_from`].
    run_from: i64,
    now: String,
}

impl<'c> ReturnWriter<'c> {
    pub fn new(chunks: &Chunks<'c>, import_id: i64, now: DateTime<FixedOffset>) -> DbResult<Self> {
        Ok(ReturnWriter { db: chunks.db(), import_id, run_from: import_id, now: timestamp(now) })
    }

    /// Creates, updates or leaves the return, inside the caller's transaction. `hash` is
    /// `r.fingerprint()`, computed by the caller (an import computes it on its reading thread).
    /// Files of one run: an RMA written by an earlier file of the run (import id `first` or
    /// later) with other content is refused, not silently replaced.
    pub fn in_run_from(mut self, first: i64) -> Self {
        self.run_from = first;
        self
    }

    pub fn write(&mut self, r: &ReturnWrite, hash: i64) -> DbResult<ReturnWritten> {
        let keys = Keys::of(r);
        let db = self.db;
        // The id of the return inserted; none when the RMA is there already.
        let inserted: Option<i64> = db.value(
            "INSERT INTO returns (rma_no, rma_key, order_no, order_key, tracking_no, tracking_key,
                carrier, customer, phone, reason, resolution, requested_at, content_hash, import_id,
                created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15)
             ON CONFLICT (rma_no) DO NOTHING RETURNING id",
            &header(r, &keys, &hash, &self.import_id, &self.now),
        )?;
        if let Some(id) = inserted {
            self.insert_lines(id, &r.lines)?;
            return Ok(ReturnWritten::Created);
        }
        let (id, old_hash, last_import) = db
            .row("SELECT id, content_hash, import_id FROM returns WHERE rma_no = ?1", args![r.rma_no])?
            .map(|row| Ok::<_, DbError>((row.get::<i64>(0)?, row.get::<i64>(1)?, row.get::<Option<i64>>(2)?)))
            .transpose()?
            .ok_or_else(|| DbError::shape(format!("return {} neither inserted nor found", r.rma_no)))?;
        if last_import == Some(self.import_id) {
            return Ok(ReturnWritten::SeenEarlierInThisImport);
        }
        if old_hash == hash {
            self.touch(id)?;
            return Ok(ReturnWritten::Unchanged);
        }
        if let Some(earlier) = last_import.filter(|i| *i >= self.run_from) {
            let file = db.one("SELECT file FROM imports WHERE id = ?1", args![earlier])?;
            return Ok(ReturnWritten::InEarlierFile { file });
        }
        if let Some((parcel_id, received_at)) = received_parcel(db, id)? {
            self.touch(id)?;
            return Ok(ReturnWritten::Conflict { parcel_id, received_at });
        }
        // The same parameters as the insert: ?1 is the RMA, ?2 its key.
        db.exec(
            "UPDATE returns SET rma_key = ?2, order_no = ?3, order_key = ?4, tracking_no = ?5,
                tracking_key = ?6, carrier = ?7, customer = ?8, phone = ?9, reason = ?10,
                resolution = ?11, requested_at = ?12, content_hash = ?13, import_id = ?14,
                updated_at = ?15
             WHERE rma_no = ?1",
            &header(r, &keys, &hash, &self.import_id, &self.now),
        )?;
        db.exec("DELETE FROM return_lines WHERE return_id = ?1", args![id])?;
        self.insert_lines(id, &r.lines)?;
        Ok(ReturnWritten::Updated)
    }

    /// Notes that this import had return `id` (unchanged, or kept against a parcel received).
    fn touch(&self, id: i64) -> DbResult<()> {
        self.db.exec("UPDATE returns SET import_id = ?2 WHERE id = ?1", args![id, self.import_id])?;
        Ok(())
    }

    fn insert_lines(&mut self, return_id: i64, lines: &[LineWrite]) -> DbResult<()> {
        for (i, l) in lines.iter().enumerate() {
            let serials = (!l.serials.is_empty()).then(|| l.serials.join(";"));
            self.db.exec(
                "INSERT INTO return_lines (return_id, line_no, sku, barcode, title, qty, serials, unit_value_cents)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                args![return_id, i as i64 + 1, l.sku, l.barcode, l.title, l.qty, serials, l.unit_value_cents],
            )?;
        }
        Ok(())
    }
}

/// Lets SQL call the program's own `mask_phone` (the migration that masks stored numbers).
pub(super) fn give_mask_phone(conn: &Connection) -> DbResult<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "mask_phone",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(ctx.get::<Option<String>>(0)?.map(|p| crate::domain::text::mask_phone(&p))),
    )?;
    Ok(())
}

/// Computes the fingerprint of the returns with a phone number again from what is stored,
/// once their numbers were masked: re-importing the same file then still finds them
/// unchanged, and never in conflict with a parcel already received.
pub(super) fn fingerprint_masked_phones(conn: &Connection) -> DbResult<()> {
    let mut returns = conn.prepare(
        "SELECT id, rma_no, order_no, tracking_no, carrier, customer, phone, reason, resolution,
                requested_at
         FROM returns WHERE phone IS NOT NULL",
    )?;
    let mut lines = conn.prepare(
        "SELECT sku, barcode, title, qty, serials, unit_value_cents FROM return_lines
         WHERE return_id = ?1 ORDER BY line_no",
    )?;
    let mut update = conn.prepare("UPDATE returns SET content_hash = ?2 WHERE id = ?1")?;
    let mut rows = returns.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let resolution: String = r.get(8)?;
        let lines = lines
            .query_map([id], |l| {
                let serials: Option<String> = l.get(4)?;
                Ok(LineWrite {
                    sku: l.get(0)?,
                    barcode: l.get(1)?,
                    title: l.get(2)?,
                    qty: l.get(3)?,
                    serials: serials.map(|s| s.split(';').map(str::to_string).collect()).unwrap_or_default(),
                    unit_value_cents: l.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let stored = ReturnWrite {
            rma_no: r.get(1)?,
            order_no: r.get(2)?,
            tracking_no: r.get(3)?,
            carrier: r.get(4)?,
            customer: r.get(5)?,
            phone: r.get(6)?,
            reason: r.get(7)?,
            resolution: Resolution::from_code(&resolution).unwrap_or(Resolution::Refund),
            requested_at: r.get(9)?,
            lines,
        };
        update.execute(params![id, stored.fingerprint()])?;
    }
    Ok(())
}

/// The first parcel that brought return `id` in, with when it was received.
fn received_parcel(db: &dyn Sql, id: i64) -> DbResult<Option<(i64, String)>> {
    db.row(
        "SELECT p.id, p.received_at FROM parcel_returns pr JOIN parcels p ON p.id = pr.parcel_id
         WHERE pr.return_id = ?1 ORDER BY p.received_at LIMIT 1",
        args![id],
    )?
    .map(|row| Ok((row.get(0)?, row.get(1)?)))
    .transpose()
}

/// What writing a return would do, found by reading only: a dry run's answer.
pub struct ReturnCheck<'c> {
    db: &'c dyn Sql,
    /// The checks read one snapshot, in a read transaction of their own: without it every
    /// lookup took and dropped SQLite's shared lock (two fcntl calls), a quarter of a dry run.
    /// A read transaction never blocks a writer in WAL mode.
    reading: bool,
}

impl<'c> ReturnCheck<'c> {
    pub fn new(store: &'c Store) -> DbResult<Self> {
        let db = store.db();
        // Checks made inside a transaction already open read in that one. Only an SQLite
        // connection can say whether one is (the store leaves a PostgreSQL handle inside a
        // transaction only while one of its own values holds it, as this one does).
        let reading = db.as_sqlite().is_none_or(rusqlite::Connection::is_autocommit);
        if reading {
            begin(db, Mode::Read)?;
        }
        Ok(ReturnCheck { db, reading })
    }

    pub fn check(&mut self, r: &ReturnWrite, hash: i64) -> DbResult<ReturnWritten> {
        let found = self
            .db
            .row("SELECT id, content_hash FROM returns WHERE rma_no = ?1", args![r.rma_no])?
            .map(|row| Ok::<_, DbError>((row.get::<i64>(0)?, row.get::<i64>(1)?)))
            .transpose()?;
        Ok(match found {
            None => ReturnWritten::Created,
            Some((_, old)) if old == hash => ReturnWritten::Unchanged,
            Some((id, _)) => match received_parcel(self.db, id)? {
                Some((parcel_id, received_at)) => ReturnWritten::Conflict { parcel_id, received_at },
                None => ReturnWritten::Updated,
            },
        })
    }
}

impl Drop for ReturnCheck<'_> {
    fn drop(&mut self) {
        if self.reading {
            let _ = self.db.batch("ROLLBACK");
        }
    }
}

/// The values stored in another form than the return holds them: the lookup keys of its
/// numbers (where they differ from the numbers) and the resolution's code.
struct Keys {
    rma: Option<String>,
    order: Option<String>,
    tracking: Option<String>,
    resolution: &'static str,
}

impl Keys {
    fn of(r: &ReturnWrite) -> Keys {
        Keys {
            rma: key_if_different(&r.rma_no),
            order: key_if_different(&r.order_no),
            tracking: r.tracking_no.as_deref().and_then(key_if_different),
            resolution: r.resolution.code(),
        }
    }
}

/// The return's own values: ?1 to ?15 of both the insert and the update.
// `&String`, not `&str`: a `str` is unsized and cannot stand behind `&dyn Arg`.
#[allow(clippy::ptr_arg)]
fn header<'a>(
    r: &'a ReturnWrite,
    keys: &'a Keys,
    hash: &'a i64,
    import_id: &'a i64,
    now: &'a String,
) -> [&'a dyn Arg; 15] {
    [
        &r.rma_no,
        &keys.rma,
        &r.order_no,
        &keys.order,
        &r.tracking_no,
        &keys.tracking,
        &r.carrier,
        &r.customer,
        &r.phone,
        &r.reason,
        &keys.resolution,
        &r.requested_at,
        hash,
        import_id,
        now,
    ]
}
