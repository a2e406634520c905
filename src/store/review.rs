//! The supervisor's queue: refused units, refused parcels, parcels signed with discrepancies,
//! unidentified parcels. Deciding needs a supervisor and their PIN; every decision is written
//! to the audit log, whose id places it in the next export.

use super::sql::{args, in_tx, Arg, Mode, Sql, SqlExt};
use super::station::grade_of;
use super::{audit, timestamp, DbError, DbResult};
use crate::domain::codes::{Coded, Grade, Outcome, ReviewKind};
use crate::domain::tracking::tracking_key;
use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use std::collections::HashMap;

/// One entry of the queue, with what the operator saw and recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewItem {
    pub id: i64,
    pub kind: ReviewKind,
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
    /// The dock the parcel was received at (left out where none was named).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dock: Option<String>,
    /// What the entry's parcel held and lacked (the whole parcel, also for an entry about one
    /// of its units).
    pub details: ReviewDetails,
    /// The photos of its unit (for an entry about a unit), else of its parcel and its units.
    pub photos: i64,
    #[serde(skip)]
    pub unit_id: Option<i64>,
}

/// What a parcel under review held and lacked: data for the supervisor's list and screen, not
/// text (each shows it in its own language and layout).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReviewDetails {
    /// Every unit in the parcel, in the order they were scanned; flagged ones carry what was
    /// expected.
    pub units: Vec<ReviewUnit>,
    /// The expected units that never came, by return line, as stored when their return closed
    /// (none while a return still awaits boxes).
    pub missing: Vec<MissingUnits>,
    /// The operator's note on the parcel itself, if any (a unit's note is with the unit).
    pub parcel_note: Option<String>,
    /// The value of the units received, in cents (those without a known value count 0).
    pub received_cents: i64,
    /// The value of the missing units, in cents (likewise).
    pub missing_cents: i64,
}

/// One unit of a parcel under review: what was found, and, for a flagged unit, what its
/// return expected.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReviewUnit {
    /// The unit's id as on its label, `U00000004`.
    pub unit: String,
    /// The SKU it was scanned as (none when the scan matched no product).
    pub sku: Option<String>,
    /// The product's name: its return line's title, else the catalog's name.
    pub name: Option<String>,
    /// The serial number read from it.
    pub serial: Option<String>,
    /// The return whose line it was placed on (none for a unit on no line).
    pub rma_no: Option<String>,
    /// The SKU of that line.
    pub expected_sku: Option<String>,
    /// The serials that line expected and that no other unit of this parcel brought: what a
    /// unit flagged `serial_mismatch` should have carried.
    pub expected_serials: Vec<String>,
    /// `wrong_item`, `unexpected`, `qty_over`, `serial_mismatch`, or none.
    pub discrepancy: Option<String>,
    /// The outcome code (`refuse` ...), none while not inspected.
    pub outcome: Option<String>,
    pub grade: Option<String>,
    /// The reason code (`SERIAL-MISMATCH` ...).
    pub reason: Option<String>,
    /// The operator's note.
    pub note: Option<String>,
    /// Its value in cents: its return line's, else the catalog's.
    pub value_cents: Option<i64>,
}

/// Units of one return line that never came.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MissingUnits {
    pub rma_no: String,
    pub sku: String,
    /// The line's title, else the catalog's name.
    pub name: Option<String>,
    pub qty: i64,
    /// The value of one of them in cents: the line's, else the catalog's.
    pub value_cents: Option<i64>,
}

/// Which parcels the details are read for: those with an undecided entry, or one.
const OPEN_PARCELS: &str = "IN (SELECT parcel_id FROM reviews WHERE decision IS NULL)";
const ONE_PARCEL: &str = "= ?1";

/// What parcel `parcel` held and lacked, as [`ReviewItem::details`] says it.
pub fn review_details(db: &dyn Sql, parcel: i64) -> DbResult<ReviewDetails> {
    Ok(details_of(db, ONE_PARCEL, args![parcel])?.remove(&parcel).unwrap_or_default())
}

/// A unit read: its parcel, its place in that parcel's list, its line and the line's serials.
type Placed = (i64, usize, Option<(i64, i64)>, Option<String>);

