//! What a scanning station reads and writes. Every write is one `BEGIN IMMEDIATE` transaction,
//! committed (durably: WAL with `synchronous = FULL`) before the function returns, so what the
//! screen confirms is on disk. Reads that decide a write are made inside that transaction, so
//! two stations racing for one parcel cannot both win.

use super::{audit, timestamp};
use crate::domain::codes::{Cause, Coded, Grade, Outcome, Reason, Role};
use crate::domain::parcel::{
    self, Discrepancy, ExpectedLine, LineRef, Placement, ReceivedUnit, Signable, UnitFlag,
};
use crate::domain::tracking::tracking_key;
use chrono::{DateTime, FixedOffset};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

/// Who does something, where and when.
#[derive(Debug, Clone)]
pub struct Actor {
    pub station: String,
    pub user: String,
    pub now: DateTime<FixedOffset>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
}

pub fn find_user(conn: &Connection, id: &str) -> rusqlite::Result<Option<User>> {
    conn.prepare_cached("SELECT id, name, role, active FROM users WHERE id = ?1")?
        .query_row([id], |r| {
            let role: String = r.get(2)?;
            Ok(User {
                id: r.get(0)?,
                name: r.get(1)?,
                role: Role::parse(&role).unwrap_or(Role::Operator),
                active: r.get(3)?,
            })
        })
        .optional()
}

/// Starts a shift for `actor.user` at `actor.station`, ending whatever shift was open there.
pub fn start_shift(conn: &mut Connection, actor: &Actor) -> rusqlite::Result<i64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = timestamp(actor.now);
    tx.execute(
        "UPDATE shifts SET ended_at = ?2 WHERE station = ?1 AND ended_at IS NULL",
        params![actor.station, now],
    )?;
    tx.execute(
        "INSERT INTO shifts (station, user_id, started_at) VALUES (?1, ?2, ?3)",
        params![actor.station, actor.user, now],
    )?;
    let id = tx.last_insert_rowid();
    audit_by(&tx, actor, "sign_in", None, None)?;
    tx.commit()?;
    Ok(id)
}

/// An expected return as the parcel screen shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnSummary {
    pub id: i64,
    pub rma_no: String,
    pub order_no: String,
    pub tracking_no: Option<String>,
    pub customer: Option<String>,
    pub reason: Option<String>,
    pub resolution: String,
}

/// A parcel that was already received.
#[derive(Debug, Clone, PartialEq)]
pub struct ParcelSeen {
    pub parcel_id: i64,
    pub state: String,
    pub station: String,
    pub operator: String,
    pub received_at: String,
    pub closed_at: Option<String>,
}

/// What a parcel scan found.
#[derive(Debug, Clone, PartialEq)]
pub enum ParcelLookup {
    /// Expected returns not yet received: open a parcel for them.
    Expected(Vec<ReturnSummary>),
    /// Already open at this station: carry on with it.
    Resume(i64),
    /// Open at another station.
    OpenElsewhere(ParcelSeen),
    /// Received before and closed: a duplicate scan.
    Duplicate(ParcelSeen),
    NotFound,
}

const RETURN_COLS: &str = "r.id, r.rma_no, r.order_no, r.tracking_no, r.customer, r.reason, r.resolution";

fn return_summary(r: &rusqlite::Row) -> rusqlite::Result<ReturnSummary> {
    Ok(ReturnSummary {
        id: r.get(0)?,
        rma_no: r.get(1)?,
        order_no: r.get(2)?,
        tracking_no: r.get(3)?,
        customer: r.get(4)?,
        reason: r.get(5)?,
        resolution: r.get(6)?,
    })
}

