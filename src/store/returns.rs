//! Expected returns: written by imports, one return (with all its lines) at a time.

use super::imports::Chunks;
use super::sql::{args, begin, Arg, Cell, Mode, Pg, Sql, SqlExt};
use super::{timestamp, DbError, DbResult, Fingerprint, Store};
use crate::domain::codes::{Coded, Resolution};
use crate::domain::tracking::tracking_key;
use chrono::{DateTime, FixedOffset};
use rusqlite::{params, Connection};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

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
    /// How many lines a batch holds on PostgreSQL.
    batch: BatchSize,
}

impl<'c> ReturnWriter<'c> {
    pub fn new(chunks: &Chunks<'c>, import_id: i64, now: DateTime<FixedOffset>) -> DbResult<Self> {
        Ok(ReturnWriter {
            db: chunks.db(),
            import_id,
            run_from: import_id,
            now: timestamp(now),
            batch: BatchSize::default(),
        })
    }

    /// Files of one run: an RMA written by an earlier file of the run (import id `first` or
    /// later) with other content is refused, not silently replaced.
    pub fn in_run_from(mut self, first: i64) -> Self {
        self.run_from = first;
        self
    }

    /// Creates, updates or leaves the return, inside the caller's transaction. `hash` is
    /// `r.fingerprint()`, computed by the caller (an import computes it on its reading thread).
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
        let stored = db
            .row("SELECT id, content_hash, import_id FROM returns WHERE rma_no = ?1", args![r.rma_no])?
            .map(|row| {
                Ok::<_, DbError>(Stored { id: row.get(0)?, hash: row.get(1)?, import_id: row.get(2)? })
            })
            .transpose()?
            .ok_or_else(|| DbError::shape(format!("return {} neither inserted nor found", r.rma_no)))?;
        let known = self.decide(
            stored,
            hash,
            |earlier| db.one("SELECT file FROM imports WHERE id = ?1", args![earlier]),
            |id| received_parcel(db, id),
        )?;
        match known {
            Known::Leave(written) => Ok(written),
            Known::Touch(id, written) => {
                self.touch(id)?;
                Ok(written)
            }
            Known::Update(id) => {
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
        }
    }

    /// What writing a return does when its RMA is there already (its insert did nothing),
    /// decided from what is stored under it. The one place this is decided, whether returns
    /// are written one at a time or a set at once; only the fetching differs. `file` (an
    /// earlier import's file) and `received` (the first parcel that brought the return in) are
    /// asked only when the decision needs them.
    fn decide(
        &self,
        s: Stored,
        hash: i64,
        file: impl FnOnce(i64) -> DbResult<String>,
        received: impl FnOnce(i64) -> DbResult<Option<(i64, String)>>,
    ) -> DbResult<Known> {
        if s.import_id == Some(self.import_id) {
            return Ok(Known::Leave(ReturnWritten::SeenEarlierInThisImport));
        }
        if s.hash == hash {
            return Ok(Known::Touch(s.id, ReturnWritten::Unchanged));
        }
        if let Some(earlier) = s.import_id.filter(|i| *i >= self.run_from) {
            return Ok(Known::Leave(ReturnWritten::InEarlierFile { file: file(earlier)? }));
        }
        if let Some((parcel_id, received_at)) = received(s.id)? {
            return Ok(Known::Touch(s.id, ReturnWritten::Conflict { parcel_id, received_at }));
        }
        Ok(Known::Update(s.id))
    }

    /// How many lines the next batch given to [`ReturnWriter::write_batch`] should hold at most
    /// (a batch holds at least one return). On SQLite one return: a batch gains nothing there,
    /// and the chunk may then end after any return.
    pub fn batch_lines(&self) -> usize {
        match self.db.as_pg() {
            Some(_) => self.batch.lines,
            None => 1,
        }
    }

