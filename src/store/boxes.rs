//! A return over several boxes. A parcel is one box; each return has a receipt once a box of
//! it was signed or refused (migration 7): how many boxes came, since when, and how it closed.
//! While a return is open its units not yet arrived are *awaited*; they become *missing* when
//! the return closes without them: at the box the operator calls the last, or after
//! `policy.await_boxes_days` with nothing more.

use super::chain::{self, By};
use super::sql::{args, Sql, SqlExt};
use super::{audit, timestamp, DbError, DbResult};
use crate::domain::codes::ParcelState;
use crate::domain::parcel::{Discrepancy, LineRef};
use chrono::{DateTime, Duration, FixedOffset};

/// How a return closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// Every expected unit arrived.
    Complete,
    /// The operator said this was the last box: what never came is missing.
    LastBox,
    /// Nothing more came in time: what never came is missing.
    TimedOut,
    /// A box of it was refused at the dock.
    Refused,
}

impl Closed {
    pub fn code(self) -> &'static str {
        match self {
            Closed::Complete => "complete",
            Closed::LastBox => "last_box",
            Closed::TimedOut => "timed_out",
            Closed::Refused => "refused",
        }
    }

    pub fn from_code(code: &str) -> Option<Closed> {
        [Closed::Complete, Closed::LastBox, Closed::TimedOut, Closed::Refused]
            .into_iter()
            .find(|c| c.code() == code)
    }
}

/// What the operator says of the units not in this box when signing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rest {
    /// This is the last box: what never came is missing.
    Missing,
    /// More boxes are to come: it is awaited.
    Awaited,
}

/// A return's receipt: its boxes so far, and its closing.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub return_id: i64,
    pub first_at: String,
    pub boxes: i64,
    pub last_parcel_id: i64,
    pub last_at: String,
    pub closed: Option<Closed>,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
}

pub fn receipt(db: &dyn Sql, return_id: i64) -> DbResult<Option<Receipt>> {
    db.row(
        "SELECT return_id, first_at, boxes, last_parcel_id, last_at, closed_how, closed_at, closed_by
         FROM return_receipts WHERE return_id = ?1",
        args![return_id],
    )?
    .map(|r| {
        Ok(Receipt {
            return_id: r.get(0)?,
            first_at: r.get(1)?,
            boxes: r.get(2)?,
            last_parcel_id: r.get(3)?,
            last_at: r.get(4)?,
            closed: r.get::<Option<String>>(5)?.as_deref().and_then(Closed::from_code),
            closed_at: r.get(6)?,
            closed_by: r.get(7)?,
        })
    })
    .transpose()
}

/// What of one line arrived in other boxes: how many units, and each serial with its box (see
/// [`super::view`]).
pub type Arrived = (i64, Vec<(String, i64)>);

/// What a box did to one of its returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub rma_no: String,
    /// Units of it not arrived in any box yet.
    pub awaited: i64,
    /// How it closed, if it did.
    pub closed: Option<Closed>,
}