/// The details of the parcels that `which` (one of the constants above) picks, in three queries
/// whatever their number: units, missing lines, parcel notes.
fn details_of(db: &dyn Sql, which: &str, args: &[&dyn Arg]) -> DbResult<HashMap<i64, ReviewDetails>> {
    let mut out: HashMap<i64, ReviewDetails> = HashMap::new();
    // (parcel, line) -> the serials units of that parcel brought on it.
    let mut brought: HashMap<(i64, i64, i64), Vec<String>> = HashMap::new();
    let mut lines: Vec<Placed> = Vec::new();
    db.each(
        &format!(
            "SELECT u.parcel_id, u.id, u.sku, coalesce(l.title, p.name), u.serial, r.rma_no, l.sku, l.serials,
                    u.discrepancy, u.outcome, u.grade, u.reason, u.note,
                    coalesce(u.unit_value_cents, l.unit_value_cents, p.unit_value_cents), u.return_id, u.line_no
             FROM units u LEFT JOIN products p ON p.sku = u.sku
             LEFT JOIN return_lines l ON l.return_id = u.return_id AND l.line_no = u.line_no
             LEFT JOIN returns r ON r.id = u.return_id
             WHERE u.parcel_id {which} ORDER BY u.parcel_id, u.seq"
        ),
        args,
        &mut |r| {
            let parcel: i64 = r.get(0)?;
            let line: Option<(i64, i64)> = match (r.get::<Option<i64>>(14)?, r.get::<Option<i64>>(15)?) {
                (Some(ret), Some(no)) => Some((ret, no)),
                _ => None,
            };
            let unit = ReviewUnit {
                unit: crate::export::unit_label(r.get(1)?),
                sku: r.get(2)?,
                name: r.get(3)?,
                serial: r.get(4)?,
                rma_no: r.get(5)?,
                expected_sku: r.get(6)?,
                expected_serials: Vec::new(),
                discrepancy: r.get(8)?,
                outcome: r.get(9)?,
                grade: r.get(10)?,
                reason: r.get(11)?,
                note: r.get(12)?,
                value_cents: r.get(13)?,
            };
            if let (Some((ret, no)), Some(serial)) = (line, &unit.serial) {
                brought.entry((parcel, ret, no)).or_default().push(serial.clone());
            }
            let d = out.entry(parcel).or_default();
            d.received_cents += unit.value_cents.unwrap_or(0);
            lines.push((parcel, d.units.len(), line, r.get(7)?));
            d.units.push(unit);
            Ok(())
        },
    )?;
    for (parcel, i, line, serials) in lines {
        let (Some((ret, no)), Some(serials)) = (line, serials) else { continue };
        let taken = brought.get(&(parcel, ret, no));
        let unit = &mut out.get_mut(&parcel).expect("collected above").units[i];
        unit.expected_serials = serials
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty() && !taken.is_some_and(|t| t.iter().any(|x| x == s)))
            .map(String::from)
            .collect();
    }
    db.each(
        &format!(
            "SELECT d.parcel_id, r.rma_no, l.sku, coalesce(l.title, p.name), d.qty,
                    coalesce(l.unit_value_cents, p.unit_value_cents)
             FROM discrepancies d JOIN return_lines l ON l.return_id = d.return_id AND l.line_no = d.line_no
             JOIN returns r ON r.id = d.return_id LEFT JOIN products p ON p.sku = l.sku
             WHERE d.kind = 'missing' AND d.parcel_id {which} ORDER BY d.parcel_id, d.return_id, d.line_no, d.id"
        ),
        args,
        &mut |r| {
            let m = MissingUnits {
                rma_no: r.get(1)?,
                sku: r.get(2)?,
                name: r.get(3)?,
                qty: r.get(4)?,
                value_cents: r.get(5)?,
            };
            let d = out.entry(r.get(0)?).or_default();
            d.missing_cents += m.value_cents.unwrap_or(0) * m.qty;
            d.missing.push(m);
            Ok(())
        },
    )?;
    db.each(
        &format!("SELECT id, note FROM parcels WHERE id {which} AND note IS NOT NULL AND note <> ''"),
        args,
        &mut |r| {
            out.entry(r.get(0)?).or_default().parcel_note = r.get(1)?;
            Ok(())
        },
    )?;
    Ok(out)
}

