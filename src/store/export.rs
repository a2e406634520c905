//! What an export to after-sales reads and records: the parcels marked due (or all, or a
//! batch's again), each parcel's facts (units, lines, returns, reviews), and the batch.
//! The rows themselves are built from these facts in `crate::export`.

use super::sql::{args, begin, in_tx, is_constraint, Mode, Sql, SqlExt};
use super::station::{load_parcel, ParcelView};
use super::timestamp;
use super::{DbError, DbResult, Store};
use chrono::{DateTime, FixedOffset};
use rusqlite::{params, Connection};
use std::collections::HashMap;

/// Which rows an export takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// What changed since the last incremental export.
    SinceLast,
    /// Everything, from the first parcel (recorded, but the next incremental export is not moved).
    All,
    /// A batch again, by id: its parcels, with the rows as they stand now.
    Batch(i64),
}

/// The last audit entry.
fn max_audit(db: &dyn Sql) -> DbResult<i64> {
    db.one("SELECT coalesce(max(id), 0) FROM audit_log", args![])
}

/// The end of the last incremental batch's span of the log (kept for reading, no longer what
/// decides what an export takes).
fn last_incremental_end(db: &dyn Sql) -> DbResult<i64> {
    db.one("SELECT coalesce(max(to_audit_id), 0) FROM export_batches WHERE all_rows = 0", args![])
}

/// The last incremental batch that took rows of `dock` (None: of any dock): one of that
/// dock's, or of every dock's.
fn last_incremental_batch(db: &dyn Sql, dock: Option<&str>) -> DbResult<Option<i64>> {
    match dock {
        None => db.one("SELECT max(id) FROM export_batches WHERE all_rows = 0", args![]),
        Some(d) => db.one(
            "SELECT max(id) FROM export_batches WHERE all_rows = 0 AND (dock IS NULL OR dock = ?1)",
            args![d],
        ),
    }
}

/// The id the next batch recorded gets.
fn next_batch_id(db: &dyn Sql) -> DbResult<i64> {
    db.one("SELECT coalesce(max(id), 0) + 1 FROM export_batches", args![])
}

/// What an export read, to be recorded with its batch: the rows marked due it took (how many,
/// up to which), the parcels, and the log as it stood.
#[derive(Debug, Clone)]
pub struct Taken {
    pub span: Span,
    /// The rows marked due the snapshot saw, as runs of consecutive ids (first, last): a row
    /// it did not see is in none of them, whatever order writers commit in.
    due: Vec<(i64, i64)>,
    /// How many rows those runs hold.
    due_rows: usize,
    parcels: Vec<i64>,
    from_audit: i64,
    to_audit: i64,
    /// The dock whose parcels it took (None: every dock).
    dock: Option<String>,
}

impl Taken {
    /// Nothing taken yet.
    fn nothing(span: Span) -> Taken {
        Taken {
            span,
            due: Vec::new(),
            due_rows: 0,
            parcels: Vec::new(),
            from_audit: 0,
            to_audit: 0,
            dock: None,
        }
    }
}

/// One export's reading: a snapshot (a read transaction; stations keep writing meanwhile) of
/// the parcels it takes, from which each parcel's facts are read. The transaction is the
/// reading's own: [`Reading::close`] commits it, and a reading dropped unclosed rolls it back.
pub struct Reading<'s> {
    db: &'s dyn Sql,
    /// Whether the transaction is still open (until `close`).
    open: bool,
    taken: Taken,
}

