//! The supervisor's queue: refused units, refused parcels, parcels signed with discrepancies,
//! unidentified parcels. Deciding needs a supervisor and their PIN; every decision is written
//! to the audit log, whose id places it in the next export.

use super::station::grade_of;
use super::{audit, timestamp};
use crate::domain::codes::{Coded, Grade, Outcome};
use crate::domain::tracking::tracking_key;
use chrono::{DateTime, FixedOffset};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;

/// One entry of the queue, with what the operator saw and recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewItem {
    pub id: i64,
    pub kind: String,
    pub mandatory: bool,
    pub created_at: String,
    pub parcel_id: i64,
    pub parcel_state: String,
    pub scan: String,
    pub station: String,
    pub operator: String,
    pub received_at: String,
    pub closed_at: Option<String>,
    pub rmas: String,
    pub customer_reason: Option<String>,
    pub parcel_refuse_reason: Option<String>,
    pub unit: Option<String>,
    pub sku: Option<String>,
    pub serial: Option<String>,
    pub outcome: Option<String>,
    pub reason: Option<String>,
    pub discrepancy: Option<String>,
    pub note: Option<String>,
    /// The most boxes any of the parcel's returns came in (1 for most).
    pub boxes: i64,
}

/// Every undecided entry, oldest first.
pub fn open_reviews(conn: &Connection) -> rusqlite::Result<Vec<ReviewItem>> {
    conn.prepare(
        "SELECT v.id, v.kind, v.mandatory, v.created_at, p.id, p.state, p.scan, p.station, p.operator, p.received_at,
                p.closed_at,
                (SELECT group_concat(r.rma_no, ' + ') FROM parcel_returns pr JOIN returns r ON r.id = pr.return_id
                 WHERE pr.parcel_id = p.id),
                (SELECT r.reason FROM parcel_returns pr JOIN returns r ON r.id = pr.return_id
                 WHERE pr.parcel_id = p.id LIMIT 1),
                p.refuse_reason, u.id, u.sku, u.serial, u.outcome, u.reason, u.discrepancy, u.note,
                coalesce((SELECT max(x.boxes) FROM parcel_returns pr JOIN return_receipts x ON x.return_id = pr.return_id
                 WHERE pr.parcel_id = p.id), 1)
         FROM reviews v JOIN parcels p ON p.id = v.parcel_id LEFT JOIN units u ON u.id = v.unit_id
         WHERE v.decision IS NULL ORDER BY v.created_at, v.id",
    )?
    .query_map([], |r| {
        let unit: Option<i64> = r.get(14)?;
        Ok(ReviewItem {
            id: r.get(0)?,
            kind: r.get(1)?,
            mandatory: r.get(2)?,
            created_at: r.get(3)?,
            parcel_id: r.get(4)?,
            parcel_state: r.get(5)?,
            scan: r.get(6)?,
            station: r.get(7)?,
            operator: r.get(8)?,
            received_at: r.get(9)?,
            closed_at: r.get(10)?,
            rmas: r.get::<_, Option<String>>(11)?.unwrap_or_default(),
            customer_reason: r.get(12)?,
            parcel_refuse_reason: r.get(13)?,
            unit: unit.map(crate::export::unit_label),
            sku: r.get(15)?,
            serial: r.get(16)?,
            outcome: r.get(17)?,
            reason: r.get(18)?,
            discrepancy: r.get(19)?,
            note: r.get(20)?,
            boxes: r.get(21)?,
        })
    })?
    .collect()
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Confirm,
    /// The operator's call is reversed: the unit gets this outcome and grade instead.
    Overturn {
        outcome: Outcome,
        /// B or C for second-hand (B when none is given); A for accept; none otherwise.
        grade: Option<Grade>,
    },
}

/// Why a decision was not recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRefusal {
    #[error("{0} is not a supervisor")]
    NotSupervisor(String),
    #[error("no review {0}")]
    NoSuchReview(i64),
    #[error("review {0} was decided already")]
    AlreadyDecided(i64),
    #[error("overturning needs a comment saying why")]
    CommentRequired,
    #[error("no expected return {0}")]
    NoSuchReturn(String),
    #[error("review {0} is not about an unidentified parcel")]
    NotUnidentified(i64),
    #[error("parcel P{0} is linked to {1} already")]
    AlreadyLinked(i64, String),
    #[error("review {0} is not about a refused unit: only a unit's outcome can be overturned (confirm this entry, with a comment if the decision needs one)")]
    NothingToOverturn(i64),
    #[error("{0} has a box open or is closed (parcel P{1}): it cannot be linked to another parcel")]
    ReturnReceived(String, i64),
    #[error("a grade goes with accept (A) or second-hand (B, C) only")]
    GradeNotAllowed,
    #[error("the unit of review {0} misses some of its boxes: it cannot be accepted")]
    MissingBoxes(i64),
}

