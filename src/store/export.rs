//! What an export to after-sales reads and records: the span of the audit log it covers, the
//! parcels in that span, each parcel's facts (units, lines, returns, reviews), and the batch.
//! The rows themselves are built from these facts in `crate::export`.

use super::station::{load_parcel, ParcelView};
use super::timestamp;
use chrono::{DateTime, FixedOffset};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;

/// The last audit entry: an export covers the log up to here.
pub fn max_audit(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT coalesce(max(id), 0) FROM audit_log", [], |r| r.get(0))
}

/// Where the next incremental export starts: the end of the last one.
pub fn last_incremental_end(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT coalesce(max(to_audit_id), 0) FROM export_batches WHERE all_rows = 0", [], |r| {
        r.get(0)
    })
}

/// The last incremental batch, if there was one.
pub fn last_incremental_batch(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.query_row("SELECT max(id) FROM export_batches WHERE all_rows = 0", [], |r| r.get(0))
}

/// The id the next batch recorded gets.
pub fn next_batch_id(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT coalesce(max(id), 0) + 1 FROM export_batches", [], |r| r.get(0))
}

/// The audit span of batch `id`, if there is such a batch.
pub fn batch_span(conn: &Connection, id: i64) -> rusqlite::Result<Option<(i64, i64)>> {
    conn.query_row("SELECT from_audit_id, to_audit_id FROM export_batches WHERE id = ?1", [id], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .optional()
}

/// The parcels closed, or with a review decided, within the span (all closed ones for `all`),
/// the last box of each return that closed in it (its missing units are in that box's rows),
/// and the box of each unit the policy refused in it (one whose boxes never all came).
pub fn parcels_in(conn: &Connection, from: i64, to: i64, all: bool) -> rusqlite::Result<Vec<i64>> {
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
    pub all_rows: bool,
    pub from: i64,
    pub to: i64,
    pub rows: usize,
}

/// Records an export batch; its id.
pub fn record_batch(conn: &Connection, b: &NewBatch<'_>) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO export_batches (created_at, created_by, format, path, all_rows, from_audit_id, to_audit_id, rows)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![timestamp(b.now), b.by, b.format, b.path, b.all_rows, b.from, b.to, b.rows as i64],
    )?;
    Ok(conn.last_insert_rowid())
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

pub fn parcel_facts(conn: &Connection, parcel: i64) -> rusqlite::Result<ParcelFacts> {
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
