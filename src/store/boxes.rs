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
use std::collections::HashMap;

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

/// What of one line arrived in other boxes: how many units, and each serial with its box.
pub type Arrived = (i64, Vec<(String, i64)>);

/// The units on the lines of parcel `parcel_id`'s returns that arrived in their other signed
/// boxes (whole: a unit of a product in several boxes counts once all its boxes came, or once
/// it has an outcome), by line: how many (one too many does not count) and their serial numbers, each with
/// the box it came in.
pub fn arrived_elsewhere(db: &dyn Sql, parcel_id: i64) -> DbResult<HashMap<LineRef, Arrived>> {
    let mut out: HashMap<LineRef, Arrived> = HashMap::new();
    db.each(
        "SELECT u.return_id, u.line_no, u.serial, u.parcel_id FROM parcel_returns pr
         JOIN units u ON u.return_id = pr.return_id
         JOIN parcels p ON p.id = u.parcel_id
         WHERE pr.parcel_id = ?1 AND u.parcel_id <> ?1 AND p.state = 'signed' AND u.line_no IS NOT NULL
           AND (u.discrepancy IS NULL OR u.discrepancy <> 'qty_over')
           -- A unit still awaiting some of its own boxes has not arrived yet.
           AND NOT (u.outcome IS NULL AND u.boxes_in < coalesce((SELECT x.boxes FROM products x WHERE x.sku = u.sku), 1))",
        args![parcel_id],
        &mut |r| {
            let e = out.entry((r.get(0)?, r.get(1)?)).or_default();
            e.0 += 1;
            if let Some(s) = r.get::<Option<String>>(2)? {
                e.1.push((s, r.get(3)?));
            }
            Ok(())
        },
    )?;
    Ok(out)
}

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
pub fn record_box(
    db: &dyn Sql,
    by: By<'_>,
    parcel_id: i64,
    found: &[Discrepancy],
    rest: Rest,
    audit_id: i64,
) -> DbResult<Vec<Settled>> {
    let r = db
        .row("SELECT received_at, state FROM parcels WHERE id = ?1", args![parcel_id])?
        .ok_or_else(|| DbError::shape(format!("no parcel {parcel_id}")))?;
    let (received_at, state): (String, ParcelState) = (r.get(0)?, super::station::parcel_state(&r, 1)?);
    let returns: Vec<(i64, String)> = db.map(
        "SELECT r.id, r.rma_no FROM parcel_returns pr JOIN returns r ON r.id = pr.return_id
         WHERE pr.parcel_id = ?1 ORDER BY r.id",
        args![parcel_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut out = Vec::new();
    for (rid, rma_no) in returns {
        let awaited: i64 = found
            .iter()
            .filter(|d| d.awaited_by() == Some(rid))
            .map(|d| match d {
                Discrepancy::Missing { qty, .. } => *qty,
                _ => 1,
            })
            .sum();
        let before = receipt(db, rid)?;
        if before.as_ref().is_some_and(|r| r.closed.is_some()) {
            // Closed already (a box linked after the return closed): nothing changes.
            out.push(Settled { rma_no, awaited: 0, closed: before.and_then(|r| r.closed) });
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
        if before.is_some() {
            chain::confirm(db, by, &chain::RECEIPTS, rid)?;
        }
        // The earlier of the two firsts by CASE (SQLite's two-argument min is PostgreSQL's
        // least); the row's own columns named by its table, as PostgreSQL needs beside
        // `excluded`.
        db.exec(
            "INSERT INTO return_receipts
                (return_id, first_at, boxes, last_parcel_id, last_at, closed_how, closed_at, closed_by, closed_audit_id)
             VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (return_id) DO UPDATE SET
                first_at = CASE WHEN excluded.first_at < return_receipts.first_at THEN excluded.first_at
                                ELSE return_receipts.first_at END,
                boxes = return_receipts.boxes + 1,
                last_parcel_id = excluded.last_parcel_id, last_at = excluded.last_at,
                closed_how = excluded.closed_how, closed_at = excluded.closed_at,
                closed_by = excluded.closed_by, closed_audit_id = excluded.closed_audit_id",
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
        )?;
        let kind = match closed {
            Some(c) => format!("box of parcel P{parcel_id}; closed: {}", c.code()),
            None => format!("box of parcel P{parcel_id}; more awaited"),
        };
        chain::log_state(db, by, &chain::RECEIPTS, rid, &kind, None)?;
        // However it closes, a unit of it still missing boxes in an earlier box will not get
        // them: refused for missing parts, for review.
        if closed.is_some() {
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