/// Every undecided entry, oldest first, each with its parcel's details.
pub fn open_reviews(db: &dyn Sql) -> DbResult<Vec<ReviewItem>> {
    open_reviews_at(db, None)
}

/// As [`open_reviews`], of the parcels received at `dock` only (None: every dock).
pub fn open_reviews_at(db: &dyn Sql, dock: Option<&str>) -> DbResult<Vec<ReviewItem>> {
    let details = details_of(db, OPEN_PARCELS, args![])?;
    db.map(
        // `string_agg` reads alike on both engines (SQLite from 3.44), where `group_concat` is
        // SQLite's own; the order is the one SQLite's primary key gave it.
        "SELECT v.id, v.kind, v.mandatory, v.created_at, p.id, p.state, p.scan, p.station, p.operator, p.received_at,
                p.closed_at,
                (SELECT string_agg(r.rma_no, ' + ' ORDER BY pr.return_id) FROM parcel_returns pr
                 JOIN returns r ON r.id = pr.return_id WHERE pr.parcel_id = p.id),
                (SELECT r.reason FROM parcel_returns pr JOIN returns r ON r.id = pr.return_id
                 WHERE pr.parcel_id = p.id LIMIT 1),
                p.refuse_reason, u.id, u.sku, u.serial, u.outcome, u.reason, u.discrepancy, u.note,
                coalesce((SELECT max(x.boxes) FROM parcel_returns pr JOIN return_receipts x ON x.return_id = pr.return_id
                 WHERE pr.parcel_id = p.id), 1),
                p.dock,
                CASE WHEN u.id IS NULL THEN (SELECT count(*) FROM photos f WHERE f.parcel_id = p.id)
                     ELSE (SELECT count(*) FROM photos f WHERE f.unit_id = u.id) END
         FROM reviews v JOIN parcels p ON p.id = v.parcel_id LEFT JOIN units u ON u.id = v.unit_id
         WHERE v.decision IS NULL AND (CAST(?1 AS TEXT) IS NULL OR p.dock = ?1) ORDER BY v.created_at, v.id",
        args![dock],
        |r| {
            let unit: Option<i64> = r.get(14)?;
            Ok(ReviewItem {
                id: r.get(0)?,
                kind: {
                    let code: String = r.get(1)?;
                    ReviewKind::from_code(&code)
                        .ok_or_else(|| DbError::shape(format!("column 1 holds review kind {code}")))?
                },
                mandatory: r.get(2)?,
                created_at: r.get(3)?,
                parcel_id: r.get(4)?,
                parcel_state: r.get(5)?,
                scan: r.get(6)?,
                station: r.get(7)?,
                operator: r.get(8)?,
                received_at: r.get(9)?,
                closed_at: r.get(10)?,
                rmas: r.get::<Option<String>>(11)?.unwrap_or_default(),
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
                dock: r.get(22)?,
                details: details.get(&r.get::<i64>(4)?).cloned().unwrap_or_default(),
                photos: r.get(23)?,
                unit_id: unit,
            })
        },
    )
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
    fn check(&self, tx: &dyn Sql) -> DbResult<Result<String, ReviewRefusal>> {
        Ok(if crate::store::auth::still_supervisor(tx, self.who)? {
            Ok(self.who.id().to_string())
        } else {
            Err(ReviewRefusal::NotSupervisor(self.who.id().to_string()))
        })
    }
}

/// Runs `f` in one write transaction, committed when it records the decision; a refusal writes
/// nothing (what `f` wrote before it refused, e.g. a `changed_behind` entry, is rolled back).
fn deciding(
    db: &dyn Sql,
    f: impl FnOnce(&dyn Sql) -> DbResult<Result<(), ReviewRefusal>>,
) -> DbResult<Result<(), ReviewRefusal>> {
    in_tx(db, Mode::Write, |tx| {
        tx.batch("SAVEPOINT decision")?;
        let out = f(tx)?;
        tx.batch(if out.is_ok() { "RELEASE decision" } else { "ROLLBACK TO decision; RELEASE decision" })?;
        Ok(out)
    })
}

