//! What the feedback sheet reads, for a period given as two instants (RFC 3339 with their
//! offsets). Times are stored as the dock's UTC text (see [`super::timestamp`]), so the bounds
//! are written the same way and compared as text; hours and days are worked out here.
//! The sheet itself is put together in `crate::export::feedback`.

use super::sql::{args, in_tx, Mode, Sql, SqlExt};
use super::{timestamp, DbError, DbResult};
use chrono::{DateTime, FixedOffset};

/// An instant given with its offset, as the dock stores times; None when it is not one (then
/// nothing is in a period it bounds, as nothing was when SQL read it).
fn instant(at: &str) -> Option<String> {
    DateTime::parse_from_rfc3339(at).ok().map(timestamp)
}

/// The period's bounds as stored times.
fn period(start: &str, end: &str) -> Option<(String, String)> {
    Some((instant(start)?, instant(end)?))
}

/// A stored time, for working out a duration.
fn stored(at: &str) -> DbResult<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(at).map_err(|e| DbError::shape(format!("time {at:?}: {e}")))
}

/// Units inspected in the period, by cause code.
pub fn cause_counts(
    db: &dyn Sql,
    start: &str,
    end: &str,
    dock: Option<&str>,
) -> DbResult<Vec<(String, i64)>> {
    let Some((start, end)) = period(start, end) else { return Ok(Vec::new()) };
    db.map(
        "SELECT u.cause, count(*) FROM units u JOIN parcels p ON p.id = u.parcel_id
         WHERE u.cause IS NOT NULL AND u.inspected_at >= ?1 AND u.inspected_at < ?2
           AND (CAST(?3 AS TEXT) IS NULL OR p.dock = ?3) GROUP BY u.cause",
        args![start, end, dock],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// The ten SKUs with the most product-caused returns in the period: SKU, name, units.
pub fn top_product_skus(
    db: &dyn Sql,
    start: &str,
    end: &str,
    dock: Option<&str>,
) -> DbResult<Vec<(String, String, i64)>> {
    let Some((start, end)) = period(start, end) else { return Ok(Vec::new()) };
    db.map(
        "SELECT u.sku, coalesce(k.name, ''), count(*) AS n FROM units u LEFT JOIN products k ON k.sku = u.sku
         JOIN parcels p ON p.id = u.parcel_id
         WHERE u.cause = 'PRODUCT-DEFECT' AND u.sku IS NOT NULL AND u.inspected_at >= ?1 AND u.inspected_at < ?2
           AND (CAST(?3 AS TEXT) IS NULL OR p.dock = ?3)
         GROUP BY u.sku, k.name ORDER BY n DESC, u.sku LIMIT 10",
        args![start, end, dock],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

/// The turnaround of each return closed in the period (not refused), in hours from the
/// arrival of its first box to its close, then of each parcel signed in the period that no
/// return claims (unidentified), from arrival to signature.
/// A return counts at the dock of its last box.
pub fn turnaround_hours(db: &dyn Sql, start: &str, end: &str, dock: Option<&str>) -> DbResult<Vec<f64>> {
    let Some((start, end)) = period(start, end) else { return Ok(Vec::new()) };
    let spans = db.map(
        "SELECT r.first_at, r.closed_at FROM return_receipts r JOIN parcels p ON p.id = r.last_parcel_id
         WHERE r.closed_how <> 'refused' AND r.closed_at >= ?1 AND r.closed_at < ?2 AND (CAST(?3 AS TEXT) IS NULL OR p.dock = ?3)
         UNION ALL
         SELECT received_at, closed_at FROM parcels p
         WHERE state = 'signed' AND closed_at >= ?1 AND closed_at < ?2 AND (CAST(?3 AS TEXT) IS NULL OR p.dock = ?3)
           AND NOT EXISTS (SELECT 1 FROM parcel_returns pr WHERE pr.parcel_id = p.id)",
        args![start, end, dock],
        |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
    )?;
    spans
        .iter()
        .map(|(from, to)| Ok((stored(to)? - stored(from)?).num_milliseconds() as f64 / 3_600_000.0))
        .collect()
}

/// Parcels signed in the period, and the returns closed in it that came in more than one box.
pub fn signed_and_multi_box(
    db: &dyn Sql,
    start: &str,
    end: &str,
    dock: Option<&str>,
) -> DbResult<(i64, i64)> {
    let Some((start, end)) = period(start, end) else { return Ok((0, 0)) };
    let signed = db.one(
        "SELECT count(*) FROM parcels p WHERE state = 'signed' AND closed_at >= ?1 AND closed_at < ?2 AND (CAST(?3 AS TEXT) IS NULL OR p.dock = ?3)",
        args![start, end, dock],
    )?;
    let multi = db.one(
        "SELECT count(*) FROM return_receipts r JOIN parcels p ON p.id = r.last_parcel_id
         WHERE r.boxes > 1 AND r.closed_at >= ?1 AND r.closed_at < ?2 AND (CAST(?3 AS TEXT) IS NULL OR p.dock = ?3)",
        args![start, end, dock],
    )?;
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
pub fn open_longer_than(db: &dyn Sql, at: &str, days: u32, dock: Option<&str>) -> DbResult<Vec<OpenParcel>> {
    let Ok(at) = DateTime::parse_from_rfc3339(at) else { return Ok(Vec::new()) };
    // Open more than `days` days: received before this.
    let before = timestamp(at - chrono::Duration::days(i64::from(days)));
    let open = db.map(
        "SELECT id, scan, station, received_at FROM parcels p
         WHERE state = 'open' AND received_at < ?1 AND (CAST(?2 AS TEXT) IS NULL OR p.dock = ?2)
         ORDER BY received_at",
        args![before, dock],
        |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?, r.get::<String>(2)?, r.get::<String>(3)?)),
    )?;
    open.into_iter()
        .map(|(parcel_id, scan, station, received_at)| {
            let days = (at - stored(&received_at)?).num_days();
            Ok(OpenParcel { parcel_id, scan, station, received_at, days })
        })
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
    /// the parcels open longer than `late_after_days` at `end`, of the parcels received at
    /// `dock` (None: every dock).
    pub fn feedback_figures(
        &mut self,
        start: &str,
        end: &str,
        late_after_days: u32,
        dock: Option<&str>,
    ) -> super::DbResult<Figures> {
        in_tx(self.db(), Mode::Read, |tx| {
            let (parcels_signed, returns_in_several_boxes) = signed_and_multi_box(tx, start, end, dock)?;
            Ok(Figures {
                causes: cause_counts(tx, start, end, dock)?,
                top_product_skus: top_product_skus(tx, start, end, dock)?,
                turnaround_hours: turnaround_hours(tx, start, end, dock)?,
                parcels_signed,
                returns_in_several_boxes,
                waiting: open_longer_than(tx, end, late_after_days, dock)?,
            })
        })
    }
}