/// Finds what a parcel scan means: an RMA number, else a tracking number, else an order
/// number, each as scanned and under its key (case and punctuation ignored). An RMA found by
/// its own number brings along the other RMAs that travel under its tracking number.
pub fn lookup_parcel(conn: &Connection, station: &str, scanned: &str) -> rusqlite::Result<ParcelLookup> {
    let key = tracking_key(scanned);
    let by = |col: &str, keycol: &str| -> rusqlite::Result<Vec<ReturnSummary>> {
        let sql = format!(
            "SELECT {RETURN_COLS} FROM returns r WHERE r.{col} = ?1 OR r.{col} = ?2 OR r.{keycol} = ?2 ORDER BY r.id"
        );
        conn.prepare_cached(&sql)?.query_map(params![scanned, key], return_summary)?.collect()
    };
    let mut found = by("rma_no", "rma_key")?;
    if found.len() == 1 {
        if let Some(t) = found[0].tracking_no.clone() {
            let id = found[0].id;
            let mut more: Vec<ReturnSummary> = conn
                .prepare_cached(&format!("SELECT {RETURN_COLS} FROM returns r WHERE r.tracking_no = ?1 AND r.id <> ?2 ORDER BY r.id"))?
                .query_map(params![t, id], return_summary)?
                .collect::<Result<_, _>>()?;
            found.append(&mut more);
        }
    }
    if found.is_empty() {
        found = by("tracking_no", "tracking_key")?;
    }
    if found.is_empty() {
        found = by("order_no", "order_key")?;
    }
    // A courier's package suffix (JD prints `JDVA00012345678-1-1-`): the number without it.
    if found.is_empty() {
        if let Some(base) = without_package_suffix(scanned) {
            return lookup_parcel(conn, station, base);
        }
    }
    // A parcel booked in before: unidentified ones are found by what was scanned then.
    let seen_unidentified = conn
        .prepare_cached(
            "SELECT id, state, station, operator, received_at, closed_at FROM parcels
             WHERE unidentified = 1 AND tracking_key = ?1 ORDER BY id DESC LIMIT 1",
        )?
        .query_row([&key], parcel_seen)
        .optional()?;
    if found.is_empty() {
        return Ok(match seen_unidentified {
            Some(p) => classify_seen(p, station),
            None => ParcelLookup::NotFound,
        });
    }
    let ids: Vec<i64> = found.iter().map(|r| r.id).collect();
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, p.state, p.station, p.operator, p.received_at, p.closed_at
         FROM parcel_returns pr JOIN parcels p ON p.id = pr.parcel_id WHERE pr.return_id = ?1
         ORDER BY p.id DESC LIMIT 1",
    )?;
    let mut open: Vec<ReturnSummary> = Vec::new();
    let mut seen: Option<ParcelSeen> = None;
    for (r, id) in found.into_iter().zip(ids) {
        match stmt.query_row([id], parcel_seen).optional()? {
            Some(p) => {
                seen.get_or_insert(p);
            }
            None => open.push(r),
        }
    }
    // A parcel already open for one of these returns takes precedence: it is where they are.
    if let Some(p) = seen.clone().filter(|p| p.state == "open") {
        return Ok(classify_seen(p, station));
    }
    if open.is_empty() {
        return Ok(seen.map_or(ParcelLookup::NotFound, |p| classify_seen(p, station)));
    }
    Ok(ParcelLookup::Expected(open))
}

/// `JDVA00012345678-1-1-` -> `JDVA00012345678`: a trailing `-n-n` (and a last `-`).
fn without_package_suffix(s: &str) -> Option<&str> {
    let t = s.strip_suffix('-').unwrap_or(s);
    let (rest, b) = t.rsplit_once('-')?;
    let (base, a) = rest.rsplit_once('-')?;
    let digits = |x: &str| !x.is_empty() && x.len() <= 3 && x.bytes().all(|c| c.is_ascii_digit());
    (digits(a) && digits(b) && base.len() >= 8).then_some(base)
}

fn parcel_seen(r: &rusqlite::Row) -> rusqlite::Result<ParcelSeen> {
    Ok(ParcelSeen {
        parcel_id: r.get(0)?,
        state: r.get(1)?,
        station: r.get(2)?,
        operator: r.get(3)?,
        received_at: r.get(4)?,
        closed_at: r.get(5)?,
    })
}

fn classify_seen(p: ParcelSeen, station: &str) -> ParcelLookup {
    match p.state.as_str() {
        "open" if p.station == station => ParcelLookup::Resume(p.parcel_id),
        "open" => ParcelLookup::OpenElsewhere(p),
        _ => ParcelLookup::Duplicate(p),
    }
}