/// Counts parcel `parcel_id` (just signed or refused, with `found` standing) as a box of each of
/// its returns, and closes those it finishes: every unit arrived, a refused box, or (`rest`) the
/// operator's word that this was the last. `audit_id` is the entry that signed or linked it.
/// `refused_before`: the caller refused the incomplete units of these returns in this
/// transaction already (a last box's signature does, before it works out what stands), so a
/// return that closes here has none left to refuse.
#[allow(clippy::too_many_arguments)]
pub fn record_box(
    db: &dyn Sql,
    by: By<'_>,
    parcel_id: i64,
    found: &[Discrepancy],
    rest: Rest,
    audit_id: i64,
    refused_before: bool,
) -> DbResult<Vec<Settled>> {
    // The parcel, each of its returns and the receipt each has so far, in one statement.
    let rows = db.rows(
        "SELECT p.received_at, p.state, r.id, r.rma_no, x.return_id IS NOT NULL, x.closed_how
         FROM parcels p LEFT JOIN parcel_returns pr ON pr.parcel_id = p.id
         LEFT JOIN returns r ON r.id = pr.return_id LEFT JOIN return_receipts x ON x.return_id = r.id
         WHERE p.id = ?1 ORDER BY r.id",
        args![parcel_id],
    )?;
    let first = rows.first().ok_or_else(|| DbError::shape(format!("no parcel {parcel_id}")))?;
    let (received_at, state): (String, ParcelState) =
        (first.get(0)?, super::station::parcel_state(first, 1)?);
    let mut out = Vec::new();
    for r in &rows {
        let Some(rid) = r.get::<Option<i64>>(2)? else { continue };
        let rma_no: String = r.get(3)?;
        let (received, closed_before): (bool, Option<Closed>) =
            (r.get(4)?, r.get::<Option<String>>(5)?.as_deref().and_then(Closed::from_code));
        let awaited: i64 = found
            .iter()
            .filter(|d| d.awaited_by() == Some(rid))
            .map(|d| match d {
                Discrepancy::Missing { qty, .. } => *qty,
                _ => 1,
            })
            .sum();
        if closed_before.is_some() {
            // Closed already (a box linked after the return closed): nothing changes.
            out.push(Settled { rma_no, awaited: 0, closed: closed_before });
            continue;
        }
        let closed = if state == ParcelState::Refused {
            Some(Closed::Refused)
        } else if awaited == 0 {
            Some(Closed::Complete)
        } else if rest == Rest::Missing {
            Some(Closed::LastBox)
        } else {
            None
        };
        if received {
            chain::confirm(db, by, &chain::RECEIPTS, rid)?;
        }
        // The earlier of the two firsts by CASE (SQLite's two-argument min is PostgreSQL's
        // least); the row's own columns named by its table, as PostgreSQL needs beside
        // `excluded`. The receipt as written comes back, to be logged.
        let written = db
            .row(
                &format!(
                    "INSERT INTO return_receipts
                        (return_id, first_at, boxes, last_parcel_id, last_at, closed_how, closed_at, closed_by, closed_audit_id)
                     VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (return_id) DO UPDATE SET
                        first_at = CASE WHEN excluded.first_at < return_receipts.first_at THEN excluded.first_at
                                        ELSE return_receipts.first_at END,
                        boxes = return_receipts.boxes + 1,
                        last_parcel_id = excluded.last_parcel_id, last_at = excluded.last_at,
                        closed_how = excluded.closed_how, closed_at = excluded.closed_at,
                        closed_by = excluded.closed_by, closed_audit_id = excluded.closed_audit_id
                     {}",
                    chain::returning(&chain::RECEIPTS)
                ),
                args![
                    rid,
                    received_at,
                    parcel_id,
                    by.at,
                    closed.map(Closed::code),
                    closed.map(|_| by.at),
                    closed.and(by.actor),
                    closed.map(|_| audit_id)
                ],
            )?
            .ok_or_else(|| DbError::shape(format!("the receipt of return {rid} was not written")))?;
        let kind = match closed {
            Some(c) => format!("box of parcel P{parcel_id}; closed: {}", c.code()),
            None => format!("box of parcel P{parcel_id}; more awaited"),
        };
        chain::log_written(db, by, &chain::RECEIPTS, &written, &kind, None)?;
        // However it closes, a unit of it still missing boxes in an earlier box will not get
        // them: refused for missing parts, for review.
        if closed.is_some() && !refused_before {
            let now = DateTime::parse_from_rfc3339(by.at)
                .map_err(|e| DbError::shape(format!("time {}: {e}", by.at)))?;
            super::station::refuse_incomplete(db, now, rid)?;
        }
        out.push(Settled { rma_no, awaited, closed });
    }
    Ok(out)
}

/// [`close_overdue`] in a write transaction of its own.
pub fn close_overdue_now(db: &dyn Sql, now: DateTime<FixedOffset>, days: u32) -> DbResult<Vec<i64>> {
    super::station::in_write(db, |tx| close_overdue(tx, now, days))
}