/// Records a supervisor's decision on review `id`.
pub fn decide(
    db: &dyn Sql,
    sup: Supervisor<'_>,
    id: i64,
    decision: &Decision,
    comment: Option<&str>,
    now: DateTime<FixedOffset>,
) -> DbResult<Result<(), ReviewRefusal>> {
    deciding(db, |tx| decide_in(tx, sup, id, decision, comment, now))
}

fn decide_in(
    tx: &dyn Sql,
    sup: Supervisor<'_>,
    id: i64,
    decision: &Decision,
    comment: Option<&str>,
    now: DateTime<FixedOffset>,
) -> DbResult<Result<(), ReviewRefusal>> {
    let station = sup.station;
    let who = match sup.check(tx)? {
        Ok(w) => w,
        Err(r) => return Ok(Err(r)),
    };
    let state = tx
        .row("SELECT decision, unit_id FROM reviews WHERE id = ?1", args![id])?
        .map(|r| Ok::<_, DbError>((r.get::<Option<String>>(0)?, r.get::<Option<i64>>(1)?)))
        .transpose()?;
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
    crate::store::chain::confirm(tx, log, &crate::store::chain::REVIEWS, id)?;
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
            let missing_boxes: bool = tx.one(
                "SELECT EXISTS (SELECT 1 FROM units u JOIN products p ON p.sku = u.sku
                                WHERE u.id = ?1 AND u.boxes_in < p.boxes)",
                args![unit.unwrap_or(0)],
            )?;
            if *outcome == Outcome::Accept && missing_boxes {
                return Ok(Err(ReviewRefusal::MissingBoxes(id)));
            }
            ("overturned", Some(*outcome), allowed)
        }
    };
    let detail = format!("{word}{}", comment.map(|c| format!(": {c}")).unwrap_or_default());
    let audit_id = audit(tx, now, station, Some(&who), "review", Some(&format!("R{id}")), Some(&detail))?;
    tx.exec(
        "UPDATE reviews SET decision = ?2, decided_by = ?3, decided_at = ?4, decided_audit_id = ?5, comment = ?6,
            new_outcome = ?7, new_grade = ?8 WHERE id = ?1",
        args![id, word, who, timestamp(now), audit_id, comment, outcome.map(Outcome::code), grade.map(Grade::code)],
    )?;
    // The decided outcome is the unit's outcome from now on, everywhere (screen, label,
    // export, feedback sheet, later reviews); the history keeps the operator's.
    crate::store::chain::log_state(tx, log, &crate::store::chain::REVIEWS, id, "decided", None)?;
    if let (Some(unit), Some(outcome)) = (unit, outcome) {
        overturn_unit(tx, unit, outcome, grade, id, &who, station, now)?;
    }
    Ok(Ok(()))
}

/// Links the unidentified parcel of review `id` to the expected return `rma_no`, and closes the
/// review as confirmed with a comment saying so.
pub fn link(
    db: &dyn Sql,
    sup: Supervisor<'_>,
    id: i64,
    rma_no: &str,
    now: DateTime<FixedOffset>,
) -> DbResult<Result<(), ReviewRefusal>> {
    deciding(db, |tx| link_in(tx, sup, id, rma_no, now))
}