/// Why a write was not made.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Another station received one of these returns first.
    TakenBy(ParcelSeen),
    /// The parcel is no longer open (signed or refused meanwhile).
    Closed,
    /// Units without an outcome.
    Uninspected(usize),
    /// Discrepancies the operator has not confirmed.
    NotConfirmed,
    /// Nothing to undo.
    NothingToUndo,
}

/// An audit entry made by `actor` at their station.
fn audit_by(
    conn: &Connection,
    actor: &Actor,
    action: &str,
    subject: Option<&str>,
    detail: Option<&str>,
) -> rusqlite::Result<i64> {
    audit(conn, actor.now, Some(&actor.station), Some(&actor.user), action, subject, detail)
}

/// A write to a parcel is allowed while it is open at the writing station: after a supervisor
/// took it over elsewhere, the old station is told so instead.
fn check_open_here(
    conn: &Connection,
    parcel_id: i64,
    station: &str,
) -> rusqlite::Result<Result<(), Refusal>> {
    let seen = conn
        .prepare_cached(
            "SELECT id, state, station, operator, received_at, closed_at FROM parcels WHERE id = ?1",
        )?
        .query_row([parcel_id], parcel_seen)?;
    Ok(if seen.state != "open" {
        Err(Refusal::Closed)
    } else if seen.station != station {
        Err(Refusal::TakenBy(seen))
    } else {
        Ok(())
    })
}

/// A supervisor takes over a parcel left open at another station: it moves here, logged.
pub fn take_over(
    conn: &mut Connection,
    actor: &Actor,
    parcel_id: i64,
) -> rusqlite::Result<Result<(), Refusal>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (state, from): (String, String) =
        tx.query_row("SELECT state, station FROM parcels WHERE id = ?1", [parcel_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    if state != "open" {
        return Ok(Err(Refusal::Closed));
    }
    tx.execute("UPDATE parcels SET station = ?2 WHERE id = ?1", params![parcel_id, actor.station])?;
    audit_by(&tx, actor, "take_over", Some(&format!("P{parcel_id}")), Some(&from))?;
    tx.commit()?;
    Ok(Ok(()))
}

/// Opens a parcel for `returns` (a scan's expected returns). Checked again under the write
/// lock: if another station took one of them in the meantime, nothing is written.
pub fn open_parcel(
    conn: &mut Connection,
    actor: &Actor,
    scanned: &str,
    returns: &[i64],
) -> rusqlite::Result<Result<i64, Refusal>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for id in returns {
        let taken = tx
            .prepare_cached(
                "SELECT p.id, p.state, p.station, p.operator, p.received_at, p.closed_at
                 FROM parcel_returns pr JOIN parcels p ON p.id = pr.parcel_id WHERE pr.return_id = ?1 LIMIT 1",
            )?
            .query_row([id], parcel_seen)
            .optional()?;
        if let Some(p) = taken {
            return Ok(Err(Refusal::TakenBy(p)));
        }
    }
    let now = timestamp(actor.now);
    let tracking: Option<String> = match returns.first() {
        Some(id) => tx.query_row("SELECT tracking_no FROM returns WHERE id = ?1", [id], |r| r.get(0))?,
        None => None,
    };
    let tracking = tracking.unwrap_or_else(|| scanned.to_string());
    tx.execute(
        "INSERT INTO parcels (scan, tracking_no, tracking_key, unidentified, station, operator, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            scanned,
            tracking,
            tracking_key(&tracking),
            returns.is_empty(),
            actor.station,
            actor.user,
            now
        ],
    )?;
    let parcel_id = tx.last_insert_rowid();
    for id in returns {
        tx.execute(
            "INSERT INTO parcel_returns (parcel_id, return_id, linked_at, linked_by) VALUES (?1, ?2, ?3, ?4)",
            params![parcel_id, id, now, actor.user],
        )?;
    }
    let action = if returns.is_empty() { "book_unidentified" } else { "open_parcel" };
    audit_by(&tx, actor, action, Some(&format!("P{parcel_id}")), Some(scanned))?;
    tx.commit()?;
    Ok(Ok(parcel_id))
}