impl Reading<'_> {
    /// The parcels this export takes, in order.
    pub fn parcels(&self) -> &[i64] {
        &self.taken.parcels
    }

    /// Everything the export says of one parcel.
    pub fn facts(&self, parcel: i64) -> DbResult<ParcelFacts> {
        parcel_facts(self.db, parcel)
    }

    /// The last incremental batch that took rows of `dock` (None: any), as this snapshot sees it.
    pub fn last_incremental_batch(&self, dock: Option<&str>) -> DbResult<Option<i64>> {
        last_incremental_batch(self.db, dock)
    }

    /// The id the next batch would get, as this snapshot sees it.
    pub fn next_batch_id(&self) -> DbResult<i64> {
        next_batch_id(self.db)
    }

    /// Ends the snapshot; what it took, for [`Store::record_export`].
    pub fn close(mut self) -> DbResult<Taken> {
        // Whatever COMMIT answers, the transaction is over here (Drop rolls back one that
        // could not commit).
        self.db.batch("COMMIT")?;
        self.open = false;
        let span = self.taken.span;
        Ok(std::mem::replace(&mut self.taken, Taken::nothing(span)))
    }

    /// The dock whose parcels this export takes (None: every dock); a batch made again takes
    /// the dock it took.
    pub fn dock(&self) -> Option<&str> {
        self.taken.dock.as_deref()
    }
}

impl Drop for Reading<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.db.batch("ROLLBACK");
        }
    }
}

impl Store {
    /// Opens an export's snapshot of `span` (None: there is no such batch), of the parcels
    /// received at `dock` (None: every dock; a batch made again takes the dock it took).
    /// Reads only: no lock is asked of anyone, and WAL readers never block the writer.
    pub fn export_reading(&mut self, span: Span, dock: Option<&str>) -> DbResult<Option<Reading<'_>>> {
        let db: &dyn Sql = self.db();
        begin(db, Mode::Read)?;
        // From here the reading owns the transaction: an early return rolls it back.
        let mut reading = Reading { db, open: true, taken: Taken::nothing(span) };
        let taken = &mut reading.taken;
        taken.to_audit = max_audit(db)?;
        taken.dock = dock.map(str::to_string);
        match span {
            Span::SinceLast => {
                taken.from_audit = last_incremental_end(db)?;
                let mut parcels = std::collections::BTreeSet::new();
                // One dock's rows are a subset of the due rows: its runs of consecutive ids
                // break where another dock's row lies, so marking them never takes that row.
                db.each(
                    "SELECT d.id, d.parcel_id FROM export_due d JOIN parcels p ON p.id = d.parcel_id
                     WHERE d.batch_id IS NULL AND (CAST(?1 AS TEXT) IS NULL OR p.dock = ?1) ORDER BY d.id",
                    args![dock],
                    &mut |r| {
                        let id: i64 = r.get(0)?;
                        parcels.insert(r.get::<i64>(1)?);
                        match taken.due.last_mut() {
                            Some((_, last)) if *last + 1 == id => *last = id,
                            _ => taken.due.push((id, id)),
                        }
                        taken.due_rows += 1;
                        Ok(())
                    },
                )?;
                taken.parcels = parcels.into_iter().collect();
            }
            Span::All => {
                taken.parcels = parcels_in(db, 0, 0, true)?;
                taken.parcels.retain(at_dock(db, dock)?);
            }
            Span::Batch(id) => {
                let found = db
                    .row("SELECT all_rows, to_audit_id, dock FROM export_batches WHERE id = ?1", args![id])?
                    .map(|r| {
                        Ok::<_, DbError>((r.get::<bool>(0)?, r.get::<i64>(1)?, r.get::<Option<String>>(2)?))
                    })
                    .transpose()?;
                let Some((all, to, dock)) = found else { return Ok(None) };
                taken.dock = dock;
                taken.parcels = match all {
                    // An `--all` batch: what was closed up to its end of the log, at its dock.
                    true => {
                        let mut parcels = parcels_in(db, 0, to, false)?;
                        parcels.retain(at_dock(db, taken.dock.as_deref())?);
                        parcels
                    }
                    false => db.map(
                        "SELECT DISTINCT parcel_id FROM export_due WHERE batch_id = ?1 ORDER BY parcel_id",
                        args![id],
                        |r| r.get(0),
                    )?,
                };
            }
        }
        Ok(Some(reading))
    }

    /// Records the batch of what an export took, in one short write transaction that also
    /// marks the rows it took with it; its id. None when another export took some of those
    /// rows since the snapshot (this one would overlap it), or took the number `named` the
    /// file is named with: the caller makes its export again. None commits nothing.
    pub fn record_export(
        &mut self,
        taken: &Taken,
        b: &NewBatch<'_>,
        named: Option<i64>,
    ) -> DbResult<Option<i64>> {
        in_tx(self.db(), Mode::Write, |tx| {
            // What a batch that cannot be recorded wrote is rolled back to here.
            // Another export recording the same number at once (several writers on a central
            // database) loses on the key and is made again, as one overtaken.
            tx.batch("SAVEPOINT batch")?;
            let batch = match record_in(tx, taken, b, named) {
                Err(e) if is_constraint(&e) => None,
                other => other?,
            };
            tx.batch(if batch.is_some() { "RELEASE batch" } else { "ROLLBACK TO batch; RELEASE batch" })?;
            Ok(batch)
        })
    }
}

