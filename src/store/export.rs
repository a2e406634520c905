//! What an export to after-sales reads and records: the parcels marked due (or all, or a
//! batch's again), each parcel's facts (units, lines, returns, reviews), and the batch.
//! The rows themselves are built from these facts in `crate::export`.

use super::station::{load_parcel, ParcelView};
use super::timestamp;
use super::{DbResult, Store};
use chrono::{DateTime, FixedOffset};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
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
fn max_audit(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT coalesce(max(id), 0) FROM audit_log", [], |r| r.get(0))
}

/// The end of the last incremental batch's span of the log (kept for reading, no longer what
/// decides what an export takes).
fn last_incremental_end(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT coalesce(max(to_audit_id), 0) FROM export_batches WHERE all_rows = 0", [], |r| {
        r.get(0)
    })
}

/// The last incremental batch, if there was one.
fn last_incremental_batch(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.query_row("SELECT max(id) FROM export_batches WHERE all_rows = 0", [], |r| r.get(0))
}

/// The id the next batch recorded gets.
fn next_batch_id(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT coalesce(max(id), 0) + 1 FROM export_batches", [], |r| r.get(0))
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
}

/// One export's reading: a snapshot (a read transaction; stations keep writing meanwhile) of
/// the parcels it takes, from which each parcel's facts are read.
pub struct Reading<'s> {
    tx: rusqlite::Transaction<'s>,
    taken: Taken,
}

impl Reading<'_> {
    /// The parcels this export takes, in order.
    pub fn parcels(&self) -> &[i64] {
        &self.taken.parcels
    }

    /// Everything the export says of one parcel.
    pub fn facts(&self, parcel: i64) -> DbResult<ParcelFacts> {
        Ok(parcel_facts(&self.tx, parcel)?)
    }

    /// The last incremental batch as this snapshot sees it.
    pub fn last_incremental_batch(&self) -> DbResult<Option<i64>> {
        Ok(last_incremental_batch(&self.tx)?)
    }

    /// The id the next batch would get, as this snapshot sees it.
    pub fn next_batch_id(&self) -> DbResult<i64> {
        Ok(next_batch_id(&self.tx)?)
    }

    /// Ends the snapshot; what it took, for [`Store::record_export`].
    pub fn close(self) -> DbResult<Taken> {
        self.tx.commit()?;
        Ok(self.taken)
    }
}

impl Store {
    /// Opens an export's snapshot of `span` (None: there is no such batch). Reads only: no lock
    /// is asked of anyone, and WAL readers never block the writer.
    pub fn export_reading(&mut self, span: Span) -> DbResult<Option<Reading<'_>>> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let to_audit = max_audit(&tx)?;
        let mut taken =
            Taken { span, due: Vec::new(), due_rows: 0, parcels: Vec::new(), from_audit: 0, to_audit };
        match span {
            Span::SinceLast => {
                taken.from_audit = last_incremental_end(&tx)?;
                let mut parcels = std::collections::BTreeSet::new();
                let mut rows =
                    tx.prepare("SELECT id, parcel_id FROM export_due WHERE batch_id IS NULL ORDER BY id")?;
                let mut rows = rows.query([])?;
                while let Some(r) = rows.next()? {
                    let id: i64 = r.get(0)?;
                    parcels.insert(r.get::<_, i64>(1)?);
                    match taken.due.last_mut() {
                        Some((_, last)) if *last + 1 == id => *last = id,
                        _ => taken.due.push((id, id)),
                    }
                    taken.due_rows += 1;
                }
                taken.parcels = parcels.into_iter().collect();
            }
            Span::All => {
                taken.parcels = tx
                    .prepare("SELECT id FROM parcels WHERE state <> 'open' ORDER BY id")?
                    .query_map([], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
            }
            Span::Batch(id) => {
                let found: Option<(bool, i64)> = tx
                    .query_row("SELECT all_rows, to_audit_id FROM export_batches WHERE id = ?1", [id], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()?;
                taken.parcels = match found {
                    None => return Ok(None),
                    // An `--all` batch: what was closed up to its end of the log.
                    Some((true, to)) => parcels_in(&tx, 0, to, false)?,
                    Some((false, _)) => tx
                        .prepare("SELECT DISTINCT parcel_id FROM export_due WHERE batch_id = ?1 ORDER BY parcel_id")?
                        .query_map([id], |r| r.get(0))?
                        .collect::<Result<_, _>>()?,
                };
            }
        }
        Ok(Some(Reading { tx, taken }))
    }

    /// Records the batch of what an export took, in one short write transaction that also
    /// marks the rows it took with it; its id. None when another export took some of those
    /// rows since the snapshot (this one would overlap it), or took the number `named` the
    /// file is named with: the caller makes its export again.
    pub fn record_export(
        &mut self,
        taken: &Taken,
        b: &NewBatch<'_>,
        named: Option<i64>,
    ) -> DbResult<Option<i64>> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let (Some(n), false) = (named, matches!(taken.span, Span::Batch(_))) {
            if next_batch_id(&tx)? != n {
                return Ok(None);
            }
        }
        let batch = match taken.span {
            Span::Batch(id) => id,
            _ => {
                tx.execute(
                    "INSERT INTO export_batches (created_at, created_by, format, path, all_rows, from_audit_id, to_audit_id, rows)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        timestamp(b.now),
                        b.by,
                        b.format,
                        b.path,
                        taken.span == Span::All,
                        taken.from_audit,
                        taken.to_audit,
                        b.rows as i64
                    ],
                )?;
                tx.last_insert_rowid()
            }
        };
        match taken.span {
            Span::SinceLast => {
                // Exactly the rows the snapshot saw; any fewer still unmarked means another
                // export took some meanwhile.
                let mut mark = tx.prepare_cached(
                    "UPDATE export_due SET batch_id = ?1 WHERE batch_id IS NULL AND id BETWEEN ?2 AND ?3",
                )?;
                let mut marked = 0;
                for (first, last) in &taken.due {
                    marked += mark.execute(params![batch, first, last])?;
                }
                if marked != taken.due_rows {
                    return Ok(None);
                }
            }
            Span::All | Span::Batch(_) => {}
        }
        // The chain's head as this batch saw it: a copy of the log kept with after-sales' files.
        let detail = format!("{} rows; log head {}", b.rows, super::chain::head(&*tx)?);
        super::audit(&*tx, b.now, None, b.by, "export", Some(&format!("B{batch}")), Some(&detail))?;
        tx.commit()?;
        Ok(Some(batch))
    }
}