    /// Writes `batch` (each return with its fingerprint) inside the caller's transaction, which
    /// keeps the batch whole; each return is decided as [`ReturnWriter::write`] decides it, and
    /// what each did comes back in order. On PostgreSQL the batch is written as sets
    /// ([`ReturnWriter::write_set`]), one return after another on SQLite.
    pub fn write_batch(&mut self, batch: &[(&ReturnWrite, i64)]) -> DbResult<Vec<ReturnWritten>> {
        let Some(pg) = self.db.as_pg() else {
            return batch.iter().map(|(r, hash)| self.write(r, *hash)).collect();
        };
        let started = Instant::now();
        let mut out = Vec::with_capacity(batch.len());
        // An RMA twice in one set would be decided twice against what was stored before it;
        // the set ends before the second, which then finds the first as a later return would.
        let mut rmas: HashSet<&str> = HashSet::with_capacity(batch.len());
        let mut from = 0;
        for (i, (r, _)) in batch.iter().enumerate() {
            if !rmas.insert(&r.rma_no) {
                out.extend(self.write_set(pg, &batch[from..i])?);
                rmas.clear();
                rmas.insert(&r.rma_no);
                from = i;
            }
        }
        out.extend(self.write_set(pg, &batch[from..])?);
        self.batch.took(batch.iter().map(|(r, _)| r.lines.len()).sum(), started.elapsed());
        Ok(out)
    }

    /// Writes returns of distinct RMAs on PostgreSQL in a few statements, in the order
    /// [`ReturnWriter::write`] takes for one. The set's returns are copied into a temporary
    /// table and one statement inserts them (ON CONFLICT DO NOTHING), giving back the id of each
    /// that went in by its RMA. For the others (their RMA is there already), the RMAs and
    /// fingerprints are copied into a second temporary table and what is stored under them is
    /// read back in one query; each is decided ([`ReturnWriter::decide`]), what is to be done
    /// with it is copied into a third table, then one statement notes this import on the
    /// unchanged and the kept, and two update the changed ones and drop their lines. Last, the
    /// lines of every return inserted or updated are copied into their table.
    ///
    /// No statement joins a temporary table to a table of records: nothing is known of a
    /// temporary table's rows (none is ever analysed) and, guessing, the planner may read a
    /// whole table of records to join them. Returns are looked up by RMA one by one (LATERAL …
    /// LIMIT 1), and by id through an array (`= ANY (ARRAY(…))`), which the planner takes for a
    /// few ids and looks up by index.
    fn write_set(&mut self, pg: &Pg, set: &[(&ReturnWrite, i64)]) -> DbResult<Vec<ReturnWritten>> {
        if set.is_empty() {
            return Ok(Vec::new());
        }
        // Made if missing each time: the handle may have connected again since the last set.
        pg.batch(STAGE)?;
        pg.copy_in("import_batch", &names(BATCH_COLUMNS), &mut |put| {
            for (seq, (r, hash)) in set.iter().enumerate() {
                put(&staged(seq, None, None, Some((r, *hash)), self))?;
            }
            Ok(())
        })?;
        // The id of each return inserted, joined back to its place in the set by its RMA.
        let place: HashMap<&str, usize> =
            set.iter().enumerate().map(|(seq, (r, _))| (r.rma_no.as_str(), seq)).collect();
        let mut inserted: Vec<Option<i64>> = vec![None; set.len()];
        pg.each(INSERT_NEW, args![self.import_id, self.now], &mut |row| {
            let rma: String = row.get(1)?;
            let seq =
                place.get(rma.as_str()).ok_or_else(|| DbError::shape(format!("{rma}: not in the set")))?;
            inserted[*seq] = Some(row.get(0)?);
            Ok(())
        })?;
        let mut known: Vec<Option<Known>> = (0..set.len()).map(|_| None).collect();
        if inserted.iter().any(Option::is_none) {
            self.decide_known(pg, set, &inserted, &mut known)?;
        }
        // The lines of every return inserted or updated, straight into their table.
        let lines_to: Vec<Option<i64>> = inserted
            .iter()
            .zip(&known)
            .map(|(new, known)| match known {
                Some(Known::Update(id)) => Some(*id),
                _ => *new,
            })
            .collect();
        if lines_to.iter().any(Option::is_some) {
            pg.copy_in("return_lines", &names(LINE_COLUMNS), &mut |put| {
                for ((r, _), to) in set.iter().zip(&lines_to) {
                    let Some(return_id) = *to else { continue };
                    for (i, l) in r.lines.iter().enumerate() {
                        put(&[
                            Cell::Int(return_id),
                            Cell::Int(i as i64 + 1),
                            Cell::Text(l.sku.clone()),
                            l.barcode.cell(),
                            l.title.cell(),
                            Cell::Int(l.qty),
                            (!l.serials.is_empty()).then(|| l.serials.join(";")).cell(),
                            l.unit_value_cents.cell(),
                        ])?;
                    }
                }
                Ok(())
            })?;
        }
        inserted
            .into_iter()
            .zip(known)
            .map(|(new, known)| match (new, known) {
                (Some(_), _) => Ok(ReturnWritten::Created),
                (None, Some(k)) => Ok(k.written()),
                (None, None) => Err(DbError::shape("a return neither inserted nor decided".into())),
            })
            .collect()
    }