/// A supervisor proven by PIN, deciding at a station (None: the command line).
#[derive(Debug, Clone, Copy)]
pub struct Supervisor<'a> {
    pub who: &'a crate::store::auth::Proven,
    pub station: Option<&'a str>,
}

impl Supervisor<'_> {
    /// The supervisor's id, when they are still an active supervisor.
    fn check(&self, tx: &Connection) -> rusqlite::Result<Result<String, ReviewRefusal>> {
        Ok(if crate::store::auth::still_supervisor(tx, self.who)? {
            Ok(self.who.id().to_string())
        } else {
            Err(ReviewRefusal::NotSupervisor(self.who.id().to_string()))
        })
    }
}

/// Records a supervisor's decision on review `id`.
pub fn decide(
    conn: &mut Connection,
    sup: Supervisor<'_>,
    id: i64,
    decision: &Decision,
    comment: Option<&str>,
    now: DateTime<FixedOffset>,
) -> rusqlite::Result<Result<(), ReviewRefusal>> {
    let station = sup.station;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let who = match sup.check(&tx)? {
        Ok(w) => w,
        Err(r) => return Ok(Err(r)),
    };
    let state: Option<(Option<String>, Option<i64>)> = tx
        .query_row("SELECT decision, unit_id FROM reviews WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let unit = match state {
        None => return Ok(Err(ReviewRefusal::NoSuchReview(id))),
        Some((Some(_), _)) => return Ok(Err(ReviewRefusal::AlreadyDecided(id))),
        Some((None, unit)) => unit,
    };
    // An overturn changes a unit's outcome; an entry without a unit has nothing it could change,
    // and "overturned" on it would say something no record carries.
    if unit.is_none() && matches!(decision, Decision::Overturn { .. }) {
        return Ok(Err(ReviewRefusal::NothingToOverturn(id)));
    }
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    let stamp = timestamp(now);
    let log = crate::store::chain::By { at: &stamp, station, actor: Some(&who) };
    crate::store::chain::confirm(&tx, log, &crate::store::chain::REVIEWS, id)?;
    let (word, outcome, grade) = match decision {
        Decision::Confirm => ("confirmed", None, None),
        Decision::Overturn { outcome, grade } => {
            if comment.is_none() {
                return Ok(Err(ReviewRefusal::CommentRequired));
            }
            let allowed = grade_of(*outcome, *grade);
            if grade.is_some() && allowed != *grade {
                return Ok(Err(ReviewRefusal::GradeNotAllowed));
            }
            // Accepted means complete: not a unit of a product in several boxes missing some.
            let missing_boxes: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM units u JOIN products p ON p.sku = u.sku
                                WHERE u.id = ?1 AND u.boxes_in < p.boxes)",
                [unit.unwrap_or(0)],
                |r| r.get(0),
            )?;
            if *outcome == Outcome::Accept && missing_boxes {
                return Ok(Err(ReviewRefusal::MissingBoxes(id)));
            }
            ("overturned", Some(*outcome), allowed)
        }
    };
    let detail = format!("{word}{}", comment.map(|c| format!(": {c}")).unwrap_or_default());
    let audit_id = audit(&tx, now, station, Some(&who), "review", Some(&format!("R{id}")), Some(&detail))?;
    tx.execute(
        "UPDATE reviews SET decision = ?2, decided_by = ?3, decided_at = ?4, decided_audit_id = ?5, comment = ?6,
            new_outcome = ?7, new_grade = ?8 WHERE id = ?1",
        params![id, word, who, timestamp(now), audit_id, comment, outcome.map(Outcome::code), grade.map(Grade::code)],
    )?;
    // The decided outcome is the unit's outcome from now on, everywhere (screen, label,
    // export, feedback sheet, later reviews); the history keeps the operator's.
    crate::store::chain::log_state(&tx, log, &crate::store::chain::REVIEWS, id, "decided", None)?;
    if let (Some(unit), Some(outcome)) = (unit, outcome) {
        overturn_unit(&tx, unit, outcome, grade, id, &who, station, now)?;
    }
    tx.commit()?;
    Ok(Ok(()))
}