fn link_in(
    tx: &dyn Sql,
    sup: Supervisor<'_>,
    id: i64,
    rma_no: &str,
    now: DateTime<FixedOffset>,
) -> DbResult<Result<(), ReviewRefusal>> {
    let who = match sup.check(tx)? {
        Ok(w) => w,
        Err(r) => return Ok(Err(r)),
    };
    let review = tx
        .row("SELECT parcel_id, kind, decision FROM reviews WHERE id = ?1", args![id])?
        .map(|r| Ok::<_, DbError>((r.get::<i64>(0)?, r.get::<String>(1)?, r.get::<Option<String>>(2)?)))
        .transpose()?;
    let Some((parcel, kind, decision)) = review else { return Ok(Err(ReviewRefusal::NoSuchReview(id))) };
    if decision.is_some() {
        return Ok(Err(ReviewRefusal::AlreadyDecided(id)));
    }
    if kind != ReviewKind::Unidentified.code() {
        return Ok(Err(ReviewRefusal::NotUnidentified(id)));
    }
    // Linked already (by an import, while the entry waited): a second RMA is not stacked on it.
    let linked: Option<String> = tx.one(
        "SELECT string_agg(r.rma_no, ' + ' ORDER BY pr.return_id) FROM parcel_returns pr
         JOIN returns r ON r.id = pr.return_id WHERE pr.parcel_id = ?1",
        args![parcel],
    )?;
    if let Some(rmas) = linked {
        return Ok(Err(ReviewRefusal::AlreadyLinked(parcel, rmas)));
    }
    let ret: Option<i64> = tx.value(
        "SELECT id FROM returns WHERE rma_no = ?1 OR rma_key = ?2",
        args![rma_no, tracking_key(rma_no)],
    )?;
    let Some(return_id) = ret else { return Ok(Err(ReviewRefusal::NoSuchReturn(rma_no.to_string()))) };
    // A return takes the box unless one of its boxes is open or it closed: then it was received.
    if let Some(p) = crate::store::station::box_refused(tx, return_id)? {
        return Ok(Err(ReviewRefusal::ReturnReceived(rma_no.to_string(), p)));
    }
    let at = timestamp(now);
    tx.exec(
        "INSERT INTO parcel_returns (parcel_id, return_id, linked_at, linked_by) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO NOTHING",
        args![parcel, return_id, at, who],
    )?;
    let audit_id =
        audit(tx, now, sup.station, Some(&who), "link_parcel", Some(&format!("P{parcel}")), Some(rma_no))?;
    // The parcel's units land on the return's lines as if scanned in a parcel of it.
    crate::store::station::place_again(tx, parcel, Some(&who), &at, audit_id)?;
    let log = crate::store::chain::By { at: &at, station: sup.station, actor: Some(&who) };
    crate::store::chain::confirm(tx, log, &crate::store::chain::REVIEWS, id)?;
    tx.exec(
        "UPDATE reviews SET decision = 'confirmed', decided_by = ?2, decided_at = ?3, decided_audit_id = ?4, comment = ?5
         WHERE id = ?1",
        args![id, who, at, audit_id, format!("linked to {rma_no}")],
    )?;
    crate::store::chain::log_state(tx, log, &crate::store::chain::REVIEWS, id, "decided by the link", None)?;
    Ok(Ok(()))
}

/// Gives the unit of an overturned review its decided outcome, keeping the step in the unit's
/// history. Accept carries no reason; any other outcome keeps the operator's reason.
#[allow(clippy::too_many_arguments)]
fn overturn_unit(
    tx: &dyn Sql,
    unit: i64,
    outcome: Outcome,
    grade: Option<Grade>,
    review: i64,
    who: &str,
    station: Option<&str>,
    now: DateTime<FixedOffset>,
) -> DbResult<()> {
    let at = timestamp(now);
    let log = crate::store::chain::By { at: &at, station, actor: Some(who) };
    crate::store::chain::confirm(tx, log, &crate::store::chain::UNITS, unit)?;
    tx.exec(
        &format!(
            "UPDATE units SET outcome = ?2, grade = ?3, reason = CASE WHEN ?2 = 'accept' THEN NULL ELSE reason END,
                destination = {} WHERE id = ?1",
            crate::store::station::destination_sql("?4")
        ),
        args![unit, outcome.code(), grade.map(Grade::code), crate::store::disposition().template(outcome, grade)],
    )?;
    let step: i64 = tx.one(
        "INSERT INTO unit_steps (parcel_id, unit_id, seq, kind, outcome, grade, reason, cause, note, review_id, station, actor, at,
            destination)
         SELECT parcel_id, id, seq, 'overturn', outcome, grade, reason, cause, note, ?2, ?3, ?4, ?5, destination FROM units WHERE id = ?1
         RETURNING id",
        args![unit, review, station, who, at],
    )?;
    crate::store::chain::log_unit_step(tx, &at, station, Some(who), unit, "overturn", Some(step))?;
    Ok(())
}