/// The parcel open at this station, if any (after a restart, the work goes on there).
pub fn open_parcel_at(conn: &Connection, station: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached(
        "SELECT id FROM parcels WHERE station = ?1 AND state = 'open' ORDER BY id DESC LIMIT 1",
    )?
    .query_row([station], |r| r.get(0))
    .optional()
}

/// A unit as stored, with its inspection.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRecord {
    pub id: i64,
    pub seq: i64,
    pub scan: String,
    pub sku: Option<String>,
    pub serial: Option<String>,
    pub line: Option<LineRef>,
    pub flag: Option<UnitFlag>,
    pub outcome: Option<Outcome>,
    pub grade: Option<Grade>,
    pub reason: Option<Reason>,
    pub cause: Option<Cause>,
    pub note: Option<String>,
    pub unit_value_cents: Option<i64>,
}

impl UnitRecord {
    pub fn received(&self) -> ReceivedUnit {
        ReceivedUnit {
            seq: self.seq,
            sku: self.sku.clone(),
            serial: self.serial.clone(),
            line: self.line,
            flag: self.flag,
            outcome: self.outcome,
        }
    }
}

/// Everything the parcel screen shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ParcelView {
    pub id: i64,
    pub scan: String,
    pub state: String,
    pub unidentified: bool,
    pub station: String,
    pub operator: String,
    pub received_at: String,
    pub returns: Vec<ReturnSummary>,
    pub lines: Vec<ExpectedLine>,
    pub units: Vec<UnitRecord>,
}

impl ParcelView {
    /// Booked in unidentified and not linked to any return since: every unit is unexpected.
    pub fn expects_nothing(&self) -> bool {
        self.unidentified && self.returns.is_empty()
    }

    pub fn received_units(&self) -> Vec<ReceivedUnit> {
        self.units.iter().map(UnitRecord::received).collect()
    }

    pub fn discrepancies(&self) -> Vec<Discrepancy> {
        parcel::discrepancies(&self.lines, &self.received_units())
    }
}

