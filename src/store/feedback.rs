//! What the feedback sheet reads, for a period given as two instants (RFC 3339 with their
//! offsets; SQLite's julianday() reads the offsets and compares in UTC). The sheet itself is
//! put together in `crate::export::feedback`.

use rusqlite::{params, Connection};

const IN_PERIOD: &str =
    "julianday(u.inspected_at) >= julianday(?1) AND julianday(u.inspected_at) < julianday(?2)";

/// Units inspected in the period, by cause code.
pub fn cause_counts(conn: &Connection, start: &str, end: &str) -> rusqlite::Result<Vec<(String, i64)>> {
    conn.prepare_cached(&format!(
        "SELECT u.cause, count(*) FROM units u WHERE u.cause IS NOT NULL AND {IN_PERIOD} GROUP BY u.cause"
    ))?
    .query_map(params![start, end], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}

/// The ten SKUs with the most product-caused returns in the period: SKU, name, units.
pub fn top_product_skus(
    conn: &Connection,
    start: &str,
    end: &str,
) -> rusqlite::Result<Vec<(String, String, i64)>> {
    conn.prepare_cached(&format!(
        "SELECT u.sku, coalesce(p.name, ''), count(*) AS n FROM units u LEFT JOIN products p ON p.sku = u.sku
         WHERE u.cause = 'PRODUCT-DEFECT' AND u.sku IS NOT NULL AND {IN_PERIOD}
         GROUP BY u.sku ORDER BY n DESC, u.sku LIMIT 10"
    ))?
    .query_map(params![start, end], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
    .collect()
}

/// The turnaround of each return closed in the period (not refused), in hours from the
/// arrival of its first box to its close, then of each parcel signed in the period that no
/// return claims (unidentified), from arrival to signature.
pub fn turnaround_hours(conn: &Connection, start: &str, end: &str) -> rusqlite::Result<Vec<f64>> {
    conn.prepare_cached(
        "SELECT (julianday(closed_at) - julianday(first_at)) * 24 FROM return_receipts
         WHERE closed_how <> 'refused' AND julianday(closed_at) >= julianday(?1) AND julianday(closed_at) < julianday(?2)
         UNION ALL
         SELECT (julianday(closed_at) - julianday(received_at)) * 24 FROM parcels p
         WHERE state = 'signed' AND julianday(closed_at) >= julianday(?1) AND julianday(closed_at) < julianday(?2)
           AND NOT EXISTS (SELECT 1 FROM parcel_returns pr WHERE pr.parcel_id = p.id)",
    )?
    .query_map(params![start, end], |r| r.get(0))?
    .collect()
}

/// Parcels signed in the period, and the returns closed in it that came in more than one box.
pub fn signed_and_multi_box(conn: &Connection, start: &str, end: &str) -> rusqlite::Result<(i64, i64)> {
    let signed = conn.prepare_cached(
        "SELECT count(*) FROM parcels
         WHERE state = 'signed' AND julianday(closed_at) >= julianday(?1) AND julianday(closed_at) < julianday(?2)",
    )?
    .query_row(params![start, end], |r| r.get(0))?;
    let multi = conn
        .prepare_cached(
            "SELECT count(*) FROM return_receipts
         WHERE boxes > 1 AND julianday(closed_at) >= julianday(?1) AND julianday(closed_at) < julianday(?2)",
        )?
        .query_row(params![start, end], |r| r.get(0))?;
    Ok((signed, multi))
}

/// A parcel still open.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OpenParcel {
    pub parcel_id: i64,
    pub scan: String,
    pub station: String,
    pub received_at: String,
    /// Whole days open at `at`.
    pub days: i64,
}

/// The parcels open for more than `days` days at the instant `at`, oldest first.
pub fn open_longer_than(conn: &Connection, at: &str, days: u32) -> rusqlite::Result<Vec<OpenParcel>> {
    conn.prepare_cached(
        "SELECT id, scan, station, received_at, CAST(julianday(?1) - julianday(received_at) AS INTEGER) FROM parcels
         WHERE state = 'open' AND julianday(?1) - julianday(received_at) > ?2 ORDER BY received_at",
    )?
    .query_map(params![at, days], |r| {
        Ok(OpenParcel {
            parcel_id: r.get(0)?,
            scan: r.get(1)?,
            station: r.get(2)?,
            received_at: r.get(3)?,
            days: r.get(4)?,
        })
    })?
    .collect()
}

/// Everything the feedback sheet reads for one period, from one snapshot (so its counts add up
/// even while stations keep signing).
pub struct Figures {
    pub causes: Vec<(String, i64)>,
    pub top_product_skus: Vec<(String, String, i64)>,
    pub turnaround_hours: Vec<f64>,
    pub parcels_signed: i64,
    pub returns_in_several_boxes: i64,
    pub waiting: Vec<OpenParcel>,
}

impl super::Store {
    /// The sheet's figures for the period `start` to `end` (instants with their offsets), and
    /// the parcels open longer than `late_after_days` at `end`.
    pub fn feedback_figures(
        &mut self,
        start: &str,
        end: &str,
        late_after_days: u32,
    ) -> super::DbResult<Figures> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?;
        let (parcels_signed, returns_in_several_boxes) = signed_and_multi_box(&tx, start, end)?;
        let figures = Figures {
            causes: cause_counts(&tx, start, end)?,
            top_product_skus: top_product_skus(&tx, start, end)?,
            turnaround_hours: turnaround_hours(&tx, start, end)?,
            parcels_signed,
            returns_in_several_boxes,
            waiting: open_longer_than(&tx, end, late_after_days)?,
        };
        tx.commit()?;
        Ok(figures)
    }
}