/// [`Store::record_export`] in its transaction: None when the batch is not to be recorded
/// (the caller rolls back what this wrote).
fn record_in(tx: &dyn Sql, taken: &Taken, b: &NewBatch<'_>, named: Option<i64>) -> DbResult<Option<i64>> {
    if let (Some(n), false) = (named, matches!(taken.span, Span::Batch(_))) {
        if next_batch_id(tx)? != n {
            return Ok(None);
        }
    }
    let batch = match taken.span {
        Span::Batch(id) => id,
        _ => tx.one(
            "INSERT INTO export_batches (id, created_at, created_by, format, path, all_rows, from_audit_id, to_audit_id, rows, dock)
             VALUES ((SELECT coalesce(max(id), 0) + 1 FROM export_batches), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
            args![
                timestamp(b.now),
                b.by,
                b.format,
                b.path,
                taken.span == Span::All,
                taken.from_audit,
                taken.to_audit,
                b.rows as i64,
                taken.dock
            ],
        )?,
    };
    match taken.span {
        Span::SinceLast => {
            // Exactly the rows the snapshot saw; any fewer still unmarked means another
            // export took some meanwhile.
            let mut marked = 0;
            for (first, last) in &taken.due {
                marked += tx.exec(
                    "UPDATE export_due SET batch_id = ?1 WHERE batch_id IS NULL AND id BETWEEN ?2 AND ?3",
                    args![batch, first, last],
                )?;
            }
            if marked != taken.due_rows {
                return Ok(None);
            }
        }
        Span::All | Span::Batch(_) => {}
    }
    // The chain's head as this batch saw it: a copy of the log kept with after-sales' files.
    let dock = taken.dock.as_deref().map(|d| format!(" of dock {d}")).unwrap_or_default();
    let detail = format!("{} rows{dock}; log head {}", b.rows, super::chain::head(tx)?);
    super::audit(tx, b.now, None, b.by, "export", Some(&format!("B{batch}")), Some(&detail))?;
    Ok(Some(batch))
}

/// What a span of the log held (what batches took before marks, schema version 8, and what
/// an `--all` batch made again takes): the parcels closed, or with a
/// review decided, within the span (all closed ones for `all`),
/// the last box of each return that closed in it (its missing units are in that box's rows),
/// and the box of each unit the policy refused in it (one whose boxes never all came).
/// Also read by the SQLite migration to version 8 ([`mark_earlier_batches`]). Not every
/// entry's subject is a letter and a number (an import's is its kind): only a unit's
/// (`U00000004`) is cast, since PostgreSQL refuses to cast other text and may join before it
/// filters.
pub(super) fn parcels_in(db: &dyn Sql, from: i64, to: i64, all: bool) -> DbResult<Vec<i64>> {
    if all {
        return db.map("SELECT id FROM parcels WHERE state <> 'open' ORDER BY id", args![], |r| r.get(0));
    }
    db.map(
        "SELECT id FROM parcels WHERE closed_audit_id > ?1 AND closed_audit_id <= ?2
         UNION SELECT parcel_id FROM reviews WHERE decided_audit_id > ?1 AND decided_audit_id <= ?2
         UNION SELECT last_parcel_id FROM return_receipts WHERE closed_audit_id > ?1 AND closed_audit_id <= ?2
         UNION SELECT u.parcel_id FROM audit_log a
               JOIN units u ON u.id = CAST(CASE WHEN a.action = 'unit' THEN substr(a.subject, 2) END AS INTEGER)
               WHERE a.id > ?1 AND a.id <= ?2 AND a.action = 'unit' AND a.actor = 'policy'
         ORDER BY 1",
        args![from, to],
        |r| r.get(0),
    )
}

/// Which of the parcels are kept for `dock` (None: every one), as a filter.
fn at_dock(db: &dyn Sql, dock: Option<&str>) -> DbResult<impl FnMut(&i64) -> bool> {
    let there: Option<std::collections::HashSet<i64>> = match dock {
        None => None,
        Some(d) => Some(
            db.map("SELECT id FROM parcels WHERE dock = ?1", args![d], |r| r.get(0))?.into_iter().collect(),
        ),
    };
    Ok(move |p: &i64| there.as_ref().is_none_or(|t| t.contains(p)))
}

/// What a batch records.
pub struct NewBatch<'a> {
    pub now: DateTime<FixedOffset>,
    pub by: Option<&'a str>,
    pub format: &'a str,
    pub path: &'a str,
    pub rows: usize,
}