pub fn load_parcel(conn: &Connection, parcel_id: i64) -> rusqlite::Result<ParcelView> {
    let (scan, state, unidentified, station, operator, received_at): (
        String,
        String,
        bool,
        String,
        String,
        String,
    ) = conn
        .prepare_cached(
            "SELECT scan, state, unidentified, station, operator, received_at FROM parcels WHERE id = ?1",
        )?
        .query_row([parcel_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?;
    let returns: Vec<ReturnSummary> = conn
        .prepare_cached(&format!(
            "SELECT {RETURN_COLS} FROM parcel_returns pr JOIN returns r ON r.id = pr.return_id WHERE pr.parcel_id = ?1 ORDER BY r.id"
        ))?
        .query_map([parcel_id], return_summary)?
        .collect::<Result<_, _>>()?;
    let lines: Vec<ExpectedLine> = conn
        .prepare_cached(
            "SELECT l.return_id, l.line_no, r.rma_no, l.sku, coalesce(l.title, p.name), l.qty, l.serials
             FROM parcel_returns pr JOIN returns r ON r.id = pr.return_id
             JOIN return_lines l ON l.return_id = r.id
             LEFT JOIN products p ON p.sku = l.sku
             WHERE pr.parcel_id = ?1 ORDER BY r.id, l.line_no",
        )?
        .query_map([parcel_id], |r| {
            let serials: Option<String> = r.get(6)?;
            Ok(ExpectedLine {
                line: (r.get(0)?, r.get(1)?),
                rma_no: r.get(2)?,
                sku: r.get(3)?,
                title: r.get(4)?,
                qty: r.get(5)?,
                serials: serials.map(|s| s.split(';').map(String::from).collect()).unwrap_or_default(),
            })
        })?
        .collect::<Result<_, _>>()?;
    let units: Vec<UnitRecord> = conn
        .prepare_cached(
            "SELECT id, seq, scan, sku, serial, return_id, line_no, discrepancy, outcome, grade, reason, cause, note,
                    unit_value_cents
             FROM units WHERE parcel_id = ?1 ORDER BY seq",
        )?
        .query_map([parcel_id], |r| {
            let rid: Option<i64> = r.get(5)?;
            let no: Option<i64> = r.get(6)?;
            let text = |i: usize| r.get::<_, Option<String>>(i);
            Ok(UnitRecord {
                id: r.get(0)?,
                seq: r.get(1)?,
                scan: r.get(2)?,
                sku: text(3)?,
                serial: text(4)?,
                line: rid.zip(no),
                flag: text(7)?.as_deref().and_then(UnitFlag::from_code),
                outcome: text(8)?.as_deref().and_then(Outcome::from_code),
                grade: text(9)?.as_deref().and_then(Grade::from_code),
                reason: text(10)?.as_deref().and_then(Reason::from_code),
                cause: text(11)?.as_deref().and_then(Cause::from_code),
                note: text(12)?,
                unit_value_cents: r.get(13)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(ParcelView {
        id: parcel_id,
        scan,
        state,
        unidentified,
        station,
        operator,
        received_at,
        returns,
        lines,
        units,
    })
}

/// A product as the catalog knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub serialised: bool,
}

/// The product behind a scanned code: a GTIN in any of its lengths (stored as 14 digits),
/// another barcode, or a SKU, in any letter case.
pub fn find_product(conn: &Connection, code: &str) -> rusqlite::Result<Option<Product>> {
    let gtin = crate::domain::gtin::Gtin::parse(code).ok().map(|g| g.as_str().to_string());
    let upper = code.to_ascii_uppercase();
    conn.prepare_cached(
        "SELECT p.sku, p.name, p.serialised FROM products p
         WHERE p.sku = ?1 OR p.sku = ?2
            OR p.sku IN (SELECT sku FROM product_barcodes WHERE code IN (?1, ?2, ?3))
         LIMIT 1",
    )?
    .query_row(params![code, upper, gtin], |r| {
        Ok(Product { sku: r.get(0)?, name: r.get(1)?, serialised: r.get(2)? })
    })
    .optional()
}

/// A unit to record: what was scanned and what is known about it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewUnit {
    pub scan: String,
    pub sku: Option<String>,
    pub gtin: Option<String>,
    pub serial: Option<String>,
    pub lot: Option<String>,
    pub expiry: Option<String>,
}

/// Records a unit taken out of the parcel, placed on its line (or flagged) under the write
/// lock, so the placement sees every unit recorded before it. Returns the unit's id, or why not.
pub fn record_unit(
    conn: &mut Connection,
    actor: &Actor,
    parcel_id: i64,
    unit: &NewUnit,
) -> rusqlite::Result<Result<(i64, Placement), Refusal>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Err(r) = check_open_here(&tx, parcel_id, &actor.station)? {
        return Ok(Err(r));
    }
    let view = load_parcel(&tx, parcel_id)?;
    let placement = parcel::place_unit(
        &view.lines,
        &view.received_units(),
        unit.sku.as_deref(),
        unit.serial.as_deref(),
        view.expects_nothing(),
    );
    let Placement::Place { line, flag } = placement.clone() else {
        return Ok(Ok((0, placement)));
    };
    let seq = view.units.iter().map(|u| u.seq).max().unwrap_or(0) + 1;
    let value: Option<i64> = match line {
        Some((rid, no)) => tx.query_row(
            "SELECT unit_value_cents FROM return_lines WHERE return_id = ?1 AND line_no = ?2",
            params![rid, no],
            |r| r.get(0),
        )?,
        None => None,
    };
    tx.execute(
        "INSERT INTO units (parcel_id, seq, return_id, line_no, scan, sku, gtin, serial, lot, expiry, discrepancy,
            unit_value_cents, station, operator, scanned_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            parcel_id,
            seq,
            line.map(|l| l.0),
            line.map(|l| l.1),
            unit.scan,
            unit.sku,
            unit.gtin,
            unit.serial,
            unit.lot,
            unit.expiry,
            flag.map(UnitFlag::code),
            value,
            actor.station,
            actor.user,
            timestamp(actor.now)
        ],
    )?;
    let id = tx.last_insert_rowid();
    tx.commit()?;
    Ok(Ok((id, placement)))
}

/// An inspection result for one unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    pub outcome: Outcome,
    pub grade: Grade,
    pub reason: Option<Reason>,
    pub cause: Cause,
    pub note: Option<String>,
}

/// Records the inspection of unit `unit_id` (replacing an earlier one).
pub fn inspect_unit(
    conn: &mut Connection,
    actor: &Actor,
    unit_id: i64,
    i: &Inspection,
) -> rusqlite::Result<Result<(), Refusal>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let parcel_id: i64 =
        tx.query_row("SELECT parcel_id FROM units WHERE id = ?1", [unit_id], |r| r.get(0))?;
    if let Err(r) = check_open_here(&tx, parcel_id, &actor.station)? {
        return Ok(Err(r));
    }
    tx.execute(
        "UPDATE units SET outcome = ?2, grade = ?3, reason = ?4, cause = ?5, note = ?6, inspected_at = ?7,
            operator = ?8, station = ?9 WHERE id = ?1",
        params![
            unit_id,
            i.outcome.code(),
            i.grade.code(),
            i.reason.map(Reason::code),
            i.cause.code(),
            i.note,
            timestamp(actor.now),
            actor.user,
            actor.station
        ],
    )?;
    tx.commit()?;
    Ok(Ok(()))
}