    /// The returns of the set that were not inserted (none in `inserted`), their RMA being
    /// there already: what is stored under them is fetched, each is decided (into `known`),
    /// and the unchanged, the kept and the changed are written, but for the changed ones' new
    /// lines.
    fn decide_known(
        &self,
        pg: &Pg,
        set: &[(&ReturnWrite, i64)],
        inserted: &[Option<i64>],
        known: &mut [Option<Known>],
    ) -> DbResult<()> {
        let there: Vec<usize> = (0..set.len()).filter(|seq| inserted[*seq].is_none()).collect();
        pg.copy_in("import_keys", &names(&["seq", "rma_no", "content_hash"]), &mut |put| {
            for &seq in &there {
                let (r, hash) = set[seq];
                put(&[Cell::Int(seq as i64), Cell::Text(r.rma_no.clone()), Cell::Int(hash)])?;
            }
            Ok(())
        })?;
        let mut found: Vec<Option<Found>> = vec![None; set.len()];
        pg.each(FETCH, args![self.run_from], &mut |row| {
            let seq: usize = row.get(0)?;
            let slot =
                found.get_mut(seq).ok_or_else(|| DbError::shape(format!("no return {seq} in the set")))?;
            *slot = Some(Found {
                stored: Stored { id: row.get(1)?, hash: row.get(2)?, import_id: row.get(3)? },
                file: row.get(4)?,
                received: row.get::<Option<i64>>(5)?.zip(row.get::<Option<String>>(6)?),
            });
            Ok(())
        })?;
        for &seq in &there {
            let (r, hash) = set[seq];
            let f = found[seq]
                .take()
                .ok_or_else(|| DbError::shape(format!("return {} neither inserted nor found", r.rma_no)))?;
            let (file, received) = (f.file, f.received);
            known[seq] = Some(self.decide(
                f.stored,
                hash,
                |i| file.ok_or_else(|| DbError::shape(format!("no import {i}"))),
                |_| Ok(received),
            )?);
        }
        let (touches, updates) = (
            known.iter().filter(|k| matches!(k, Some(Known::Touch(..)))).count(),
            known.iter().filter(|k| matches!(k, Some(Known::Update(_)))).count(),
        );
        if touches + updates == 0 {
            return Ok(());
        }
        pg.copy_in("import_plan", &names(BATCH_COLUMNS), &mut |put| {
            for (seq, ((r, hash), k)) in set.iter().zip(known.iter()).enumerate() {
                match k {
                    Some(Known::Touch(id, _)) => put(&staged(seq, Some(TOUCH), Some(*id), None, self))?,
                    Some(Known::Update(id)) => {
                        put(&staged(seq, Some(UPDATE), Some(*id), Some((r, *hash)), self))?
                    }
                    _ => {}
                }
            }
            Ok(())
        })?;
        if touches > 0 {
            pg.exec(TOUCH_KNOWN, args![self.import_id])?;
        }
        if updates > 0 {
            pg.exec(UPDATE_CHANGED, args![self.import_id, self.now])?;
            pg.exec(DELETE_CHANGED_LINES, args![])?;
        }
        Ok(())
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

/// What is stored of a return, as deciding a write needs it.
#[derive(Debug, Clone, Copy)]
struct Stored {
    id: i64,
    hash: i64,
    import_id: Option<i64>,
}

/// What a set's one query found under an RMA: the return stored, and, where the decision
/// may need them, the file of the earlier import of this run that wrote it and the first
/// parcel that brought it in.
#[derive(Debug, Clone)]
struct Found {
    stored: Stored,
    file: Option<String>,
    received: Option<(i64, String)>,
}

/// What writing a return whose RMA is there already does.
#[derive(Debug)]
enum Known {
    /// Only this import is noted on return `id`: unchanged, or kept as received.
    Touch(i64, ReturnWritten),
    /// Return `id` takes the file's values and lines.
    Update(i64),
    /// Nothing is written.
    Leave(ReturnWritten),
}

/// How a set's temporary table says what is done with a known return (see [`Known`]).
const TOUCH: i64 = 2;
const UPDATE: i64 = 3;

impl Known {
    /// What the return's write did, once it is carried out.
    fn written(self) -> ReturnWritten {
        match self {
            Known::Update(_) => ReturnWritten::Updated,
            Known::Touch(_, w) | Known::Leave(w) => w,
        }
    }
}

/// A row of a set's `import_batch` or `import_plan` ([`BATCH_COLUMNS`]): its place in the
/// set, what is done with it and to which return, and the return's own values (none for a
/// return only noted as had by this import).
fn staged(
    seq: usize,
    act: Option<i64>,
    id: Option<i64>,
    values: Option<(&ReturnWrite, i64)>,
    w: &ReturnWriter<'_>,
) -> Vec<Cell> {
    let mut cells =
        vec![Cell::Int(seq as i64), act.map_or(Cell::Null, Cell::Int), id.map_or(Cell::Null, Cell::Int)];
    match values {
        Some((r, hash)) => {
            let keys = Keys::of(r);
            cells.extend(header(r, &keys, &hash, &w.import_id, &w.now)[..13].iter().map(|a| a.cell()));
        }
        None => cells.resize(BATCH_COLUMNS.len(), Cell::Null),
    }
    cells
}

/// How many lines a batch holds on PostgreSQL: sized from the batches before, so that one
/// takes about [`BatchSize::AIM`], an import's chunk: a chunk is then mostly one batch (a
/// batch is never split between two transactions), and each batch's fixed costs (its
/// temporary tables, its statements) and each commit's are paid as seldom as the chunks allow.
/// Stations wait for no lock of an import's on a central database, so a chunk's length
/// matters there only to a station's write on a return the import is updating.
#[derive(Debug)]
struct BatchSize {
    lines: usize,
}

impl Default for BatchSize {
    fn default() -> Self {
        BatchSize { lines: 1_000 }
    }
}

impl BatchSize {
    const AIM: Duration = crate::store::imports::CHUNK;
    const FEWEST: usize = 100;
    const MOST: usize = 20_000;

    fn took(&mut self, lines: usize, took: Duration) {
        // A short batch (a file's last) says little about the next.
        if lines < self.lines / 2 {
            return;
        }
        let fits = lines as f64 * Self::AIM.as_secs_f64() / took.as_secs_f64().max(1e-6);
        // Half way there, so that one slow batch (a busy core, a checkpoint) does not swing it.
        self.lines =
            ((self.lines as f64 + fits) / 2.0).clamp(Self::FEWEST as f64, Self::MOST as f64) as usize;
    }
}

fn names(columns: &[&str]) -> Vec<String> {
    columns.iter().map(|c| c.to_string()).collect()
}

/// A set's temporary tables (the session's own), made if missing and emptied (a transaction's
/// commit empties them too). `import_batch`: the set's returns, each with its place (`seq`);
/// `import_keys`: the RMAs found there already, to look up; `import_plan`: what is done with
/// each of those (`act`: [`TOUCH`] or [`UPDATE`]), to which return (`id`) and, to update it,
/// the file's values.
const STAGE: &str = "
    CREATE TEMPORARY TABLE IF NOT EXISTS import_batch (
        seq BIGINT NOT NULL, act SMALLINT, id BIGINT, rma_no TEXT, rma_key TEXT, order_no TEXT,
        order_key TEXT, tracking_no TEXT, tracking_key TEXT, carrier TEXT, customer TEXT,
        phone TEXT, reason TEXT, resolution TEXT, requested_at TIMESTAMPTZ, content_hash BIGINT)
        ON COMMIT DELETE ROWS;
    CREATE TEMPORARY TABLE IF NOT EXISTS import_plan (LIKE import_batch) ON COMMIT DELETE ROWS;
    CREATE TEMPORARY TABLE IF NOT EXISTS import_keys (
        seq BIGINT NOT NULL, rma_no TEXT NOT NULL, content_hash BIGINT NOT NULL)
        ON COMMIT DELETE ROWS;
    DELETE FROM import_batch;
    DELETE FROM import_plan;
    DELETE FROM import_keys;";

/// `import_batch`'s and `import_plan`'s columns as a set copies them: `seq`, `act` and `id`,
/// then the first 13 values of [`header`], in its order.
const BATCH_COLUMNS: &[&str] = &[
    "seq",
    "act",
    "id",
    "rma_no",
    "rma_key",
    "order_no",
    "order_key",
    "tracking_no",
    "tracking_key",
    "carrier",
    "customer",
    "phone",
    "reason",
    "resolution",
    "requested_at",
    "content_hash",
];

const LINE_COLUMNS: &[&str] =
    &["return_id", "line_no", "sku", "barcode", "title", "qty", "serials", "unit_value_cents"];

/// What is stored under each RMA of the set (no row: nothing): the return; where its content
/// differs, the file of the import of this run (from ?1) that last wrote it and the first
/// parcel that brought it in, as [`received_parcel`] finds it.
const FETCH: &str = "
    SELECT k.seq, r.id, r.content_hash, r.import_id, i.file, p.id, p.received_at
    FROM import_keys k
    JOIN LATERAL (SELECT id, content_hash, import_id FROM returns WHERE rma_no = k.rma_no LIMIT 1) r ON true
    LEFT JOIN LATERAL (
        SELECT file FROM imports WHERE id = r.import_id AND r.import_id >= ?1 AND r.content_hash <> k.content_hash
        LIMIT 1) i ON true
    LEFT JOIN LATERAL (
        SELECT p.id, p.received_at FROM parcel_returns pr JOIN parcels p ON p.id = pr.parcel_id
        WHERE pr.return_id = r.id AND r.content_hash <> k.content_hash
        ORDER BY p.received_at, p.id LIMIT 1) p ON true";

/// The set's returns inserted in the file's order (?1 the import, ?2 now), as many as are not
/// there yet (ON CONFLICT DO NOTHING, as [`ReturnWriter::write`] inserts one): the id and RMA
/// of each that went in.
const INSERT_NEW: &str = "
    INSERT INTO returns (rma_no, rma_key, order_no, order_key, tracking_no, tracking_key,
        carrier, customer, phone, reason, resolution, requested_at, content_hash, import_id,
        created_at, updated_at)
    SELECT rma_no, rma_key, order_no, order_key, tracking_no, tracking_key, carrier, customer,
        phone, reason, resolution, requested_at, content_hash, ?1, ?2, ?2
    FROM import_batch ORDER BY seq
    ON CONFLICT (rma_no) DO NOTHING
    RETURNING id, rma_no";

/// This import (?1) noted on the returns unchanged or kept as received.
const TOUCH_KNOWN: &str =
    "UPDATE returns SET import_id = ?1 WHERE id = ANY (ARRAY(SELECT id FROM import_plan WHERE act = 2))";

/// The changed returns take the file's values (?1 the import, ?2 now).
const UPDATE_CHANGED: &str = "
    UPDATE returns r SET rma_key = b.rma_key, order_no = b.order_no, order_key = b.order_key,
        tracking_no = b.tracking_no, tracking_key = b.tracking_key, carrier = b.carrier,
        customer = b.customer, phone = b.phone, reason = b.reason, resolution = b.resolution,
        requested_at = b.requested_at, content_hash = b.content_hash, import_id = ?1, updated_at = ?2
    FROM import_plan b
    WHERE b.act = 3 AND b.id = r.id AND r.id = ANY (ARRAY(SELECT id FROM import_plan WHERE act = 3))";

/// The changed returns' lines, replaced by the file's.
const DELETE_CHANGED_LINES: &str =
    "DELETE FROM return_lines WHERE return_id = ANY (ARRAY(SELECT id FROM import_plan WHERE act = 3))";

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
         WHERE pr.return_id = ?1 ORDER BY p.received_at, p.id LIMIT 1",
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