/// The latest review of a parcel (or of one of its units), as the export shows it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ReviewState {
    /// `pending`, `confirmed`, `overturned`, or empty when there was no review.
    pub review: String,
    pub by: String,
    pub at: String,
    pub comment: String,
    pub new_outcome: Option<String>,
    pub new_grade: Option<String>,
}

/// An expected return of a parcel: RMA, order, tracking number, resolution.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ReturnFacts {
    pub rma_no: String,
    pub order_no: String,
    pub tracking_no: Option<String>,
    pub resolution: String,
}

/// Everything the export says of one closed parcel.
#[derive(Debug, Clone, PartialEq)]
pub struct ParcelFacts {
    pub view: ParcelView,
    pub closed_at: Option<String>,
    pub refuse_reason: Option<String>,
    /// The parcel's own review (refused parcel, discrepancy, unidentified).
    pub review: ReviewState,
    pub returns: HashMap<i64, ReturnFacts>,
    /// By unit id: the GTIN it was scanned as, its value in cents, its own review.
    pub units: HashMap<i64, (Option<String>, Option<i64>, ReviewState)>,
    /// By expected line (return id, line number): its barcode and value in cents.
    pub lines: HashMap<(i64, i64), (Option<String>, Option<i64>)>,
    /// The units its returns closed without, by line, as stored when they closed.
    pub missing: Vec<((i64, i64), i64)>,
    /// The SHA-256 names of the photos of its units (by unit id) and of itself (None), in the
    /// order attached.
    pub photos: HashMap<Option<i64>, Vec<String>>,
}