/// What undo took back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undone {
    /// The inspection of unit `seq` (the unit stays, uninspected).
    Inspection { seq: i64 },
    /// Unit `seq` itself.
    Unit { seq: i64 },
}

/// Takes back the last step of the parcel: the latest inspection if it came after the latest
/// unit, else the latest unit. Logged in the audit log.
pub fn undo_last(
    conn: &mut Connection,
    actor: &Actor,
    parcel_id: i64,
) -> rusqlite::Result<Result<Undone, Refusal>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Err(r) = check_open_here(&tx, parcel_id, &actor.station)? {
        return Ok(Err(r));
    }
    // The latest step: an inspection time or a scan time, whichever is later (ties: inspection).
    let last: Option<(i64, i64, bool)> = tx
        .query_row(
            "SELECT id, seq, inspected_at IS NOT NULL AND inspected_at >= scanned_at FROM units
             WHERE parcel_id = ?1 ORDER BY max(scanned_at, coalesce(inspected_at, '')) DESC, seq DESC LIMIT 1",
            [parcel_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((unit_id, seq, inspected)) = last else {
        return Ok(Err(Refusal::NothingToUndo));
    };
    let undone = if inspected {
        tx.execute(
            "UPDATE units SET outcome = NULL, grade = NULL, reason = NULL, cause = NULL, note = NULL, inspected_at = NULL
             WHERE id = ?1",
            [unit_id],
        )?;
        Undone::Inspection { seq }
    } else {
        tx.execute("DELETE FROM units WHERE id = ?1", [unit_id])?;
        Undone::Unit { seq }
    };
    audit_by(&tx, actor, "undo", Some(&format!("P{parcel_id}")), Some(&format!("{undone:?}")))?;
    tx.commit()?;
    Ok(Ok(undone))
}

/// When a refusal must be reviewed: a unit worth more than `refusal_above_cents`, or more
/// than `refusals_per_parcel` refused units in one parcel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub refusal_above_cents: i64,
    pub refusals_per_parcel: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { refusal_above_cents: 50_000, refusals_per_parcel: 2 }
    }
}

impl Policy {
    /// Why the refusal of `unit` in this parcel needs a supervisor, if it does.
    pub fn mandatory(&self, view: &ParcelView, unit: &UnitRecord) -> Option<Mandatory> {
        if unit.outcome != Some(Outcome::Refuse) {
            return None;
        }
        if unit.unit_value_cents.is_some_and(|v| v > self.refusal_above_cents) {
            return Some(Mandatory::Value(self.refusal_above_cents));
        }
        let refused = view.units.iter().filter(|u| u.outcome == Some(Outcome::Refuse)).count();
        (refused > self.refusals_per_parcel).then_some(Mandatory::Count(self.refusals_per_parcel))
    }
}

/// Why a refusal must be reviewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mandatory {
    Value(i64),
    Count(usize),
}