/// What a span of the log held (what batches took before marks, schema version 8, and what
/// an `--all` batch made again takes): the parcels closed, or with a
/// review decided, within the span (all closed ones for `all`),
/// the last box of each return that closed in it (its missing units are in that box's rows),
/// and the box of each unit the policy refused in it (one whose boxes never all came).
pub(super) fn parcels_in(conn: &Connection, from: i64, to: i64, all: bool) -> rusqlite::Result<Vec<i64>> {
    let sql = if all {
        "SELECT id FROM parcels WHERE state <> 'open' ORDER BY id"
    } else {
        "SELECT id FROM parcels WHERE closed_audit_id > ?1 AND closed_audit_id <= ?2
         UNION SELECT parcel_id FROM reviews WHERE decided_audit_id > ?1 AND decided_audit_id <= ?2
         UNION SELECT last_parcel_id FROM return_receipts WHERE closed_audit_id > ?1 AND closed_audit_id <= ?2
         UNION SELECT u.parcel_id FROM audit_log a JOIN units u ON u.id = CAST(substr(a.subject, 2) AS INTEGER)
               WHERE a.id > ?1 AND a.id <= ?2 AND a.action = 'unit' AND a.actor = 'policy'
         ORDER BY 1"
    };
    let mut stmt = conn.prepare(sql)?;
    let get = |r: &rusqlite::Row| r.get::<_, i64>(0);
    if all {
        stmt.query_map([], get)?.collect()
    } else {
        stmt.query_map(params![from, to], get)?.collect()
    }
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
}

fn parcel_facts(conn: &Connection, parcel: i64) -> rusqlite::Result<ParcelFacts> {
    let view = load_parcel(conn, parcel)?;
    let (closed_at, refuse_reason) =
        conn.query_row("SELECT closed_at, refuse_reason FROM parcels WHERE id = ?1", [parcel], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
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
    let mut stmt = conn.prepare_cached(
        "SELECT unit_id, decision, decided_by, decided_at, comment, new_outcome, new_grade FROM reviews
         WHERE parcel_id = ?1 ORDER BY id",
    )?;
    let mut found = stmt.query([parcel])?;
    while let Some(r) = found.next()? {
        // The latest review of each unit (and of the parcel itself) wins.
        let decision: Option<String> = r.get(1)?;
        reviews.insert(
            r.get(0)?,
            ReviewState {
                review: decision.unwrap_or_else(|| "pending".into()),
                by: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                at: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                comment: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                new_outcome: r.get(5)?,
                new_grade: r.get(6)?,
            },
        );
    }
    drop(found);
    let units = conn
        // A unit keyed in by its SKU keeps the product's barcode (its line's, else the
        // catalog's), not the SKU typed.
        .prepare_cached(
            "SELECT u.id, coalesce(u.gtin, CASE WHEN upper(trim(u.scan)) = upper(u.sku) THEN coalesce(
                    (SELECT l.barcode FROM return_lines l WHERE l.return_id = u.return_id AND l.line_no = u.line_no),
                    (SELECT min(b.code) FROM product_barcodes b WHERE b.sku = u.sku)) END),
                u.unit_value_cents
             FROM units u WHERE u.parcel_id = ?1",
        )?
        .query_map([parcel], |r| {
            let id: i64 = r.get(0)?;
            Ok((id, (r.get(1)?, r.get(2)?, reviews.get(&Some(id)).cloned().unwrap_or_default())))
        })?
        .collect::<Result<_, _>>()?;
    let lines = conn
        .prepare_cached(
            "SELECT l.return_id, l.line_no, l.barcode, l.unit_value_cents FROM parcel_returns pr
             JOIN return_lines l ON l.return_id = pr.return_id WHERE pr.parcel_id = ?1",
        )?
        .query_map([parcel], |r| Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?))))?
        .collect::<Result<_, _>>()?;
    let missing = conn
        .prepare_cached(
            "SELECT return_id, line_no, qty FROM discrepancies
             WHERE parcel_id = ?1 AND kind = 'missing' AND line_no IS NOT NULL ORDER BY return_id, line_no, id",
        )?
        .query_map([parcel], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let review = reviews.remove(&None).unwrap_or_default();
    Ok(ParcelFacts { review, view, closed_at, refuse_reason, returns, units, lines, missing })
}

/// Schema version 8: the batches made before marks get the parcels their spans held, and what
/// changed since the last incremental batch is marked due, so `--batch N` and the next export
/// take what they took before.
pub(super) fn mark_earlier_batches(conn: &Connection) -> rusqlite::Result<()> {
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