fn parcel_facts(db: &dyn Sql, parcel: i64) -> DbResult<ParcelFacts> {
    let view = load_parcel(db, parcel)?;
    let (closed_at, refuse_reason) = db
        .row("SELECT closed_at, refuse_reason FROM parcels WHERE id = ?1", args![parcel])?
        .map(|r| Ok::<_, DbError>((r.get::<Option<String>>(0)?, r.get::<Option<String>>(1)?)))
        .transpose()?
        .ok_or_else(|| DbError::shape(format!("no parcel {parcel}")))?;
    let returns = view
        .returns
        .iter()
        .map(|r| {
            let facts = ReturnFacts {
                rma_no: r.rma_no.clone(),
                order_no: r.order_no.clone(),
                tracking_no: r.tracking_no.clone(),
                resolution: r.resolution.clone(),
            };
            (r.id, facts)
        })
        .collect();
    // One query each for the reviews, the units and the lines of the parcel.
    let mut reviews: HashMap<Option<i64>, ReviewState> = HashMap::new();
    db.each(
        "SELECT unit_id, decision, decided_by, decided_at, comment, new_outcome, new_grade FROM reviews
         WHERE parcel_id = ?1 ORDER BY id",
        args![parcel],
        &mut |r| {
            // The latest review of each unit (and of the parcel itself) wins.
            let decision: Option<String> = r.get(1)?;
            reviews.insert(
                r.get(0)?,
                ReviewState {
                    review: decision.unwrap_or_else(|| "pending".into()),
                    by: r.get::<Option<String>>(2)?.unwrap_or_default(),
                    at: r.get::<Option<String>>(3)?.unwrap_or_default(),
                    comment: r.get::<Option<String>>(4)?.unwrap_or_default(),
                    new_outcome: r.get(5)?,
                    new_grade: r.get(6)?,
                },
            );
            Ok(())
        },
    )?;
    let units = db
        // A unit keyed in by its SKU keeps the product's barcode (its line's, else the
        // catalog's), not the SKU typed.
        .map(
            "SELECT u.id, coalesce(u.gtin, CASE WHEN upper(trim(u.scan)) = upper(u.sku) THEN coalesce(
                    (SELECT l.barcode FROM return_lines l WHERE l.return_id = u.return_id AND l.line_no = u.line_no),
                    (SELECT min(b.code) FROM product_barcodes b WHERE b.sku = u.sku)) END),
                u.unit_value_cents
             FROM units u WHERE u.parcel_id = ?1",
            args![parcel],
            |r| {
                let id: i64 = r.get(0)?;
                Ok((id, (r.get(1)?, r.get(2)?, reviews.get(&Some(id)).cloned().unwrap_or_default())))
            },
        )?
        .into_iter()
        .collect();
    let lines = db
        .map(
            "SELECT l.return_id, l.line_no, l.barcode, l.unit_value_cents FROM parcel_returns pr
             JOIN return_lines l ON l.return_id = pr.return_id WHERE pr.parcel_id = ?1",
            args![parcel],
            |r| Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?))),
        )?
        .into_iter()
        .collect();
    let missing = db.map(
        "SELECT return_id, line_no, qty FROM discrepancies
         WHERE parcel_id = ?1 AND kind = 'missing' AND line_no IS NOT NULL ORDER BY return_id, line_no, id",
        args![parcel],
        |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)),
    )?;
    // A unit's photos wherever they were taken (a unit of several boxes goes home to its
    // first), and the parcel's own.
    let mut photos: HashMap<Option<i64>, Vec<String>> = HashMap::new();
    db.each(
        "SELECT f.unit_id, f.sha256, f.id FROM photos f WHERE f.parcel_id = ?1 AND f.unit_id IS NULL
         UNION ALL
         SELECT f.unit_id, f.sha256, f.id FROM units u JOIN photos f ON f.unit_id = u.id WHERE u.parcel_id = ?1
         ORDER BY 3",
        args![parcel],
        &mut |r| {
            photos.entry(r.get(0)?).or_default().push(r.get(1)?);
            Ok(())
        },
    )?;
    let review = reviews.remove(&None).unwrap_or_default();
    Ok(ParcelFacts { review, view, closed_at, refuse_reason, returns, units, lines, missing, photos })
}