/// Units of each line of return `return_id` not arrived in any signed box: (line, qty) where
/// something is still to come.
fn not_arrived(db: &dyn Sql, return_id: i64) -> DbResult<Vec<(LineRef, i64)>> {
    let lines = db.map(
        "SELECT l.line_no, l.qty - (SELECT count(*) FROM units u JOIN parcels p ON p.id = u.parcel_id
                 WHERE u.return_id = l.return_id AND u.line_no = l.line_no AND p.state = 'signed'
                   AND (u.discrepancy IS NULL OR u.discrepancy <> 'qty_over'))
         FROM return_lines l WHERE l.return_id = ?1 ORDER BY l.line_no",
        args![return_id],
        |r| Ok(((return_id, r.get::<i64>(0)?), r.get::<i64>(1)?)),
    )?;
    Ok(lines.into_iter().filter(|(_, q)| *q > 0).collect())
}

/// Closes every return that has awaited boxes for more than `days` days after its last one
/// (none open now): what never came is missing, stored on its last box, which enters the
/// supervisor's queue and the next export. Run by a writer at its start (the station, the
/// export), in its own short transaction. Returns the returns closed.
pub fn close_overdue(db: &dyn Sql, now: DateTime<FixedOffset>, days: u32) -> DbResult<Vec<i64>> {
    let cutoff = timestamp(now - Duration::days(i64::from(days)));
    let due: Vec<(i64, i64, String)> = db.map(
        "SELECT x.return_id, x.last_parcel_id, r.rma_no FROM return_receipts x JOIN returns r ON r.id = x.return_id
         WHERE x.closed_at IS NULL AND x.last_at < ?1
           AND NOT EXISTS (SELECT 1 FROM parcel_returns pr JOIN parcels p ON p.id = pr.parcel_id
                           WHERE pr.return_id = x.return_id AND p.state = 'open')
         ORDER BY x.last_at",
        args![cutoff],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let at = timestamp(now);
    let by = By { at: &at, station: None, actor: None };
    let mut closed = Vec::new();
    for (rid, parcel, rma) in due {
        super::station::refuse_incomplete(db, now, rid)?;
        let missing = not_arrived(db, rid)?;
        let detail = format!(
            "{rma}: no box for {days} days; {} units missing",
            missing.iter().map(|m| m.1).sum::<i64>()
        );
        let audit_id = audit(db, now, None, None, "close_return", Some(&format!("RET{rid}")), Some(&detail))?;
        for ((_, line_no), qty) in &missing {
            db.exec(
                "INSERT INTO discrepancies (parcel_id, kind, return_id, line_no, qty, acknowledged_at)
                 VALUES (?1, 'missing', ?2, ?3, ?4, ?5)",
                args![parcel, rid, line_no, qty, at],
            )?;
        }
        if !missing.is_empty() {
            chain::confirm(db, by, &chain::PARCELS, parcel)?;
            db.exec("UPDATE parcels SET has_discrepancy = 1 WHERE id = ?1", args![parcel])?;
            chain::log_state(db, by, &chain::PARCELS, parcel, "its return closed by time", None)?;
            let open: bool = db.one(
                "SELECT EXISTS (SELECT 1 FROM reviews WHERE parcel_id = ?1 AND kind = 'discrepancy' AND decision IS NULL)",
                args![parcel],
            )?;
            if !open {
                let review: i64 = db.one(
                    "INSERT INTO reviews (parcel_id, kind, created_at) VALUES (?1, 'discrepancy', ?2) RETURNING id",
                    args![parcel, at],
                )?;
                chain::log_state(db, by, &chain::REVIEWS, review, "opened", None)?;
            }
        }
        chain::confirm(db, by, &chain::RECEIPTS, rid)?;
        db.exec(
            "UPDATE return_receipts SET closed_how = 'timed_out', closed_at = ?2, closed_audit_id = ?3 WHERE return_id = ?1",
            args![rid, at, audit_id],
        )?;
        chain::log_state(db, by, &chain::RECEIPTS, rid, "closed by time", None)?;
        closed.push(rid);
    }
    Ok(closed)
}