/// Signs for the parcel. With discrepancies, `confirmed` must be true (the operator saw them
/// and acknowledged); uninspected units always refuse. The discrepancies are stored with who
/// acknowledged them; refused units and a parcel signed with discrepancies (or unidentified)
/// enter the supervisor's queue.
pub fn sign_parcel(
    conn: &mut Connection,
    actor: &Actor,
    parcel_id: i64,
    confirmed: bool,
) -> rusqlite::Result<Result<Vec<Discrepancy>, Refusal>> {
    sign_parcel_with(conn, actor, parcel_id, confirmed, &Policy::default())
}

/// [`sign_parcel`] under the station's review policy.
pub fn sign_parcel_with(
    conn: &mut Connection,
    actor: &Actor,
    parcel_id: i64,
    confirmed: bool,
    policy: &Policy,
) -> rusqlite::Result<Result<Vec<Discrepancy>, Refusal>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Err(r) = check_open_here(&tx, parcel_id, &actor.station)? {
        return Ok(Err(r));
    }
    let view = load_parcel(&tx, parcel_id)?;
    let found = view.discrepancies();
    match parcel::signable(&found) {
        Signable::Blocked => {
            let n = found.iter().filter(|d| matches!(d, Discrepancy::Uninspected { .. })).count();
            return Ok(Err(Refusal::Uninspected(n)));
        }
        Signable::NeedsConfirmation if !confirmed => return Ok(Err(Refusal::NotConfirmed)),
        _ => {}
    }
    let now = timestamp(actor.now);
    let audit_id = audit_by(
        &tx,
        actor,
        "sign",
        Some(&format!("P{parcel_id}")),
        Some(&format!("{} discrepancies", found.len())),
    )?;
    store_discrepancies(&tx, &view, &found, actor, &now)?;
    tx.execute(
        "UPDATE parcels SET state = 'signed', closed_at = ?2, closed_by = ?3, closed_audit_id = ?4, has_discrepancy = ?5
         WHERE id = ?1",
        params![parcel_id, now, actor.user, audit_id, !found.is_empty()],
    )?;
    for u in view.units.iter().filter(|u| u.outcome == Some(Outcome::Refuse)) {
        tx.execute(
            "INSERT INTO reviews (parcel_id, unit_id, kind, mandatory, created_at) VALUES (?1, ?2, 'refused_unit', ?3, ?4)",
            params![parcel_id, u.id, policy.mandatory(&view, u).is_some(), now],
        )?;
    }
    let kind = if view.unidentified {
        Some("unidentified")
    } else if !found.is_empty() {
        Some("discrepancy")
    } else {
        None
    };
    if let Some(kind) = kind {
        tx.execute(
            "INSERT INTO reviews (parcel_id, kind, created_at) VALUES (?1, ?2, ?3)",
            params![parcel_id, kind, now],
        )?;
    }
    tx.commit()?;
    Ok(Ok(found))
}

fn store_discrepancies(
    tx: &Connection,
    view: &ParcelView,
    found: &[Discrepancy],
    actor: &Actor,
    now: &str,
) -> rusqlite::Result<()> {
    for d in found {
        let (kind, line, unit, qty) = match d {
            Discrepancy::Missing { line, qty } => ("missing", Some(*line), None, *qty),
            Discrepancy::Unit { seq, flag } => {
                let u = view.units.iter().find(|u| u.seq == *seq);
                (flag.code(), u.and_then(|u| u.line), u.map(|u| u.id), 1)
            }
            Discrepancy::Uninspected { seq } => {
                ("uninspected", None, view.units.iter().find(|u| u.seq == *seq).map(|u| u.id), 1)
            }
        };
        tx.execute(
            "INSERT INTO discrepancies (parcel_id, kind, return_id, line_no, unit_id, qty, acknowledged_by, acknowledged_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![view.id, kind, line.map(|l| l.0), line.map(|l| l.1), unit, qty, actor.user, now],
        )?;
    }
    Ok(())
}