/// Links the unidentified parcel of review `id` to the expected return `rma_no`, and closes the
/// review as confirmed with a comment saying so.
pub fn link(
    conn: &mut Connection,
    sup: Supervisor<'_>,
    id: i64,
    rma_no: &str,
    now: DateTime<FixedOffset>,
) -> rusqlite::Result<Result<(), ReviewRefusal>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let who = match sup.check(&tx)? {
        Ok(w) => w,
        Err(r) => return Ok(Err(r)),
    };
    let review: Option<(i64, String, Option<String>)> = tx
        .query_row("SELECT parcel_id, kind, decision FROM reviews WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((parcel, kind, decision)) = review else { return Ok(Err(ReviewRefusal::NoSuchReview(id))) };
    if decision.is_some() {
        return Ok(Err(ReviewRefusal::AlreadyDecided(id)));
    }
    if kind != "unidentified" {
        return Ok(Err(ReviewRefusal::NotUnidentified(id)));
    }
    // Linked already (by an import, while the entry waited): a second RMA is not stacked on it.
    let linked: Option<String> = tx.query_row(
        "SELECT group_concat(r.rma_no, ' + ') FROM parcel_returns pr JOIN returns r ON r.id = pr.return_id
         WHERE pr.parcel_id = ?1",
        [parcel],
        |r| r.get(0),
    )?;
    if let Some(rmas) = linked {
        return Ok(Err(ReviewRefusal::AlreadyLinked(parcel, rmas)));
    }
    let ret: Option<i64> = tx
        .query_row(
            "SELECT id FROM returns WHERE rma_no = ?1 OR rma_key = ?2",
            params![rma_no, tracking_key(rma_no)],
            |r| r.get(0),
        )
        .optional()?;
    let Some(return_id) = ret else { return Ok(Err(ReviewRefusal::NoSuchReturn(rma_no.to_string()))) };
    // A return takes the box unless one of its boxes is open or it closed: then it was received.
    if let Some(p) = crate::store::station::box_refused(&tx, return_id)? {
        return Ok(Err(ReviewRefusal::ReturnReceived(rma_no.to_string(), p)));
    }
    let at = timestamp(now);
    tx.execute(
        "INSERT OR IGNORE INTO parcel_returns (parcel_id, return_id, linked_at, linked_by) VALUES (?1, ?2, ?3, ?4)",
        params![parcel, return_id, at, who],
    )?;
    let audit_id =
        audit(&tx, now, sup.station, Some(&who), "link_parcel", Some(&format!("P{parcel}")), Some(rma_no))?;
    // The parcel's units land on the return's lines as if scanned in a parcel of it.
    crate::store::station::place_again(&tx, parcel, Some(&who), &at, audit_id)?;
    let log = crate::store::chain::By { at: &at, station: sup.station, actor: Some(&who) };
    crate::store::chain::confirm(&tx, log, &crate::store::chain::REVIEWS, id)?;
    tx.execute(
        "UPDATE reviews SET decision = 'confirmed', decided_by = ?2, decided_at = ?3, decided_audit_id = ?4, comment = ?5
         WHERE id = ?1",
        params![id, who, at, audit_id, format!("linked to {rma_no}")],
    )?;
    crate::store::chain::log_state(&tx, log, &crate::store::chain::REVIEWS, id, "decided by the link", None)?;
    tx.commit()?;
    Ok(Ok(()))
}

/// Gives the unit of an overturned review its decided outcome, keeping the step in the unit's
/// history. Accept carries no reason; any other outcome keeps the operator's reason.
#[allow(clippy::too_many_arguments)]
fn overturn_unit(
    tx: &Connection,
    unit: i64,
    outcome: Outcome,
    grade: Option<Grade>,
    review: i64,
    who: &str,
    station: Option<&str>,
    now: DateTime<FixedOffset>,
) -> rusqlite::Result<()> {
    let at = timestamp(now);
    let log = crate::store::chain::By { at: &at, station, actor: Some(who) };
    crate::store::chain::confirm(tx, log, &crate::store::chain::UNITS, unit)?;
    tx.execute(
        "UPDATE units SET outcome = ?2, grade = ?3, reason = CASE WHEN ?2 = 'accept' THEN NULL ELSE reason END
         WHERE id = ?1",
        params![unit, outcome.code(), grade.map(Grade::code)],
    )?;
    tx.execute(
        "INSERT INTO unit_steps (parcel_id, unit_id, seq, kind, outcome, grade, reason, cause, note, review_id, station, actor, at)
         SELECT parcel_id, id, seq, 'overturn', outcome, grade, reason, cause, note, ?2, ?3, ?4, ?5 FROM units WHERE id = ?1",
        params![unit, review, station, who, at],
    )?;
    let step = tx.last_insert_rowid();
    crate::store::chain::log_unit_step(tx, &at, station, Some(who), unit, "overturn", Some(step))?;
    Ok(())
}