/// Schema version 8: the batches made before marks get the parcels their spans held, and what
/// changed since the last incremental batch is marked due, so `--batch N` and the next export
/// take what they took before.
pub(super) fn mark_earlier_batches(conn: &Connection) -> DbResult<()> {
    let batches: Vec<(i64, bool, i64, i64)> = conn
        .prepare("SELECT id, all_rows, from_audit_id, to_audit_id FROM export_batches ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    let mut due = conn.prepare("INSERT INTO export_due (parcel_id, batch_id) VALUES (?1, ?2)")?;
    for (id, all, from, to) in batches {
        // An `--all` batch is made again from its span (see `export_reading`).
        if all {
            continue;
        }
        for p in parcels_in(conn, from, to, false)? {
            due.execute(params![p, id])?;
        }
    }
    for p in parcels_in(conn, last_incremental_end(conn)?, max_audit(conn)?, false)? {
        due.execute(params![p, Option::<i64>::None])?;
    }
    Ok(())
}

/// A line of a return, as the evidence shows what was expected.
#[derive(Debug, Clone)]
pub struct EvidenceLine {
    pub line: i64,
    pub sku: String,
    pub title: Option<String>,
    pub qty: i64,
    /// The serial numbers expected.
    pub serials: Vec<String>,
}

/// What the evidence of one return is made of (`export evidence`): the return, what it
/// expected, every box that came for it with what the export says of each, and its photos.
#[derive(Debug, Clone)]
pub struct EvidenceFacts {
    pub return_id: i64,
    pub rma_no: String,
    pub order_no: String,
    /// What the customer said.
    pub reason: Option<String>,
    pub resolution: String,
    pub lines: Vec<EvidenceLine>,
    /// Its boxes, oldest first, each with the dock it was received at.
    pub parcels: Vec<(ParcelFacts, Option<String>)>,
    pub photos: Vec<super::photos::PhotoInfo>,
    /// The audit log's head when this was read.
    pub head: String,
}

impl Store {
    /// The evidence of the return named `rma` (as scanned or typed), read in one snapshot;
    /// None when no return has that number.
    pub fn evidence(&self, rma: &str) -> DbResult<Option<EvidenceFacts>> {
        in_tx(self.db(), Mode::Read, |db| {
            let found = db.row(
                "SELECT id, rma_no, order_no, reason, resolution FROM returns WHERE rma_no = ?1 OR rma_key = ?2",
                args![rma.trim(), crate::domain::tracking::tracking_key(rma.trim())],
            )?;
            let Some(r) = found else { return Ok(None) };
            let return_id: i64 = r.get(0)?;
            let lines = db.map(
                "SELECT l.line_no, l.sku, coalesce(l.title, p.name), l.qty, l.serials FROM return_lines l
                 LEFT JOIN products p ON p.sku = l.sku WHERE l.return_id = ?1 ORDER BY l.line_no",
                args![return_id],
                |r| {
                    let serials: Option<String> = r.get(4)?;
                    let serials =
                        serials.map(|s| s.split(';').map(String::from).collect()).unwrap_or_default();
                    Ok(EvidenceLine {
                        line: r.get(0)?,
                        sku: r.get(1)?,
                        title: r.get(2)?,
                        qty: r.get(3)?,
                        serials,
                    })
                },
            )?;
            let ids: Vec<(i64, Option<String>)> = db.map(
                "SELECT p.id, p.dock FROM parcel_returns pr JOIN parcels p ON p.id = pr.parcel_id
                 WHERE pr.return_id = ?1 ORDER BY p.id",
                args![return_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let mut parcels = Vec::new();
            for (id, dock) in &ids {
                parcels.push((parcel_facts(db, *id)?, dock.clone()));
            }
            let ids: Vec<i64> = ids.iter().map(|p| p.0).collect();
            let photos = super::photos::of_parcels(db, &ids)?;
            Ok(Some(EvidenceFacts {
                return_id,
                rma_no: r.get(1)?,
                order_no: r.get(2)?,
                reason: r.get(3)?,
                resolution: r.get(4)?,
                lines,
                parcels,
                photos,
                head: super::chain::head(db)?,
            }))
        })
    }
}