/// Refuses the whole parcel at the dock, with a reason; it goes to the supervisor's queue.
pub fn refuse_parcel(
    conn: &mut Connection,
    actor: &Actor,
    parcel_id: i64,
    reason: Reason,
    note: Option<&str>,
) -> rusqlite::Result<Result<(), Refusal>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Err(r) = check_open_here(&tx, parcel_id, &actor.station)? {
        return Ok(Err(r));
    }
    let now = timestamp(actor.now);
    let audit_id =
        audit_by(&tx, actor, "refuse_parcel", Some(&format!("P{parcel_id}")), Some(reason.code()))?;
    tx.execute(
        "UPDATE parcels SET state = 'refused', closed_at = ?2, closed_by = ?3, closed_audit_id = ?4, refuse_reason = ?5, note = ?6
         WHERE id = ?1",
        params![parcel_id, now, actor.user, audit_id, reason.code(), note],
    )?;
    tx.execute(
        "INSERT INTO reviews (parcel_id, kind, created_at) VALUES (?1, 'refused_parcel', ?2)",
        params![parcel_id, now],
    )?;
    tx.commit()?;
    Ok(Ok(()))
}

/// Links parcels booked in as unidentified to the expected returns that now carry their
/// tracking number (run by an import, inside its transaction). The units of a parcel still
/// open are placed again on the lines it now expects. Returns the parcels linked.
pub fn link_unidentified(conn: &Connection, now: DateTime<FixedOffset>) -> rusqlite::Result<Vec<i64>> {
    let waiting: Vec<(i64, String, String)> = conn
        .prepare(
            "SELECT p.id, p.tracking_key, p.state FROM parcels p
             WHERE p.unidentified = 1 AND p.tracking_key IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM parcel_returns pr WHERE pr.parcel_id = p.id)",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let at = timestamp(now);
    let mut linked = Vec::new();
    for (parcel_id, key, state) in waiting {
        let returns: Vec<i64> = conn
            .prepare_cached(
                "SELECT id FROM returns r WHERE (r.tracking_no = ?1 OR r.tracking_key = ?1)
                   AND NOT EXISTS (SELECT 1 FROM parcel_returns pr WHERE pr.return_id = r.id)",
            )?
            .query_map([&key], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        if returns.is_empty() {
            continue;
        }
        for rid in &returns {
            conn.execute(
                "INSERT INTO parcel_returns (parcel_id, return_id, linked_at, linked_by) VALUES (?1, ?2, ?3, 'import')",
                params![parcel_id, rid, at],
            )?;
        }
        if state == "open" {
            let view = load_parcel(conn, parcel_id)?;
            let mut placed: Vec<ReceivedUnit> = Vec::new();
            for u in &view.units {
                let p =
                    parcel::place_unit(&view.lines, &placed, u.sku.as_deref(), u.serial.as_deref(), false);
                let (line, flag) = match p {
                    Placement::Place { line, flag } => (line, flag),
                    Placement::SerialAlreadyScanned { .. } => (None, Some(UnitFlag::Unexpected)),
                };
                conn.execute(
                    "UPDATE units SET return_id = ?2, line_no = ?3, discrepancy = ?4 WHERE id = ?1",
                    params![u.id, line.map(|l| l.0), line.map(|l| l.1), flag.map(UnitFlag::code)],
                )?;
                placed.push(ReceivedUnit { line, flag, ..u.received() });
            }
        }
        audit(
            conn,
            now,
            None,
            Some("import"),
            "link_unidentified",
            Some(&format!("P{parcel_id}")),
            Some(&key),
        )?;
        linked.push(parcel_id);
    }
    Ok(linked)
}

/// What a unit's label shows, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitFacts {
    pub outcome: Option<Outcome>,
    pub grade: Option<String>,
    pub sku: Option<String>,
    pub rma: Option<String>,
    /// When it was inspected, else when it was scanned.
    pub at: String,
}

pub fn unit_facts(conn: &Connection, unit_id: i64) -> rusqlite::Result<Option<UnitFacts>> {
    conn.query_row(
        "SELECT u.outcome, u.grade, u.sku, r.rma_no, coalesce(u.inspected_at, u.scanned_at) FROM units u
         LEFT JOIN returns r ON r.id = u.return_id WHERE u.id = ?1",
        [unit_id],
        |r| {
            let outcome: Option<String> = r.get(0)?;
            Ok(UnitFacts {
                outcome: outcome.as_deref().and_then(Outcome::from_code),
                grade: r.get(1)?,
                sku: r.get(2)?,
                rma: r.get(3)?,
                at: r.get(4)?,
            })
        },
    )
    .optional()
}
