//! What a scanning station reads and writes. Every write is one `BEGIN IMMEDIATE` transaction,
//! committed (durably: WAL with `synchronous = FULL`) before the function returns, so what the
//! screen confirms is on disk. Reads that decide a write are made inside that transaction, so
//! two stations racing for one parcel cannot both win.

pub use super::boxes::{Rest, Settled};
use super::sql::{args, in_tx, is_constraint, Engine, Mode, Row, Sql, SqlExt};
use super::{audit, chain, timestamp, DbError, DbResult};
use crate::domain::codes::{Cause, Coded, Grade, Outcome, ParcelState, Reason, Role};
use crate::domain::parcel::{
    self, Discrepancy, ExpectedLine, LineRef, Placement, ReceivedUnit, Signable, UnitFlag,
};
use crate::domain::tracking::tracking_key;
use chrono::{DateTime, FixedOffset};

/// Who does something, where and when.
#[derive(Debug, Clone)]
pub struct Actor {
    pub station: String,
    /// The dock the station stands at (empty where none was named).
    pub dock: String,
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

/// The user with id `id`, given bare (`ZHANG01`) or as on a badge (`OP-ZHANG01`): a user whose
/// stored id itself begins with `OP-` is found by that id first.
pub fn find_user(db: &dyn Sql, id: &str) -> DbResult<Option<User>> {
    let id = id.trim();
    let bare = super::users::without_badge_prefix(id);
    db.row(
        "SELECT id, name, role, active FROM users WHERE id = ?1 OR id = ?2 ORDER BY id = ?1 DESC LIMIT 1",
        args![id, bare],
    )?
    .map(|r| {
        let role: String = r.get(2)?;
        Ok(User {
            id: r.get(0)?,
            name: r.get(1)?,
            role: Role::parse(&role).unwrap_or(Role::Operator),
            active: r.get(3)?,
        })
    })
    .transpose()
}

/// The one row a statement must give (an error names the statement when there is none).
fn the_row(db: &dyn Sql, sql: &str, args: &[&dyn super::sql::Arg]) -> DbResult<Row> {
    db.row(sql, args)?
        .ok_or_else(|| DbError::shape(format!("no row from: {}", sql.trim().lines().next().unwrap_or(""))))
}

/// Starts a shift for `actor.user` at `actor.station`, ending whatever shift was open there.
pub fn start_shift(db: &dyn Sql, actor: &Actor) -> DbResult<i64> {
    in_write(db, |tx| start_shift_in(tx, actor))
}

/// [`start_shift`] inside the caller's write transaction.
pub fn start_shift_in(tx: &dyn Sql, actor: &Actor) -> DbResult<i64> {
    let now = timestamp(actor.now);
    tx.exec(
        "UPDATE shifts SET ended_at = ?2 WHERE station = ?1 AND ended_at IS NULL",
        args![actor.station, now],
    )?;
    let id: i64 = tx.one(
        "INSERT INTO shifts (station, user_id, started_at) VALUES (?1, ?2, ?3) RETURNING id",
        args![actor.station, actor.user, now],
    )?;
    audit_by(tx, actor, "sign_in", None, None)?;
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
    /// Boxes of it signed so far (it may arrive in several).
    pub boxes: i64,
}

/// A parcel that was already received.
#[derive(Debug, Clone, PartialEq)]
pub struct ParcelSeen {
    pub parcel_id: i64,
    pub state: ParcelState,
    pub station: String,
    pub operator: String,
    pub received_at: String,
    pub closed_at: Option<String>,
    /// The dock it was received at (None: before docks were named).
    pub dock: Option<String>,
    /// For the same box scanned again: the return it belongs to, still awaiting other boxes
    /// (a new box of it is opened by its RMA number).
    pub rma_awaiting: Option<String>,
}

/// What a parcel scan found.
#[derive(Debug, Clone, PartialEq)]
pub enum ParcelLookup {
    /// Expected returns not yet received: open a parcel for them.
    Expected(Vec<ReturnSummary>),
    /// An order number whose open returns travel under different tracking numbers: which box
    /// this is must be said (its tracking number or its RMA), never guessed.
    OrderReturns {
        order_no: String,
        returns: Vec<ReturnSummary>,
    },
    /// Already open at this station: carry on with it.
    Resume(i64),
    /// Open at another station.
    OpenElsewhere(ParcelSeen),
    /// Received before and closed: a duplicate scan.
    Duplicate(ParcelSeen),
    NotFound,
}

/// A return as a scan finds it (from [`FOUND_FROM`]): its summary, then where it stands (see
/// [`Standing`]), so that a scan's lookup is one statement.
const FOUND_COLS: &str = "r.id, r.rma_no, r.order_no, r.tracking_no, r.customer, r.reason, r.resolution,
    coalesce(x.boxes, 0) AS boxes,
    (SELECT p.id FROM parcel_returns pr JOIN parcels p ON p.id = pr.parcel_id
     WHERE pr.return_id = r.id AND p.state = 'open' ORDER BY p.id DESC LIMIT 1) AS open_box,
    x.return_id IS NOT NULL AS received, CASE WHEN x.closed_how IS NOT NULL THEN x.last_parcel_id END AS closed_box";
const FOUND_FROM: &str = "FROM returns r LEFT JOIN return_receipts x ON x.return_id = r.id";

fn return_summary(r: &Row) -> DbResult<ReturnSummary> {
    Ok(ReturnSummary {
        id: r.get(0)?,
        rma_no: r.get(1)?,
        order_no: r.get(2)?,
        tracking_no: r.get(3)?,
        customer: r.get(4)?,
        reason: r.get(5)?,
        resolution: r.get(6)?,
        boxes: r.get(7)?,
    })
}

/// A row of [`FOUND_COLS`].
fn found(r: &Row) -> DbResult<(ReturnSummary, Standing)> {
    let standing = Standing { open: r.get(8)?, received: r.get(9)?, closed: r.get(10)? };
    Ok((return_summary(r)?, standing))
}

/// Where a return stands, as read with it: the newest of its boxes open, whether a box of it
/// was signed or refused (it has a receipt), and the box it closed with.
struct Standing {
    open: Option<i64>,
    received: bool,
    closed: Option<i64>,
}

/// Return `id` as a scan finds it (None: no such return).
fn found_return(db: &dyn Sql, id: i64) -> DbResult<Option<(ReturnSummary, Standing)>> {
    db.row(&format!("SELECT {FOUND_COLS} {FOUND_FROM} WHERE r.id = ?1"), args![id])?
        .map(|r| found(&r))
        .transpose()
}

/// True when `returns` do not all travel under one tracking number (a return without one
/// travels on its own).
fn travel_apart(returns: &[ReturnSummary]) -> bool {
    let key = |r: &ReturnSummary| r.tracking_no.as_deref().map(tracking_key);
    let first = key(&returns[0]);
    first.is_none() && returns.len() > 1 || returns.iter().any(|r| key(r) != first)
}

/// Finds what a parcel scan means: an RMA number, else a tracking number, else an order
/// number, each as scanned and under its key (case and punctuation ignored). An RMA found by
/// its own number brings along the other RMAs that travel under its tracking number.
pub fn lookup_parcel(db: &dyn Sql, station: &str, scanned: &str) -> DbResult<ParcelLookup> {
    lookup_box(db, station, scanned, scanned)
}

/// The returns an RMA scan names (?1 as scanned, ?2 its key), each marked 1, then those that
/// travel under their tracking numbers, marked 0 (the caller keeps these when the scan named
/// one return). No `ORDER BY … LIMIT` inside: a planner short of statistics walks a whole
/// index in id order for one.
const BY_RMA: &str = "SELECT * FROM (
    SELECT {cols}, 1 AS named {from} WHERE r.rma_no = ?1 OR r.rma_no = ?2 OR r.rma_key = ?2
    UNION ALL
    SELECT {cols}, 0 AS named {from}
    WHERE r.tracking_no IN (SELECT t.tracking_no FROM returns t WHERE t.rma_no = ?1 OR t.rma_no = ?2 OR t.rma_key = ?2)
) AS found ORDER BY named DESC, id";

/// [`lookup_parcel`] of `scanned`, read from the label as `label` (with a package suffix).
fn lookup_box(db: &dyn Sql, station: &str, scanned: &str, label: &str) -> DbResult<ParcelLookup> {
    let key = tracking_key(scanned);
    let by = |col: &str, keycol: &str| -> DbResult<Vec<(ReturnSummary, Standing)>> {
        let sql = format!(
            "SELECT {FOUND_COLS} {FOUND_FROM} WHERE r.{col} = ?1 OR r.{col} = ?2 OR r.{keycol} = ?2 ORDER BY r.id"
        );
        db.map(&sql, args![scanned, key], found)
    };
    // The returns the RMA names, with the others of its box when it names one return alone.
    let by_rma_sql = BY_RMA.replace("{cols}", FOUND_COLS).replace("{from}", FOUND_FROM);
    let rows = db.map(&by_rma_sql, args![scanned, key], |r| Ok((found(r)?, r.get::<bool>(11)?)))?;
    let named = rows.iter().filter(|(_, named)| *named).count();
    let mut found: Vec<(ReturnSummary, Standing)> = Vec::new();
    for (f, is_named) in rows {
        let travels_with = named == 1
            && !is_named
            && found.first().is_some_and(|(first, _)| first.tracking_no.is_some() && first.id != f.0.id);
        if is_named || travels_with {
            found.push(f);
        }
    }
    let by_rma = named > 0;
    if found.is_empty() {
        found = by("tracking_no", "tracking_key")?;
    }
    let mut by_order = false;
    if found.is_empty() {
        found = by("order_no", "order_key")?;
        by_order = !found.is_empty();
    }
    // A courier's package suffix (JD prints `JDVA00012345678-1-1-`): the number without it.
    if found.is_empty() {
        if let Some(base) = without_package_suffix(scanned) {
            return lookup_box(db, station, base, label);
        }
    }
    if found.is_empty() {
        // A parcel booked in before: unidentified ones are found by what was scanned then.
        let seen_unidentified = db
            .row(
                "SELECT id, state, station, operator, received_at, closed_at, dock FROM parcels
                 WHERE unidentified = 1 AND tracking_key = ?1 ORDER BY id DESC LIMIT 1",
                args![key],
            )?
            .map(|r| parcel_seen(&r))
            .transpose()?;
        return Ok(match seen_unidentified {
            Some(p) => classify_seen(p, station),
            None => ParcelLookup::NotFound,
        });
    }
    // What the scan names as the box itself: a tracking number (with its package suffix), not
    // an RMA or order number, which name the return whatever box it comes in.
    let box_key = (!by_rma && !by_order).then(|| tracking_key(label));
    let mut open: Vec<ReturnSummary> = Vec::new();
    let mut seen: Option<ParcelSeen> = None;
    for (i, (r, standing)) in found.into_iter().enumerate() {
        match stand_of(db, r.id, &standing, box_key.as_deref())? {
            // The RMA scanned is what the box is: closed, or open somewhere, it is that parcel,
            // whatever the returns that travel with it await.
            Stand::Seen(p) if by_rma && i == 0 => return Ok(classify_seen(p, station)),
            Stand::Takes => open.push(r),
            Stand::Seen(p) => {
                seen.get_or_insert(p);
            }
            Stand::SameBox(mut p) => {
                p.rma_awaiting = Some(r.rma_no.clone());
                seen.get_or_insert(p);
            }
        }
    }
    // A parcel already open for one of these returns takes precedence: it is where they are.
    if let Some(p) = seen.clone().filter(|p| p.state == ParcelState::Open) {
        return Ok(classify_seen(p, station));
    }
    if open.is_empty() {
        return Ok(seen.map_or(ParcelLookup::NotFound, |p| classify_seen(p, station)));
    }
    // An order in several returns sent in separate boxes: one box is one tracking number, and
    // opening every return of the order would call the others' units missing.
    if by_order && travel_apart(&open) {
        let order_no = open[0].order_no.clone();
        return Ok(ParcelLookup::OrderReturns { order_no, returns: open });
    }
    Ok(ParcelLookup::Expected(open))
}

/// Where a return stands for a parcel scan.
enum Stand {
    /// It takes a box: none arrived yet, or it is open and awaiting more.
    Takes,
    /// A box of it is open (at this station or another), or it is closed: that parcel.
    Seen(ParcelSeen),
    /// It awaits more boxes, but this box (`box_key`) was signed already: that parcel.
    SameBox(ParcelSeen),
}

fn seen_parcel(db: &dyn Sql, id: i64) -> DbResult<ParcelSeen> {
    parcel_seen(&the_row(
        db,
        "SELECT id, state, station, operator, received_at, closed_at, dock FROM parcels WHERE id = ?1",
        args![id],
    )?)
}

/// Where return `id` stands. `box_key`: the tracking key of the box scanned, when the scan
/// named a box.
fn stand(db: &dyn Sql, id: i64, box_key: Option<&str>) -> DbResult<Stand> {
    match found_return(db, id)? {
        Some((_, standing)) => stand_of(db, id, &standing, box_key),
        None => Ok(Stand::Takes),
    }
}

/// [`stand`] of return `id` as read with it (`standing`).
fn stand_of(db: &dyn Sql, id: i64, standing: &Standing, box_key: Option<&str>) -> DbResult<Stand> {
    if let Some(p) = standing.open {
        return Ok(Stand::Seen(seen_parcel(db, p)?));
    }
    if !standing.received {
        return Ok(Stand::Takes);
    }
    if let Some(p) = standing.closed {
        return Ok(Stand::Seen(seen_parcel(db, p)?));
    }
    let Some(key) = box_key else { return Ok(Stand::Takes) };
    // The box is the number it was scanned by, unless that named the return (its RMA or
    // order number): then the return's tracking number.
    let boxes: Vec<(i64, String, String, String, Option<String>)> = db.map(
        "SELECT p.id, p.scan, r.rma_no, r.order_no, r.tracking_no FROM parcel_returns pr
         JOIN parcels p ON p.id = pr.parcel_id JOIN returns r ON r.id = pr.return_id
         WHERE pr.return_id = ?1 AND p.state <> 'open' ORDER BY p.id DESC",
        args![id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    let same = boxes.into_iter().find_map(|(p, scan, rma, order, tracking)| {
        let scanned = tracking_key(&scan);
        let named_return = scanned == tracking_key(&rma) || scanned == tracking_key(&order);
        let was = if named_return { tracking.as_deref().map(tracking_key) } else { Some(scanned) };
        (was.as_deref() == Some(key)).then_some(p)
    });
    Ok(match same {
        Some(p) => Stand::SameBox(seen_parcel(db, p)?),
        None => Stand::Takes,
    })
}

/// The parcel that keeps return `id` from taking another box: one of its boxes open, or the
/// box it closed with. None while it takes boxes.
pub fn box_refused(db: &dyn Sql, id: i64) -> DbResult<Option<i64>> {
    Ok(match stand(db, id, None)? {
        Stand::Seen(p) | Stand::SameBox(p) => Some(p.parcel_id),
        Stand::Takes => None,
    })
}

/// `JDVA00012345678-1-1-` -> `JDVA00012345678`: a trailing `-n-n` (and a last `-`).
fn without_package_suffix(s: &str) -> Option<&str> {
    let t = s.strip_suffix('-').unwrap_or(s);
    let (rest, b) = t.rsplit_once('-')?;
    let (base, a) = rest.rsplit_once('-')?;
    let digits = |x: &str| !x.is_empty() && x.len() <= 3 && x.bytes().all(|c| c.is_ascii_digit());
    (digits(a) && digits(b) && base.len() >= 8).then_some(base)
}

fn parcel_seen(r: &Row) -> DbResult<ParcelSeen> {
    parcel_seen_at(r, 0)
}

/// A parcel as seen, from columns `at`.. of a row: id, state, station, operator, received_at,
/// closed_at, dock.
fn parcel_seen_at(r: &Row, at: usize) -> DbResult<ParcelSeen> {
    Ok(ParcelSeen {
        parcel_id: r.get(at)?,
        state: parcel_state(r, at + 1)?,
        station: r.get(at + 2)?,
        operator: r.get(at + 3)?,
        received_at: r.get(at + 4)?,
        closed_at: r.get(at + 5)?,
        dock: r.get(at + 6)?,
        rma_awaiting: None,
    })
}

fn classify_seen(p: ParcelSeen, station: &str) -> ParcelLookup {
    match p.state {
        ParcelState::Open if p.station == station => ParcelLookup::Resume(p.parcel_id),
        ParcelState::Open => ParcelLookup::OpenElsewhere(p),
        _ => ParcelLookup::Duplicate(p),
    }
}

/// A parcel's state as stored (`open`, `signed`, `refused`), read from column `i`.
pub fn parcel_state(r: &Row, i: usize) -> DbResult<ParcelState> {
    let text: String = r.get(i)?;
    ParcelState::from_code(&text).ok_or_else(|| DbError::shape(format!("column {i}: parcel state {text}")))
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
    /// The unit is not (or no longer) recorded.
    NoSuchUnit,
    /// The parcel's discrepancies are not the ones the operator was shown (an import or a
    /// supervisor linked it meanwhile): these are the ones that stand now.
    Changed(Vec<Discrepancy>),
    /// Accept given to unit `seq` of a product in several boxes with `have` of `of` arrived.
    NeedsEveryBox { seq: i64, have: i64, of: i64 },
    /// Signed as the last box while this many units still miss boxes and have no outcome.
    UnitsIncomplete(usize),
    /// What was given as a unit's serial number is a product's barcode (of this SKU).
    SerialIsABarcode(String),
    /// The policy wants a photo first: of each of these units (their numbers in the parcel),
    /// or, when none is named, of the parcel being refused.
    PhotoNeeded(Vec<i64>),
}

/// An audit entry made by `actor` at their station.
fn audit_by(
    db: &dyn Sql,
    actor: &Actor,
    action: &str,
    subject: Option<&str>,
    detail: Option<&str>,
) -> DbResult<i64> {
    audit(db, actor.now, Some(&actor.station), Some(&actor.user), action, subject, detail)
}

/// Who, where and when, as the log's state entries record it.
fn by<'a>(actor: &'a Actor, at: &'a str) -> chain::By<'a> {
    chain::By {
        at,
        station: Some(actor.station.as_str()).filter(|s| !s.is_empty()),
        actor: Some(&actor.user),
    }
}

/// Logs record `id`'s state after a change `actor` made.
fn log_record(db: &dyn Sql, actor: &Actor, table: &chain::Table, id: i64, kind: &str) -> DbResult<()> {
    let at = timestamp(actor.now);
    chain::log_state(db, by(actor, &at), table, id, kind, None)?;
    Ok(())
}

/// Runs `sql`, a write of one record of `table` by `actor`, with `RETURNING` its state, and logs
/// the state it left without reading it back: the record's id.
fn write_logged(
    db: &dyn Sql,
    actor: &Actor,
    table: &chain::Table,
    sql: &str,
    args: &[&dyn super::sql::Arg],
    kind: &str,
) -> DbResult<i64> {
    let row = the_row(db, &format!("{sql} {}", chain::returning(table)), args)?;
    let at = timestamp(actor.now);
    chain::log_written(db, by(actor, &at), table, &row, kind, None)?;
    row.get(0)
}

/// Before `actor` changes record `id`: logs it first if it was changed behind the program.
fn confirm_record(db: &dyn Sql, actor: &Actor, table: &chain::Table, id: i64) -> DbResult<()> {
    let at = timestamp(actor.now);
    chain::confirm(db, by(actor, &at), table, id)
}

/// Runs `f` in one write transaction (`BEGIN IMMEDIATE` on SQLite) and commits; rolls back
/// when `f` fails. The station reads what it will show inside the same transaction (the
/// parcel after the step, the shift's figures), so an answer can only come back once the step
/// is on disk, and a read that fails after a commit can never turn a saved step into one the
/// screen calls "not saved".
pub fn in_write<T>(db: &dyn Sql, f: impl FnOnce(&dyn Sql) -> DbResult<T>) -> DbResult<T> {
    in_tx(db, Mode::Write, f)
}

/// The unit's row as a write returns it: its state, as the log carries it.
fn units_returning() -> String {
    chain::returning(&chain::UNITS)
}

/// Appends one step of a unit's history (`unit_steps`), and the unit's state after it to the
/// audit log. The unit's row is written first: `unit` is that row as the write returned it
/// ([`units_returning`]), None when the step removed the unit.
#[allow(clippy::too_many_arguments)]
fn step(
    db: &dyn Sql,
    actor: &Actor,
    parcel_id: i64,
    unit_id: i64,
    seq: i64,
    kind: &str,
    i: Option<&Inspection>,
    undoes: Option<i64>,
    review: Option<i64>,
    unit: Option<&Row>,
) -> DbResult<i64> {
    // The cause and the destination as the unit's row now has them.
    let (cause, destination): (Option<String>, Option<String>) = match (i, unit) {
        (Some(_), Some(r)) => (
            r.get(chain::column(&chain::UNITS, "cause"))?,
            r.get(chain::column(&chain::UNITS, "destination"))?,
        ),
        _ => (None, None),
    };
    let id: i64 = db.one(
        "INSERT INTO unit_steps (parcel_id, unit_id, seq, kind, outcome, grade, reason, cause, note, undoes, review_id,
            station, actor, at, destination)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) RETURNING id",
        args![
            parcel_id,
            unit_id,
            seq,
            kind,
            i.map(|i| i.outcome.code()),
            i.and_then(|i| i.grade).map(Grade::code),
            i.and_then(|i| i.reason).map(Reason::code),
            cause,
            i.and_then(|i| i.note.as_deref()),
            undoes,
            review,
            Some(actor.station.as_str()).filter(|s| !s.is_empty()),
            actor.user,
            timestamp(actor.now),
            destination
        ],
    )?;
    let at = timestamp(actor.now);
    match unit {
        Some(row) => chain::log_written(db, by(actor, &at), &chain::UNITS, row, kind, Some(id))?,
        None => chain::log_state(db, by(actor, &at), &chain::UNITS, unit_id, kind, Some(id))?,
    };
    Ok(id)
}

/// A write to a parcel is allowed while it is open at the writing station: after a supervisor
/// took it over elsewhere, the old station is told so instead.
fn check_open_here(db: &dyn Sql, parcel_id: i64, station: &str) -> DbResult<Result<(), Refusal>> {
    Ok(open_here(seen_parcel(db, parcel_id)?, station).map_or(Ok(()), Err))
}

/// [`check_open_here`] of a parcel as read: why not, if not.
fn open_here(seen: ParcelSeen, station: &str) -> Option<Refusal> {
    if seen.state != ParcelState::Open {
        Some(Refusal::Closed)
    } else if seen.station != station {
        Some(Refusal::TakenBy(seen))
    } else {
        None
    }
}

/// A supervisor takes over a parcel left open at another station: it moves here, logged.
pub fn take_over(db: &dyn Sql, actor: &Actor, parcel_id: i64) -> DbResult<Result<(), Refusal>> {
    in_write(db, |tx| take_over_in(tx, actor, parcel_id))
}

/// [`take_over`] inside the caller's write transaction.
pub fn take_over_in(tx: &dyn Sql, actor: &Actor, parcel_id: i64) -> DbResult<Result<(), Refusal>> {
    let r = the_row(tx, "SELECT state, station FROM parcels WHERE id = ?1", args![parcel_id])?;
    let (state, from): (ParcelState, String) = (parcel_state(&r, 0)?, r.get(1)?);
    if state != ParcelState::Open {
        return Ok(Err(Refusal::Closed));
    }
    confirm_record(tx, actor, &chain::PARCELS, parcel_id)?;
    tx.exec("UPDATE parcels SET station = ?2 WHERE id = ?1", args![parcel_id, actor.station])?;
    audit_by(tx, actor, "take_over", Some(&format!("P{parcel_id}")), Some(&from))?;
    log_record(tx, actor, &chain::PARCELS, parcel_id, "taken over")?;
    Ok(Ok(()))
}

/// Opens a parcel for `returns` (a scan's expected returns). Checked again under the write
/// lock: if another station took one of them in the meantime, nothing is written.
pub fn open_parcel(
    db: &dyn Sql,
    actor: &Actor,
    scanned: &str,
    returns: &[i64],
) -> DbResult<Result<i64, Refusal>> {
    lost_race(db, returns, in_write(db, |tx| open_parcel_in(tx, actor, scanned, returns)))
}

/// [`open_parcel`] inside the caller's write transaction. Another writer may open a box of the
/// same return after the check here (on a database with several writers at once): the unique
/// index on open boxes then refuses this one, and the caller's transaction fails whole (see
/// [`lost_race`]).
pub fn open_parcel_in(
    tx: &dyn Sql,
    actor: &Actor,
    scanned: &str,
    returns: &[i64],
) -> DbResult<Result<i64, Refusal>> {
    // A return takes a new box unless one of its boxes is open, or it closed meanwhile.
    let mut tracking = None;
    for (i, id) in returns.iter().enumerate() {
        let (r, standing) = found_return(tx, *id)?
            .ok_or_else(|| DbError::shape(format!("no return {id} to open a box of")))?;
        if let Stand::Seen(p) = stand_of(tx, *id, &standing, None)? {
            return Ok(Err(Refusal::TakenBy(p)));
        }
        if i == 0 {
            tracking = r.tracking_no;
        }
    }
    let tracking = tracking.unwrap_or_else(|| scanned.to_string());
    insert_parcel(tx, actor, scanned, &tracking, returns).map(Ok)
}

/// How a write that opened a box of `returns` ended. Refused by the unique index on open
/// boxes, another writer opened one first and the write was rolled back whole: the answer is
/// who has the return, read afresh (that writer's box is committed by then: the index waited
/// for it).
pub fn lost_race<T>(
    db: &dyn Sql,
    returns: &[i64],
    ended: DbResult<Result<T, Refusal>>,
) -> DbResult<Result<T, Refusal>> {
    match ended {
        Err(e) if is_constraint(&e) => {
            for id in returns {
                if let Stand::Seen(p) = stand(db, *id, None)? {
                    return Ok(Err(Refusal::TakenBy(p)));
                }
            }
            Err(e)
        }
        other => other,
    }
}

/// The parcel's row, its links to its returns and its first entries in the log.
fn insert_parcel(
    tx: &dyn Sql,
    actor: &Actor,
    scanned: &str,
    tracking: &str,
    returns: &[i64],
) -> DbResult<i64> {
    let now = timestamp(actor.now);
    // The parcel as written, logged once it is linked and its opening is in the log (linking
    // does not change its row).
    let parcel = the_row(
        tx,
        &format!(
            "INSERT INTO parcels (scan, tracking_no, tracking_key, unidentified, station, operator, received_at, dock)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) {}",
            chain::returning(&chain::PARCELS)
        ),
        args![
            scanned,
            tracking,
            tracking_key(tracking),
            returns.is_empty(),
            actor.station,
            actor.user,
            now,
            Some(actor.dock.as_str()).filter(|d| !d.is_empty())
        ],
    )?;
    let parcel_id: i64 = parcel.get(0)?;
    for id in returns {
        tx.exec(
            "INSERT INTO parcel_returns (parcel_id, return_id, linked_at, linked_by) VALUES (?1, ?2, ?3, ?4)",
            args![parcel_id, id, now, actor.user],
        )?;
    }
    let action = if returns.is_empty() { "book_unidentified" } else { "open_parcel" };
    audit_by(tx, actor, action, Some(&format!("P{parcel_id}")), Some(scanned))?;
    chain::log_written(tx, by(actor, &now), &chain::PARCELS, &parcel, "opened", None)?;
    Ok(parcel_id)
}

/// The parcel open at this station, if any (after a restart, the work goes on there).
pub fn open_parcel_at(db: &dyn Sql, station: &str) -> DbResult<Option<i64>> {
    db.value(
        "SELECT id FROM parcels WHERE station = ?1 AND state = 'open' ORDER BY id DESC LIMIT 1",
        args![station],
    )
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
    /// A product in several boxes: (boxes of this unit arrived, boxes it comes in).
    pub boxes: Option<(i64, i64)>,
    /// What names each of its boxes scanned, in the order scanned: the box number of a label
    /// `…-2/3`, an SSCC, or `-` for a box its label does not name.
    pub box_marks: Vec<String>,
    /// Where its outcome sent it (see [`crate::domain::disposition`]); None without one.
    pub destination: Option<String>,
    /// How many photos are attached to it.
    pub photos: i64,
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
            boxes: self.boxes,
        }
    }

    /// A product in several boxes whose boxes have not all arrived.
    pub fn incomplete(&self) -> bool {
        self.received().incomplete()
    }
}

/// Everything the parcel screen shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ParcelView {
    pub id: i64,
    pub scan: String,
    pub state: ParcelState,
    pub unidentified: bool,
    pub station: String,
    pub operator: String,
    pub received_at: String,
    pub returns: Vec<ReturnSummary>,
    pub lines: Vec<ExpectedLine>,
    pub units: Vec<UnitRecord>,
    /// Serial numbers of its returns' units that came in their other boxes, with that box.
    pub earlier_serials: Vec<(String, i64)>,
    /// How many photos are attached to the parcel itself (not to one of its units).
    pub photos: i64,
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

    /// Where a unit of `sku` with `serial` goes among `placed` (the units before it): a serial
    /// that came in another box of these returns is that unit again, not a new one.
    pub fn place(&self, placed: &[ReceivedUnit], sku: Option<&str>, serial: Option<&str>) -> Placement {
        if let Some((_, parcel)) = serial.and_then(|s| self.earlier_serials.iter().find(|(x, _)| x == s)) {
            return Placement::SerialInEarlierBox { parcel: *parcel };
        }
        parcel::place_unit(&self.lines, placed, sku, serial, self.expects_nothing())
    }
}

/// A parcel as the station shows it, in one statement (see [`super::view`]).
pub fn load_parcel(db: &dyn Sql, parcel_id: i64) -> DbResult<ParcelView> {
    Ok(super::view::load(db, parcel_id)?.0)
}

/// [`load_parcel`] for a write to it, which is allowed while it is open at the writing
/// station (see [`check_open_here`]): the view, or why not, from the same statement.
fn load_open_here(db: &dyn Sql, parcel_id: i64, station: &str) -> DbResult<Result<ParcelView, Refusal>> {
    let (view, seen) = super::view::load(db, parcel_id)?;
    Ok(open_here(seen, station).map_or(Ok(view), Err))
}

/// A unit's box marks as stored: `1;-;3`, one per box scanned.
pub(crate) fn marks(stored: Option<&str>) -> Vec<String> {
    stored.map(|s| s.split(';').map(String::from).collect()).unwrap_or_default()
}

/// The mark of a box whose label does not name it.
const UNNAMED_BOX: &str = "-";

fn stored_marks(marks: &[String]) -> Option<String> {
    (!marks.is_empty()).then(|| marks.join(";"))
}

/// A product as the catalog knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub serialised: bool,
    /// Boxes one unit of it comes in (1 for most).
    pub boxes: i64,
}

/// A box label of a product in several boxes: `<barcode or SKU>-<k>/<n>` -> (code, k, n).
pub fn box_label(code: &str) -> Option<(&str, i64, i64)> {
    let (base, tail) = code.rsplit_once('-')?;
    let (k, n) = tail.split_once('/')?;
    let num = |x: &str| {
        (!x.is_empty() && x.len() <= 2 && x.bytes().all(|b| b.is_ascii_digit())).then(|| x.parse().ok())?
    };
    let (k, n): (i64, i64) = (num(k)?, num(n)?);
    (!base.is_empty() && (1..=n).contains(&k) && (2..=20).contains(&n)).then_some((base, k, n))
}

/// [`find_product`], or a product in several boxes by one of its box labels (`…-2/3`, when
/// the product comes in that many boxes): the product and which box.
pub fn find_product_box(db: &dyn Sql, code: &str) -> DbResult<Option<(Product, Option<i64>)>> {
    if let Some(p) = find_product(db, code)? {
        return Ok(Some((p, None)));
    }
    let Some((base, k, n)) = box_label(code) else { return Ok(None) };
    Ok(find_product(db, base)?.filter(|p| p.boxes == n).map(|p| (p, Some(k))))
}

/// The product behind a scanned code: a GTIN in any of its lengths (stored as 14 digits),
/// another barcode, or a SKU, in any letter case.
pub fn find_product(db: &dyn Sql, code: &str) -> DbResult<Option<Product>> {
    let gtin = crate::domain::gtin::Gtin::parse(code).ok().map(|g| g.as_str().to_string());
    let upper = code.to_ascii_uppercase();
    // By SKU, else by barcode: two index lookups (one condition with OR across both had
    // PostgreSQL read the whole catalog).
    db.row(
        "SELECT p.sku, p.name, p.serialised, p.boxes FROM products p WHERE p.sku = ?1 OR p.sku = ?2
         UNION ALL
         SELECT p.sku, p.name, p.serialised, p.boxes FROM product_barcodes b JOIN products p ON p.sku = b.sku
         WHERE b.code IN (?1, ?2, ?3)
         LIMIT 1",
        args![code, upper, gtin],
    )?
    .map(|r| Ok(Product { sku: r.get(0)?, name: r.get(1)?, serialised: r.get(2)?, boxes: r.get(3)? }))
    .transpose()
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
    /// Which box of a product in several boxes this is, when its label names it: the box
    /// number of `…-2/3`, or its SSCC.
    pub box_mark: Option<String>,
    /// How many boxes the product ships in, as the catalog said when the scan found it (the
    /// same moment, and a round trip fewer on a server); None: looked up with the unit's SKU.
    pub boxes: Option<i64>,
}

/// Records a unit taken out of the parcel, placed on its line (or flagged) under the write
/// lock, so the placement sees every unit recorded before it. Returns the unit's id, or why not.
pub fn record_unit(
    db: &dyn Sql,
    actor: &Actor,
    parcel_id: i64,
    unit: &NewUnit,
) -> DbResult<Result<(i64, Placement), Refusal>> {
    in_write(db, |tx| record_unit_in(tx, actor, parcel_id, unit))
}

/// [`record_unit`] inside the caller's write transaction.
pub fn record_unit_in(
    tx: &dyn Sql,
    actor: &Actor,
    parcel_id: i64,
    unit: &NewUnit,
) -> DbResult<Result<(i64, Placement), Refusal>> {
    let view = match load_open_here(tx, parcel_id, &actor.station)? {
        Ok(view) => view,
        Err(r) => return Ok(Err(r)),
    };
    // A product's barcode scanned at the serial prompt (the next unit, by habit) is no serial.
    if let Some(p) = unit.serial.as_deref().map(|s| find_product(tx, s)).transpose()?.flatten() {
        return Ok(Err(Refusal::SerialIsABarcode(p.sku)));
    }
    let seq = view.units.iter().map(|u| u.seq).max().unwrap_or(0) + 1;
    // A box of a product in several boxes: another box of a unit still missing it (here, or
    // in an earlier box of these returns), else the first box of a new unit.
    let of: i64 = match (&unit.sku, unit.boxes) {
        (Some(_), Some(boxes)) => boxes,
        (Some(sku), None) => tx.value("SELECT boxes FROM products WHERE sku = ?1", args![sku])?.unwrap_or(1),
        (None, _) => 1,
    };
    if of > 1 {
        if let Some(added) = add_box(tx, actor, &view, unit, of, seq)? {
            return Ok(Ok(added));
        }
    }
    let placement = view.place(&view.received_units(), unit.sku.as_deref(), unit.serial.as_deref());
    let Placement::Place { line, flag } = placement.clone() else {
        return Ok(Ok((0, placement)));
    };
    // A unit's id is on its label: never handed out twice, even after undo removed the unit
    // that had it (the history keeps that unit's steps under its id). One writer at a time
    // (SQLite) takes the next after both; on a central database, where stations write at once,
    // the sequence hands each its own. Its value is its line's.
    let next_id = match tx.engine() {
        Engine::Sqlite => {
            "(SELECT CASE WHEN a > b THEN a ELSE b END + 1 FROM (SELECT coalesce((SELECT max(id) FROM units), 0) AS a,
                coalesce((SELECT max(unit_id) FROM unit_steps), 0) AS b) m)"
        }
        Engine::Postgres => "nextval(pg_get_serial_sequence('units', 'id'))",
    };
    let written = the_row(
        tx,
        &format!(
            "INSERT INTO units (id, parcel_id, seq, return_id, line_no, scan, sku, gtin, serial, lot, expiry, discrepancy,
                unit_value_cents, station, operator, scanned_at, boxes_in, box_marks)
             VALUES ({next_id}, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,
                (SELECT l.unit_value_cents FROM return_lines l WHERE l.return_id = ?3 AND l.line_no = ?4),
                ?12, ?13, ?14, ?15, ?16)
             {}",
            units_returning()
        ),
        args![
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
            actor.station,
            actor.user,
            timestamp(actor.now),
            (of > 1).then_some(1),
            (of > 1).then(|| unit.box_mark.clone().unwrap_or_else(|| UNNAMED_BOX.to_string()))
        ],
    )?;
    let id: i64 = written.get(0)?;
    step(tx, actor, parcel_id, id, seq, "scan", None, None, None, Some(&written))?;
    Ok(Ok((id, placement)))
}

/// Adds a scanned box to a unit of a product in `of` boxes that is still missing it: one of
/// this parcel's, else one awaiting its boxes in an earlier box of the parcel's returns, which
/// moves here as unit `seq` (its parts are at this station now). None when no unit misses it.
fn add_box(
    tx: &dyn Sql,
    actor: &Actor,
    view: &ParcelView,
    unit: &NewUnit,
    of: i64,
    seq: i64,
) -> DbResult<Option<(i64, Placement)>> {
    // A box its label names goes to a unit that does not have it yet; a serial number, to the
    // unit of that serial.
    let lacks = |marks: &[String]| unit.box_mark.as_ref().is_none_or(|k| !marks.contains(k));
    let same_unit = |serial: Option<&str>| unit.serial.is_none() || serial == unit.serial.as_deref();
    let here = view
        .units
        .iter()
        .find(|u| {
            u.sku == unit.sku
                && u.outcome.is_none()
                && u.incomplete()
                && lacks(&u.box_marks)
                && same_unit(u.serial.as_deref())
        })
        .map(|u| (u.id, u.seq, u.boxes.map_or(1, |b| b.0), u.box_marks.clone(), false));
    let earlier = match here {
        Some(_) => None,
        None => tx
            .map(
                "SELECT u.id, u.boxes_in, u.box_marks, u.serial FROM units u JOIN parcels p ON p.id = u.parcel_id
                 WHERE u.return_id IN (SELECT return_id FROM parcel_returns WHERE parcel_id = ?1)
                   AND u.parcel_id <> ?1 AND p.state = 'signed' AND u.sku = ?2 AND u.outcome IS NULL
                   AND u.boxes_in < ?3
                 ORDER BY u.id",
                args![view.id, unit.sku, of],
                |r| {
                    Ok((
                        r.get::<i64>(0)?,
                        r.get::<i64>(1)?,
                        marks(r.get::<Option<String>>(2)?.as_deref()),
                        r.get::<Option<String>>(3)?,
                    ))
                },
            )?
            .into_iter()
            .find(|(_, _, m, serial)| lacks(m) && same_unit(serial.as_deref()))
            .map(|(id, have, m, _)| (id, seq, have, m, true)),
    };
    let Some((id, at_seq, have, mut marks, moves)) = here.or(earlier) else { return Ok(None) };
    confirm_record(tx, actor, &chain::UNITS, id)?;
    marks.push(unit.box_mark.clone().unwrap_or_else(|| UNNAMED_BOX.to_string()));
    let stored = stored_marks(&marks);
    let written = the_row(
        tx,
        &format!(
            "UPDATE units SET parcel_id = ?2, seq = ?3, boxes_in = ?4, box_marks = ?5 WHERE id = ?1 {}",
            units_returning()
        ),
        args![id, view.id, at_seq, have + 1, stored],
    )?;
    step(tx, actor, view.id, id, at_seq, "scan", None, None, None, Some(&written))?;
    if moves {
        audit_by(
            tx,
            actor,
            "unit_box_moved",
            Some(&chain::unit_subject(id)),
            Some(&format!("to P{}", view.id)),
        )?;
    }
    Ok(Some((id, Placement::BoxAdded { seq: at_seq, have: have + 1, of })))
}

/// An inspection result for one unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    pub outcome: Outcome,
    /// A for accept, B or C for second-hand; no other outcome has a grade.
    pub grade: Option<Grade>,
    pub reason: Option<Reason>,
    pub cause: Cause,
    pub note: Option<String>,
    /// Someone chose `cause` (Ctrl+K, or it is the unit's cause kept as it was); otherwise
    /// the store decides it when it writes, from the unit and its return as they stand then
    /// (a parcel linked meanwhile is known by then, a screen's copy may not be).
    pub cause_chosen: bool,
}

impl Inspection {
    /// The outcome with the grade it carries: accept is A, second-hand B or C as given (B
    /// when none is), every other outcome none.
    pub fn new(outcome: Outcome, grade: Option<Grade>, reason: Option<Reason>, cause: Cause) -> Inspection {
        Inspection {
            outcome,
            grade: grade_of(outcome, grade),
            reason,
            cause,
            note: None,
            cause_chosen: false,
        }
    }
}

/// The grade an outcome carries.
pub fn grade_of(outcome: Outcome, grade: Option<Grade>) -> Option<Grade> {
    match outcome {
        Outcome::Accept => Some(Grade::A),
        Outcome::SecondHand => Some(match grade {
            Some(Grade::C) => Grade::C,
            _ => Grade::B,
        }),
        _ => None,
    }
}

/// What an inspection did: a first outcome, or a correction of an earlier one (which the
/// history keeps).
#[derive(Debug, Clone, PartialEq)]
pub struct Inspected {
    /// The outcome (and grade) the unit had before, when this was a correction.
    pub correction: Option<(Outcome, Option<Grade>)>,
    /// What the unit's label now shows.
    pub facts: UnitFacts,
}

/// Records the inspection of unit `unit_id`. A unit that has an outcome already is corrected:
/// the new outcome is current, and the history keeps the first.
pub fn inspect_unit(
    db: &dyn Sql,
    actor: &Actor,
    unit_id: i64,
    i: &Inspection,
) -> DbResult<Result<Inspected, Refusal>> {
    in_write(db, |tx| inspect_unit_in(tx, actor, unit_id, i))
}

/// [`inspect_unit`] inside the caller's write transaction.
pub fn inspect_unit_in(
    tx: &dyn Sql,
    actor: &Actor,
    unit_id: i64,
    i: &Inspection,
) -> DbResult<Result<Inspected, Refusal>> {
    // The unit, its boxes, what decides its cause and its parcel, in one statement.
    let Some(r) = tx.row(
        "SELECT u.parcel_id, u.seq, u.outcome, u.grade, u.boxes_in, (SELECT p.boxes FROM products p WHERE p.sku = u.sku),
                u.discrepancy, coalesce((SELECT r.reason FROM returns r WHERE r.id = u.return_id),
                    (SELECT r.reason FROM parcel_returns pr JOIN returns r ON r.id = pr.return_id
                     WHERE pr.parcel_id = u.parcel_id ORDER BY pr.return_id LIMIT 1)),
                x.id, x.state, x.station, x.operator, x.received_at, x.closed_at, x.dock
         FROM units u JOIN parcels x ON x.id = u.parcel_id WHERE u.id = ?1",
        args![unit_id],
    )?
    else {
        return Ok(Err(Refusal::NoSuchUnit));
    };
    let (parcel_id, seq, before, before_grade): (i64, i64, Option<String>, Option<String>) =
        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
    if let Some(refused) = open_here(parcel_seen_at(&r, 8)?, &actor.station) {
        return Ok(Err(refused));
    }
    // Accepted means complete: a unit still missing boxes is refused, or second-hand.
    if i.outcome == Outcome::Accept {
        let boxes = r.get::<Option<i64>>(4)?.zip(r.get::<Option<i64>>(5)?);
        if let Some((have, of)) = boxes.filter(|(have, of)| have < of) {
            return Ok(Err(Refusal::NeedsEveryBox { seq, have, of }));
        }
    }
    let i = Inspection { grade: grade_of(i.outcome, i.grade), ..i.clone() };
    let cause = if i.cause_chosen { i.cause } else { default_cause(&i, r.get(6)?, r.get(7)?) };
    confirm_record(tx, actor, &chain::UNITS, unit_id)?;
    let to = super::disposition().template(i.outcome, i.grade);
    let written =
        write_cause(tx, unit_id, Some((&i, cause)), Some(to), Some(&timestamp(actor.now)), Some(actor))?;
    let correction = before
        .as_deref()
        .and_then(Outcome::from_code)
        .map(|o| (o, before_grade.as_deref().and_then(Grade::from_code)));
    let kind = if correction.is_some() { "correct" } else { "inspect" };
    step(tx, actor, parcel_id, unit_id, seq, kind, Some(&i), None, None, Some(&written))?;
    let facts = unit_facts(tx, unit_id)?.expect("the unit just written");
    Ok(Ok(Inspected { correction, facts }))
}

/// The cause an inspection gives unit `unit_id`: the one chosen, else the default from what the
/// inspection found and what the customer of the unit's return said, as they stand now.
fn settled_cause(tx: &dyn Sql, unit_id: i64, i: &Inspection) -> DbResult<Cause> {
    if i.cause_chosen {
        return Ok(i.cause);
    }
    let found: Option<(Option<String>, Option<String>)> = tx
        .row(
            "SELECT u.discrepancy, coalesce((SELECT r.reason FROM returns r WHERE r.id = u.return_id),
                (SELECT r.reason FROM parcel_returns pr JOIN returns r ON r.id = pr.return_id
                 WHERE pr.parcel_id = u.parcel_id ORDER BY pr.return_id LIMIT 1))
             FROM units u WHERE u.id = ?1",
            args![unit_id],
        )?
        .map(|r| Ok::<_, DbError>((r.get(0)?, r.get(1)?)))
        .transpose()?;
    let (flag, said) = found.unwrap_or_default();
    Ok(default_cause(i, flag, said))
}

/// The default cause of an inspection `i` of a unit flagged `flag`, whose return's customer
/// said `said`.
fn default_cause(i: &Inspection, flag: Option<String>, said: Option<String>) -> Cause {
    parcel::default_cause(said.as_deref(), flag.as_deref().and_then(UnitFlag::from_code), i.reason)
}

/// Sets a unit's outcome (or, with None, clears it), given at `at`; `by` also records who and
/// where, as a new inspection does (undo leaves the unit's last inspector as it was). The
/// unit's row as written ([`units_returning`]).
fn write_outcome(
    tx: &dyn Sql,
    unit_id: i64,
    i: Option<&Inspection>,
    at: Option<&str>,
    by: Option<&Actor>,
) -> DbResult<Row> {
    let with_cause = match i {
        Some(i) => Some((i, settled_cause(tx, unit_id, i)?)),
        None => None,
    };
    let to = i.map(|i| super::disposition().template(i.outcome, i.grade).to_string());
    write_cause(tx, unit_id, with_cause, to.as_deref(), at, by)
}

/// [`write_outcome`] with the inspection's cause settled already.
/// `to`: the destination's template (with `{supplier}` where it goes), None for none.
fn write_cause(
    tx: &dyn Sql,
    unit_id: i64,
    i: Option<(&Inspection, Cause)>,
    to: Option<&str>,
    at: Option<&str>,
    by: Option<&Actor>,
) -> DbResult<Row> {
    let (i, cause) = (i.map(|(i, _)| i), i.map(|(_, c)| c));
    the_row(
        tx,
        // A unit of a parcel that no return claims has no cause until it is linked: why it came
        // back is not known before whose return it is.
        &format!(
            "UPDATE units SET outcome = ?2, grade = ?3, reason = ?4, note = ?6, inspected_at = ?7,
                cause = CASE WHEN EXISTS (SELECT 1 FROM parcel_returns pr WHERE pr.parcel_id = units.parcel_id)
                             THEN ?5 END,
                operator = coalesce(?8, operator), station = coalesce(?9, station),
                destination = {} WHERE id = ?1 {}",
            destination_sql("?10"),
            units_returning()
        ),
        args![
            unit_id,
            i.map(|i| i.outcome.code()),
            i.and_then(|i| i.grade).map(Grade::code),
            i.and_then(|i| i.reason).map(Reason::code),
            cause.map(Cause::code),
            i.and_then(|i| i.note.as_deref()),
            at,
            by.map(|a| a.user.as_str()),
            by.map(|a| a.station.as_str()),
            to
        ],
    )
}

/// The SQL of a unit's destination from the template in parameter `template` (NULL: none):
/// `{supplier}` becomes the catalog's supplier of the unit's product, cut as
/// [`crate::domain::disposition::place`] cuts it. In an UPDATE of `units`.
pub(super) fn destination_sql(template: &str) -> String {
    use crate::domain::disposition::{LONGEST, NO_SUPPLIER, SUPPLIER};
    format!(
        "rtrim(substr(replace({template}, '{SUPPLIER}', coalesce(nullif(trim((SELECT p.supplier FROM products p
            WHERE p.sku = units.sku)), ''), '{NO_SUPPLIER}')), 1, {LONGEST}), ' ')"
    )
}

/// An outcome with its grade, as a step gave it.
type Given = Option<(Outcome, Option<Grade>)>;

/// What undo took back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undone {
    /// The outcome of unit `seq`; the unit is back to `restored` (None: no outcome).
    Inspection { seq: i64, sku: Option<String>, taken: Given, restored: Given },
    /// Unit `seq` itself.
    Unit { seq: i64, sku: Option<String> },
    /// The last box scanned of unit `seq`, a product in several boxes.
    Box { seq: i64, sku: Option<String> },
}

/// Takes back the last step of the parcel that is not taken back yet: a unit's outcome (the
/// unit returns to the outcome it had before, or none) or a unit's scan (the unit is removed).
/// The history keeps both the step and its undoing; the audit log says so too.
pub fn undo_last(db: &dyn Sql, actor: &Actor, parcel_id: i64) -> DbResult<Result<Undone, Refusal>> {
    in_write(db, |tx| undo_last_in(tx, actor, parcel_id))
}

/// [`undo_last`] inside the caller's write transaction.
pub fn undo_last_in(tx: &dyn Sql, actor: &Actor, parcel_id: i64) -> DbResult<Result<Undone, Refusal>> {
    if let Err(r) = check_open_here(tx, parcel_id, &actor.station)? {
        return Ok(Err(r));
    }
    let last: Option<(i64, i64, i64, String, Given)> = tx
        .row(
            "SELECT s.id, s.unit_id, s.seq, s.kind, s.outcome, s.grade FROM unit_steps s
             WHERE s.parcel_id = ?1 AND s.kind IN ('scan', 'inspect', 'correct')
               AND NOT EXISTS (SELECT 1 FROM unit_steps u WHERE u.undoes = s.id)
             ORDER BY s.id DESC LIMIT 1",
            args![parcel_id],
        )?
        .map(|r| {
            let outcome: Option<String> = r.get(4)?;
            let grade: Option<String> = r.get(5)?;
            let given = outcome
                .as_deref()
                .and_then(Outcome::from_code)
                .map(|o| (o, grade.as_deref().and_then(Grade::from_code)));
            Ok::<_, DbError>((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, given))
        })
        .transpose()?;
    let Some((step_id, unit_id, seq, kind, taken)) = last else {
        return Ok(Err(Refusal::NothingToUndo));
    };
    confirm_record(tx, actor, &chain::UNITS, unit_id)?;
    let sku: Option<String> =
        tx.value::<Option<String>>("SELECT sku FROM units WHERE id = ?1", args![unit_id])?.flatten();
    let boxes_in: Option<i64> =
        tx.value::<Option<i64>>("SELECT boxes_in FROM units WHERE id = ?1", args![unit_id])?.flatten();
    let undone = if kind == "scan" && boxes_in.is_some_and(|b| b > 1) {
        // A box of a unit in several: the unit keeps its other boxes (and goes back to the
        // parcel they came in, when this box was the only one scanned here).
        undo_box(tx, actor, parcel_id, unit_id, seq, step_id)?;
        Undone::Box { seq, sku }
    } else if kind == "scan" {
        super::photos::unit_goes(tx, actor, unit_id)?;
        tx.exec("DELETE FROM units WHERE id = ?1", args![unit_id])?;
        step(tx, actor, parcel_id, unit_id, seq, "undo", None, Some(step_id), None, None)?;
        Undone::Unit { seq, sku }
    } else {
        // The outcome the unit had before this step, if one is still in force.
        let before: Option<(Inspection, String, Option<String>)> = tx
            .row(
                "SELECT s.outcome, s.grade, s.reason, s.cause, s.note, s.at, s.destination FROM unit_steps s
                 WHERE s.unit_id = ?1 AND s.id < ?2 AND s.kind IN ('inspect', 'correct', 'overturn')
                   AND NOT EXISTS (SELECT 1 FROM unit_steps u WHERE u.undoes = s.id)
                 ORDER BY s.id DESC LIMIT 1",
                args![unit_id, step_id],
            )?
            .map(|r| {
                let text = |i: usize| r.get::<Option<String>>(i);
                Ok::<_, DbError>((
                    Inspection {
                        outcome: text(0)?.as_deref().and_then(Outcome::from_code).unwrap_or(Outcome::Accept),
                        grade: text(1)?.as_deref().and_then(Grade::from_code),
                        reason: text(2)?.as_deref().and_then(Reason::from_code),
                        cause: text(3)?.as_deref().and_then(Cause::from_code).unwrap_or(Cause::ChangedMind),
                        note: text(4)?,
                        // A step without a cause was taken before the parcel was linked: the
                        // cause is decided again now.
                        cause_chosen: text(3)?.is_some(),
                    },
                    r.get(5)?,
                    text(6)?,
                ))
            })
            .transpose()?;
        // The unit goes back where that outcome sent it, as it was recorded (none for an
        // outcome from before destinations), whatever the table says today.
        let with_cause = match &before {
            Some((i, _, _)) => Some((i, settled_cause(tx, unit_id, i)?)),
            None => None,
        };
        let written = write_cause(
            tx,
            unit_id,
            with_cause,
            before.as_ref().and_then(|(_, _, to)| to.as_deref()),
            before.as_ref().map(|(_, at, _)| at.as_str()),
            None,
        )?;
        let restored = before.as_ref().map(|(i, _, _)| i);
        step(tx, actor, parcel_id, unit_id, seq, "undo", restored, Some(step_id), None, Some(&written))?;
        Undone::Inspection { seq, sku, taken, restored: restored.map(|i| (i.outcome, i.grade)) }
    };
    audit_by(tx, actor, "undo", Some(&format!("P{parcel_id}")), Some(&format!("{undone:?}")))?;
    Ok(Ok(undone))
}

/// When the returns of `view` close with it: their units still missing boxes in earlier boxes
/// are refused for missing parts. True when there were any.
fn settle_earlier_boxes(tx: &dyn Sql, now: DateTime<FixedOffset>, view: &ParcelView) -> DbResult<bool> {
    let mut any = false;
    for r in &view.returns {
        any |= refuse_incomplete(tx, now, r.id)? > 0;
    }
    Ok(any)
}

/// When return `return_id` closes without them: each of its units in a signed box still
/// missing boxes, with no outcome, is refused for missing parts (by the policy, as the log
/// says), for review. How many.
pub fn refuse_incomplete(tx: &dyn Sql, now: DateTime<FixedOffset>, return_id: i64) -> DbResult<usize> {
    let units: Vec<(i64, i64, i64)> = tx.map(
        "SELECT u.id, u.parcel_id, u.seq FROM units u JOIN products p ON p.sku = u.sku
         JOIN parcels x ON x.id = u.parcel_id
         WHERE u.return_id = ?1 AND x.state = 'signed' AND u.outcome IS NULL AND u.boxes_in < p.boxes",
        args![return_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let actor = Actor { station: String::new(), dock: String::new(), user: "policy".into(), now };
    let at = timestamp(now);
    let n = units.len();
    for (id, parcel, seq) in units {
        let reason = Reason::MissingParts;
        let i = Inspection::new(
            Outcome::Refuse,
            None,
            Some(reason),
            parcel::default_cause(None, None, Some(reason)),
        );
        confirm_record(tx, &actor, &chain::UNITS, id)?;
        let written = write_outcome(tx, id, Some(&i), Some(&at), None)?;
        step(tx, &actor, parcel, id, seq, "inspect", Some(&i), None, None, Some(&written))?;
        write_logged(
            tx,
            &actor,
            &chain::REVIEWS,
            "INSERT INTO reviews (parcel_id, unit_id, kind, mandatory, created_at) VALUES (?1, ?2, 'refused_unit', 0, ?3)",
            args![parcel, id, at],
            "opened",
        )?;
    }
    Ok(n)
}

/// Takes back the scan `step_id` of one box of unit `unit_id` (scanned here as `seq`).
fn undo_box(
    tx: &dyn Sql,
    actor: &Actor,
    parcel_id: i64,
    unit_id: i64,
    seq: i64,
    step_id: i64,
) -> DbResult<()> {
    let r = the_row(tx, "SELECT boxes_in, box_marks FROM units WHERE id = ?1", args![unit_id])?;
    let (have, stored): (i64, Option<String>) = (r.get(0)?, r.get(1)?);
    // One mark per box scanned, in order: the last scanned goes.
    let mut m = marks(stored.as_deref());
    m.pop();
    let stored = stored_marks(&m);
    // Where its other boxes were scanned, if none of them here.
    let home: Option<(i64, i64)> = tx
        .row(
            "SELECT s.parcel_id, s.seq FROM unit_steps s
             WHERE s.unit_id = ?1 AND s.id <> ?2 AND s.kind = 'scan'
               AND NOT EXISTS (SELECT 1 FROM unit_steps u WHERE u.undoes = s.id)
             ORDER BY s.id DESC LIMIT 1",
            args![unit_id, step_id],
        )?
        .map(|r| Ok::<_, DbError>((r.get(0)?, r.get(1)?)))
        .transpose()?
        .filter(|(p, _)| *p != parcel_id);
    let (to_parcel, to_seq) = home.unwrap_or((parcel_id, seq));
    let written = the_row(
        tx,
        &format!(
            "UPDATE units SET boxes_in = ?2, box_marks = ?3, parcel_id = ?4, seq = ?5 WHERE id = ?1 {}",
            units_returning()
        ),
        args![unit_id, have - 1, stored, to_parcel, to_seq],
    )?;
    step(tx, actor, parcel_id, unit_id, seq, "undo", None, Some(step_id), None, Some(&written))?;
    Ok(())
}

/// When a refusal must be reviewed: a unit worth more than `refusal_above_cents`, or more
/// than `refusals_per_parcel` refused units in one parcel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub refusal_above_cents: i64,
    pub refusals_per_parcel: usize,
    /// A return awaiting more boxes closes after this many days without one.
    pub await_boxes_days: u32,
    /// What needs a photo before the parcel is signed or refused (`[photos] required_for`).
    pub photos: PhotosRequired,
}

/// The outcomes whose units need a photo before their parcel is signed, and whether a parcel
/// refused at the dock needs one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PhotosRequired {
    pub outcomes: [bool; 5],
    pub refuse_parcel: bool,
}

impl PhotosRequired {
    /// The words `required_for` takes: the outcomes' codes and `refuse_parcel`.
    pub const WORDS: [&'static str; 6] =
        ["accept", "second_hand", "scrap", "return_to_supplier", "refuse", "refuse_parcel"];

    fn index(o: Outcome) -> usize {
        match o {
            Outcome::Accept => 0,
            Outcome::SecondHand => 1,
            Outcome::Scrap => 2,
            Outcome::ReturnToSupplier => 3,
            Outcome::Refuse => 4,
        }
    }

    /// From `required_for`'s words; the first word it does not know, if any.
    pub fn from_words<'a>(words: impl IntoIterator<Item = &'a str>) -> Result<PhotosRequired, String> {
        let mut r = PhotosRequired::default();
        for w in words {
            match w {
                "refuse_parcel" => r.refuse_parcel = true,
                _ => match Outcome::from_code(w) {
                    Some(o) => r.outcomes[Self::index(o)] = true,
                    None => return Err(w.to_string()),
                },
            }
        }
        Ok(r)
    }

    pub fn needs(&self, o: Outcome) -> bool {
        self.outcomes[Self::index(o)]
    }

    /// The units of `view` that need a photo and have none (their numbers in the parcel).
    pub fn lacking(&self, view: &ParcelView) -> Vec<i64> {
        view.units
            .iter()
            .filter(|u| u.photos == 0 && u.outcome.is_some_and(|o| self.needs(o)))
            .map(|u| u.seq)
            .collect()
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            refusal_above_cents: 50_000,
            refusals_per_parcel: 2,
            await_boxes_days: 7,
            photos: PhotosRequired::default(),
        }
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
    db: &dyn Sql,
    actor: &Actor,
    parcel_id: i64,
    confirmed: bool,
) -> DbResult<Result<Vec<Discrepancy>, Refusal>> {
    sign_parcel_with(db, actor, parcel_id, confirmed, &Policy::default())
}

/// [`sign_parcel`] under the station's review policy.
pub fn sign_parcel_with(
    db: &dyn Sql,
    actor: &Actor,
    parcel_id: i64,
    confirmed: bool,
    policy: &Policy,
) -> DbResult<Result<Vec<Discrepancy>, Refusal>> {
    in_write(db, |tx| {
        let signed = sign_parcel_in(tx, actor, parcel_id, confirmed, None, policy, Rest::Missing)?;
        Ok(signed.map(|s| s.found))
    })
}

/// What signing a box did.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedBox {
    /// The discrepancies acknowledged and stored (units still awaited are not among them).
    pub found: Vec<Discrepancy>,
    /// What the box did to each of its returns.
    pub settled: Vec<Settled>,
}

/// [`sign_parcel_with`] inside the caller's write transaction.
/// `shown`: the discrepancies the operator saw before signing; the parcel is signed only if
/// they are still the ones that stand, so nobody acknowledges what they were not shown.
/// `rest`: what the units not in the box are, when some are not: missing (the last box) or
/// awaited in boxes still to come.
pub fn sign_parcel_in(
    tx: &dyn Sql,
    actor: &Actor,
    parcel_id: i64,
    confirmed: bool,
    shown: Option<&[Discrepancy]>,
    policy: &Policy,
    rest: Rest,
) -> DbResult<Result<SignedBox, Refusal>> {
    let view = match load_open_here(tx, parcel_id, &actor.station)? {
        Ok(view) => view,
        Err(r) => return Ok(Err(r)),
    };
    let found = view.discrepancies();
    if shown.is_some_and(|s| s != found.as_slice()) {
        return Ok(Err(Refusal::Changed(found)));
    }
    match parcel::signable(&found) {
        Signable::Blocked => {
            let n = found.iter().filter(|d| matches!(d, Discrepancy::Uninspected { .. })).count();
            return Ok(Err(Refusal::Uninspected(n)));
        }
        Signable::NeedsConfirmation if !confirmed => return Ok(Err(Refusal::NotConfirmed)),
        _ => {}
    }
    let lacking = policy.photos.lacking(&view);
    if !lacking.is_empty() {
        return Ok(Err(Refusal::PhotoNeeded(lacking)));
    }
    // The last box: a unit still missing boxes needs its outcome first.
    let incomplete = found.iter().filter(|d| matches!(d, Discrepancy::Incomplete { .. })).count();
    if rest == Rest::Missing && incomplete > 0 {
        return Ok(Err(Refusal::UnitsIncomplete(incomplete)));
    }
    // Its returns close with it: a unit of theirs still missing boxes in an earlier box will
    // not get them, and is refused for missing parts; what stands is then worked out again.
    let (view, found) = if rest == Rest::Missing && settle_earlier_boxes(tx, actor.now, &view)? {
        let view = load_parcel(tx, parcel_id)?;
        let found = view.discrepancies();
        (view, found)
    } else {
        (view, found)
    };
    let now = timestamp(actor.now);
    // Units awaited in boxes still to come are not discrepancies of this one.
    let standing = found.clone();
    let found: Vec<Discrepancy> = match rest {
        Rest::Missing => found,
        Rest::Awaited => found.into_iter().filter(|d| !d.awaited()).collect(),
    };
    let awaited = standing.len() - found.len();
    let detail = match awaited {
        0 => format!("{} discrepancies", found.len()),
        _ => format!("{} discrepancies; {awaited} lines awaited in boxes to come", found.len()),
    };
    let audit_id = audit_by(tx, actor, "sign", Some(&format!("P{parcel_id}")), Some(&detail))?;
    confirm_record(tx, actor, &chain::PARCELS, parcel_id)?;
    store_discrepancies(tx, &view, &found, Some(&actor.user), &now)?;
    write_logged(
        tx,
        actor,
        &chain::PARCELS,
        "UPDATE parcels SET state = 'signed', closed_at = ?2, closed_by = ?3, closed_audit_id = ?4, has_discrepancy = ?5
         WHERE id = ?1",
        args![parcel_id, now, actor.user, audit_id, !found.is_empty()],
        "signed",
    )?;
    let refused_before = rest == Rest::Missing;
    let settled =
        super::boxes::record_box(tx, by(actor, &now), parcel_id, &standing, rest, audit_id, refused_before)?;
    for u in view.units.iter().filter(|u| u.outcome == Some(Outcome::Refuse)) {
        write_logged(
            tx,
            actor,
            &chain::REVIEWS,
            "INSERT INTO reviews (parcel_id, unit_id, kind, mandatory, created_at) VALUES (?1, ?2, 'refused_unit', ?3, ?4)",
            args![parcel_id, u.id, policy.mandatory(&view, u).is_some(), now],
            "opened",
        )?;
    }
    // Unidentified while it expects nothing; a parcel an import linked meanwhile is reviewed
    // for its discrepancies like any other.
    let kind = if view.expects_nothing() {
        Some("unidentified")
    } else if !found.is_empty() {
        Some("discrepancy")
    } else {
        None
    };
    if let Some(kind) = kind {
        write_logged(
            tx,
            actor,
            &chain::REVIEWS,
            "INSERT INTO reviews (parcel_id, kind, created_at) VALUES (?1, ?2, ?3)",
            args![parcel_id, kind, now],
            "opened",
        )?;
    }
    Ok(Ok(SignedBox { found, settled }))
}

fn store_discrepancies(
    tx: &dyn Sql,
    view: &ParcelView,
    found: &[Discrepancy],
    by: Option<&str>,
    now: &str,
) -> DbResult<()> {
    // One statement for all of them: a row of values each.
    let mut cells: Vec<super::sql::Cell> = Vec::with_capacity(found.len() * 8);
    let mut rows: Vec<String> = Vec::with_capacity(found.len());
    for d in found {
        let (kind, line, unit, qty) = match d {
            Discrepancy::Missing { line, qty } => ("missing", Some(*line), None, *qty),
            Discrepancy::Unit { seq, flag } => {
                let u = view.units.iter().find(|u| u.seq == *seq);
                (flag.code(), u.and_then(|u| u.line), u.map(|u| u.id), 1)
            }
            Discrepancy::Uninspected { seq } | Discrepancy::Incomplete { seq, .. } => {
                ("uninspected", None, view.units.iter().find(|u| u.seq == *seq).map(|u| u.id), 1)
            }
        };
        let n = cells.len();
        rows.push(format!(
            "(?{}, ?{}, ?{}, ?{}, ?{}, ?{}, ?{}, ?{})",
            n + 1,
            n + 2,
            n + 3,
            n + 4,
            n + 5,
            n + 6,
            n + 7,
            n + 8
        ));
        let values: &[&dyn super::sql::Arg] =
            args![view.id, kind, line.map(|l| l.0), line.map(|l| l.1), unit, qty, by, now];
        cells.extend(values.iter().map(|v| v.cell()));
    }
    if rows.is_empty() {
        return Ok(());
    }
    let values: Vec<&dyn super::sql::Arg> = cells.iter().map(|c| c as &dyn super::sql::Arg).collect();
    tx.exec(
        &format!(
            "INSERT INTO discrepancies (parcel_id, kind, return_id, line_no, unit_id, qty, acknowledged_by, acknowledged_at)
             VALUES {}",
            rows.join(", ")
        ),
        &values,
    )?;
    Ok(())
}

/// Refuses the whole parcel at the dock, with a reason; it goes to the supervisor's queue.
pub fn refuse_parcel(
    db: &dyn Sql,
    actor: &Actor,
    parcel_id: i64,
    reason: Reason,
    note: Option<&str>,
) -> DbResult<Result<(), Refusal>> {
    in_write(db, |tx| refuse_parcel_in(tx, actor, parcel_id, reason, note, &Policy::default()))
}

/// [`refuse_parcel`] inside the caller's write transaction.
pub fn refuse_parcel_in(
    tx: &dyn Sql,
    actor: &Actor,
    parcel_id: i64,
    reason: Reason,
    note: Option<&str>,
    policy: &Policy,
) -> DbResult<Result<(), Refusal>> {
    if let Err(r) = check_open_here(tx, parcel_id, &actor.station)? {
        return Ok(Err(r));
    }
    if policy.photos.refuse_parcel {
        let photos: i64 = tx.one("SELECT count(*) FROM photos WHERE parcel_id = ?1", args![parcel_id])?;
        if photos == 0 {
            return Ok(Err(Refusal::PhotoNeeded(vec![])));
        }
    }
    let now = timestamp(actor.now);
    // A unit whose other boxes came in an earlier box goes home there without the boxes
    // scanned here: what is refused is this box.
    // Its steps here are taken back, newest first: an outcome given here (it had none when it
    // moved), then the boxes scanned here.
    let moved_in: Vec<(i64, i64, i64, String)> = tx.map(
        "SELECT s.id, s.unit_id, s.seq, s.kind FROM unit_steps s JOIN units u ON u.id = s.unit_id
         WHERE s.parcel_id = ?1 AND u.parcel_id = ?1 AND s.kind IN ('scan', 'inspect', 'correct')
           AND NOT EXISTS (SELECT 1 FROM unit_steps x WHERE x.undoes = s.id)
           AND EXISTS (SELECT 1 FROM unit_steps o WHERE o.unit_id = s.unit_id AND o.parcel_id <> ?1
                       AND o.kind = 'scan' AND NOT EXISTS (SELECT 1 FROM unit_steps x WHERE x.undoes = o.id))
         ORDER BY s.id DESC",
        args![parcel_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    for (step_id, unit_id, seq, kind) in moved_in {
        confirm_record(tx, actor, &chain::UNITS, unit_id)?;
        if kind == "scan" {
            undo_box(tx, actor, parcel_id, unit_id, seq, step_id)?;
        } else {
            let written = write_outcome(tx, unit_id, None, None, None)?;
            step(tx, actor, parcel_id, unit_id, seq, "undo", None, Some(step_id), None, Some(&written))?;
        }
    }
    confirm_record(tx, actor, &chain::PARCELS, parcel_id)?;
    let audit_id = audit_by(tx, actor, "refuse_parcel", Some(&format!("P{parcel_id}")), Some(reason.code()))?;
    write_logged(
        tx,
        actor,
        &chain::PARCELS,
        "UPDATE parcels SET state = 'refused', closed_at = ?2, closed_by = ?3, closed_audit_id = ?4, refuse_reason = ?5, note = ?6
         WHERE id = ?1",
        args![parcel_id, now, actor.user, audit_id, reason.code(), note],
        "refused",
    )?;
    super::boxes::record_box(tx, by(actor, &now), parcel_id, &[], Rest::Missing, audit_id, false)?;
    write_logged(
        tx,
        actor,
        &chain::REVIEWS,
        "INSERT INTO reviews (parcel_id, kind, created_at) VALUES (?1, 'refused_parcel', ?2)",
        args![parcel_id, now],
        "opened",
    )?;
    Ok(Ok(()))
}

/// Links parcels booked in as unidentified to the expected returns that now carry their
/// tracking number (run by an import, after its returns are written). Each parcel's units are
/// placed on the lines exactly as if they had been scanned in a parcel of those returns, and
/// the parcel's "unidentified" review is decided by the link. Returns the parcels linked.
pub fn link_unidentified(db: &dyn Sql, now: DateTime<FixedOffset>) -> DbResult<Vec<i64>> {
    let waiting: Vec<(i64, String, String)> = db.map(
        "SELECT p.id, p.tracking_key, p.scan FROM parcels p
         WHERE p.unidentified = 1 AND p.tracking_key IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM parcel_returns pr WHERE pr.parcel_id = p.id)",
        args![],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let at = timestamp(now);
    let mut linked = Vec::new();
    for (parcel_id, key, scan) in waiting {
        // The number as scanned, else without a courier's package suffix (`…-1-2-`), as a
        // station's scan would have found it.
        let mut returns: Vec<(i64, String)> = Vec::new();
        for key in std::iter::once(key.clone()).chain(without_package_suffix(&scan).map(tracking_key)) {
            returns = db
                .map(
                    "SELECT id, rma_no FROM returns r WHERE (r.tracking_no = ?1 OR r.tracking_key = ?1)",
                    args![key],
                    |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
                )?
                .into_iter()
                .map(|r| Ok(matches!(stand(db, r.0, None)?, Stand::Takes).then_some(r)))
                .filter_map(Result::transpose)
                .collect::<DbResult<_>>()?;
            if !returns.is_empty() {
                break;
            }
        }
        if returns.is_empty() {
            continue;
        }
        for (rid, _) in &returns {
            db.exec(
                "INSERT INTO parcel_returns (parcel_id, return_id, linked_at, linked_by) VALUES (?1, ?2, ?3, 'import')",
                args![parcel_id, rid, at],
            )?;
        }
        let rmas: Vec<&str> = returns.iter().map(|(_, n)| n.as_str()).collect();
        let audit_id = audit(
            db,
            now,
            None,
            Some("import"),
            "link_unidentified",
            Some(&format!("P{parcel_id}")),
            Some(&key),
        )?;
        place_again(db, parcel_id, None, &at, audit_id)?;
        let reviews: Vec<i64> = db.map(
            "SELECT id FROM reviews WHERE parcel_id = ?1 AND kind = 'unidentified' AND decision IS NULL",
            args![parcel_id],
            |r| r.get(0),
        )?;
        let by = chain::By { at: &at, station: None, actor: Some("import") };
        for id in &reviews {
            chain::confirm(db, by, &chain::REVIEWS, *id)?;
        }
        db.exec(
            "UPDATE reviews SET decision = 'confirmed', decided_at = ?2, decided_audit_id = ?3, comment = ?4
             WHERE parcel_id = ?1 AND kind = 'unidentified' AND decision IS NULL",
            args![parcel_id, at, audit_id, format!("linked to {} by an import", rmas.join(" + "))],
        )?;
        for id in reviews {
            chain::log_state(db, by, &chain::REVIEWS, id, "decided by the link", None)?;
        }
        linked.push(parcel_id);
    }
    Ok(linked)
}

/// Places a parcel's units again on the lines its returns now expect, in the order they were
/// scanned, exactly as if they had been scanned in a parcel of those returns: line, value and
/// flag. A parcel already signed has its discrepancies worked out again (acknowledged `by`
/// whoever linked it) and, if there are any, a review of them, as signing would have made; it
/// is a box of its returns now, and what is not in it is awaited in boxes to come (`audit_id`:
/// the entry that linked it).
pub fn place_again(db: &dyn Sql, parcel_id: i64, by: Option<&str>, at: &str, audit_id: i64) -> DbResult<()> {
    let view = load_parcel(db, parcel_id)?;
    let mut placed: Vec<ReceivedUnit> = Vec::new();
    for u in &view.units {
        let p = view.place(&placed, u.sku.as_deref(), u.serial.as_deref());
        let (line, flag) = match p {
            Placement::Place { line, flag } => (line, flag),
            Placement::SerialAlreadyScanned { .. }
            | Placement::SerialInEarlierBox { .. }
            | Placement::BoxAdded { .. } => (None, Some(UnitFlag::Unexpected)),
        };
        let value: Option<i64> = match line {
            Some((rid, no)) => db.one(
                "SELECT unit_value_cents FROM return_lines WHERE return_id = ?1 AND line_no = ?2",
                args![rid, no],
            )?,
            None => None,
        };
        // A unit inspected before its parcel was claimed gets its cause now, from what the
        // inspection found and what the customer of its return said.
        let said = line.and_then(|l| view.returns.iter().find(|r| r.id == l.0)).or(view.returns.first());
        let cause = u
            .outcome
            .map(|_| parcel::default_cause(said.and_then(|r| r.reason.as_deref()), flag, u.reason).code());
        let log = chain::By { at, station: None, actor: by };
        chain::confirm(db, log, &chain::UNITS, u.id)?;
        db.exec(
            "UPDATE units SET return_id = ?2, line_no = ?3, discrepancy = ?4, unit_value_cents = ?5,
                cause = coalesce(cause, ?6) WHERE id = ?1",
            args![u.id, line.map(|l| l.0), line.map(|l| l.1), flag.map(UnitFlag::code), value, cause],
        )?;
        chain::log_state(db, log, &chain::UNITS, u.id, "placed again", None)?;
        placed.push(ReceivedUnit { line, flag, ..u.received() });
    }
    if view.state != ParcelState::Signed {
        return Ok(());
    }
    let view = load_parcel(db, parcel_id)?;
    let standing = view.discrepancies();
    let found: Vec<Discrepancy> = standing.iter().filter(|d| !d.awaited()).cloned().collect();
    // The discrepancies stored at signing were those of a parcel that expected nothing; what
    // stands now replaces them (the audit log keeps the link that changed them).
    db.exec("DELETE FROM discrepancies WHERE parcel_id = ?1", args![parcel_id])?;
    store_discrepancies(db, &view, &found, by, at)?;
    let log = chain::By { at, station: None, actor: by };
    super::boxes::record_box(db, log, parcel_id, &standing, Rest::Awaited, audit_id, false)?;
    chain::confirm(db, log, &chain::PARCELS, parcel_id)?;
    db.exec("UPDATE parcels SET has_discrepancy = ?2 WHERE id = ?1", args![parcel_id, !found.is_empty()])?;
    chain::log_state(db, log, &chain::PARCELS, parcel_id, "placed again", None)?;
    let open: bool = db.one(
        "SELECT EXISTS (SELECT 1 FROM reviews WHERE parcel_id = ?1 AND kind = 'discrepancy' AND decision IS NULL)",
        args![parcel_id],
    )?;
    if !found.is_empty() && !open {
        let review: i64 = db.one(
            "INSERT INTO reviews (parcel_id, kind, created_at) VALUES (?1, 'discrepancy', ?2) RETURNING id",
            args![parcel_id, at],
        )?;
        chain::log_state(db, log, &chain::REVIEWS, review, "opened", None)?;
    }
    Ok(())
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
    /// The product's name in the catalog, else the title of the line it matched.
    pub title: Option<String>,
    /// The catalog's supplier of the product.
    pub supplier: Option<String>,
    /// Where its outcome sent it.
    pub destination: Option<String>,
}

pub fn unit_facts(db: &dyn Sql, unit_id: i64) -> DbResult<Option<UnitFacts>> {
    db.row(
        "SELECT u.outcome, u.grade, u.sku, r.rma_no, coalesce(u.inspected_at, u.scanned_at),
                coalesce(p.name, l.title), p.supplier, u.destination
         FROM units u
         LEFT JOIN returns r ON r.id = u.return_id
         LEFT JOIN return_lines l ON l.return_id = u.return_id AND l.line_no = u.line_no
         LEFT JOIN products p ON p.sku = u.sku
         WHERE u.id = ?1",
        args![unit_id],
    )?
    .map(|r| {
        let outcome: Option<String> = r.get(0)?;
        Ok(UnitFacts {
            outcome: outcome.as_deref().and_then(Outcome::from_code),
            grade: r.get(1)?,
            sku: r.get(2)?,
            rma: r.get(3)?,
            at: r.get(4)?,
            title: r.get(5)?,
            supplier: r.get(6)?,
            destination: r.get(7)?,
        })
    })
    .transpose()
}

/// The dock screen's counts in one statement (?1 station, ?2 the start of its shift): the
/// shift's parcels closed, units given an outcome and units refused, each a range of an index
/// (migration 3); what waits for review, from the index of open reviews; unidentified parcels
/// not linked yet, from the index of unidentified parcels (`{unidentified}`, as each engine
/// names it); whether this is the demo's database; whether anyone was imported. The shift's
/// start is a value given, not a subquery: PostgreSQL's planner sizes each range by it (a
/// range from an unknown start it takes for a third of the table, and scans all of it).
const DOCK_FIGURES: &str = "SELECT (SELECT count(*) FROM parcels WHERE station = ?1 AND closed_at >= ?2),
            (SELECT count(*) FROM units WHERE station = ?1 AND inspected_at >= ?2),
            (SELECT count(*) FROM units WHERE station = ?1 AND inspected_at >= ?2 AND outcome = 'refuse'),
            (SELECT count(*) FROM reviews WHERE decision IS NULL),
            (SELECT count(*) FROM {unidentified}
             WHERE unidentified = 1 AND NOT EXISTS (SELECT 1 FROM parcel_returns pr WHERE pr.parcel_id = p.id)),
            EXISTS (SELECT 1 FROM meta WHERE key = 'demo' AND value = '1'),
            EXISTS (SELECT 1 FROM users)";

/// [`DOCK_FIGURES`] as each engine reads it: SQLite told which index counts the unidentified
/// parcels, PostgreSQL's planner picking the partial index by the same condition.
pub fn dock_figures(engine: Engine) -> &'static str {
    static SQL: [std::sync::OnceLock<String>; 2] = [std::sync::OnceLock::new(), std::sync::OnceLock::new()];
    let (i, parcels) = match engine {
        Engine::Sqlite => (0, "parcels p INDEXED BY parcels_unidentified"),
        Engine::Postgres => (1, "parcels p"),
    };
    SQL[i].get_or_init(|| DOCK_FIGURES.replace("{unidentified}", parcels))
}

/// When the station's shift started (?1 station; null when none is open), with the station's
/// last five parcels, newest first: a row each, or one row of nulls beside the start.
pub const DOCK_LAST: &str = "SELECT s.since, l.* FROM
     (SELECT (SELECT started_at FROM shifts WHERE station = ?1 AND ended_at IS NULL ORDER BY id DESC LIMIT 1) AS since) s
     LEFT JOIN (SELECT p.id, coalesce((SELECT group_concat(r.rma_no, ' + ') FROM parcel_returns pr
                    JOIN returns r ON r.id = pr.return_id WHERE pr.parcel_id = p.id), p.scan) AS what,
                    p.state, coalesce(p.closed_at, p.received_at) AS at,
                    (SELECT count(*) FROM discrepancies d WHERE d.parcel_id = p.id) AS discrepancies
                FROM parcels p WHERE p.station = ?1 ORDER BY p.id DESC LIMIT 5) l ON 1 = 1
     ORDER BY l.id DESC";
/// [`DOCK_LAST`] as PostgreSQL reads it: `string_agg` for `group_concat`, in the order SQLite
/// reads a parcel's links (by return id, its primary key's order).
const DOCK_LAST_PG: &str = "SELECT s.since, l.* FROM
     (SELECT (SELECT started_at FROM shifts WHERE station = ?1 AND ended_at IS NULL ORDER BY id DESC LIMIT 1) AS since) s
     LEFT JOIN (SELECT p.id, coalesce((SELECT string_agg(r.rma_no, ' + ' ORDER BY pr.return_id) FROM parcel_returns pr
                    JOIN returns r ON r.id = pr.return_id WHERE pr.parcel_id = p.id), p.scan) AS what,
                    p.state, coalesce(p.closed_at, p.received_at) AS at,
                    (SELECT count(*) FROM discrepancies d WHERE d.parcel_id = p.id) AS discrepancies
                FROM parcels p WHERE p.station = ?1 ORDER BY p.id DESC LIMIT 5) l ON 1 = 1
     ORDER BY l.id DESC";

/// One of the station's latest parcels, as the dock lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct LastParcel {
    pub id: i64,
    /// What identifies it: its RMA numbers, else what was scanned.
    pub what: String,
    pub state: ParcelState,
    /// When it was closed, else received.
    pub at: String,
    /// Discrepancies it was signed with.
    pub discrepancies: i64,
}

/// The dock screen's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DockInfo {
    pub parcels: i64,
    pub units: i64,
    pub refused: i64,
    pub review: i64,
    pub unidentified: i64,
    /// The latest parcels of this station.
    pub last: Vec<LastParcel>,
    /// On the demo database only: a few returns no box has come for yet, each with what to
    /// scan (its RMA, then its units' barcodes), so a newcomer has something to try.
    pub demo_waiting: Vec<DemoReturn>,
    /// Nobody has been imported yet: a badge cannot be known, and the station says how to
    /// get users.
    pub no_users: bool,
}

/// A return of the demo to try: its RMA, and each line's barcode, quantity and whether the
/// product asks for a serial number.
pub type DemoReturn = (String, Vec<(String, i64, bool)>);

/// A few returns of the demo database that no box has come for yet, with their lines' barcodes
/// and quantities; nothing on any other database (see [`super::demo::waiting`]).
pub fn demo_waiting(db: &dyn Sql, n: i64) -> DbResult<Vec<DemoReturn>> {
    Ok(super::demo::waiting(db, Some(n))?
        .into_iter()
        .map(|r| (r.rma, r.lines.into_iter().map(|l| (l.code, l.qty, l.serialised)).collect()))
        .collect())
}

/// The dock screen's figures for this station's current shift, in two statements: the shift's
/// start with the last parcels ([`DOCK_LAST`]), then the counts ([`DOCK_FIGURES`]); a third on
/// the demo's database only.
///
/// Every count comes from an index over the shift's own rows (migration 3), so it costs the
/// same after a year of history as on the first day.
pub fn dock_info(db: &dyn Sql, station: &str, now: &DateTime<FixedOffset>) -> DbResult<DockInfo> {
    let last_sql = match db.engine() {
        Engine::Sqlite => DOCK_LAST,
        Engine::Postgres => DOCK_LAST_PG,
    };
    let mut since: Option<String> = None;
    let mut last = Vec::new();
    db.each(last_sql, args![station], &mut |r| {
        since = r.get(0)?;
        if let Some(id) = r.get::<Option<i64>>(1)? {
            last.push(LastParcel {
                id,
                what: r.get(2)?,
                state: parcel_state(r, 3)?,
                at: r.get(4)?,
                discrepancies: r.get(5)?,
            });
        }
        Ok(())
    })?;
    let since = since.unwrap_or_else(|| timestamp(*now));
    let r = the_row(db, dock_figures(db.engine()), args![station, since])?;
    let (parcels, units, refused, review, unidentified) =
        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
    let (demo, no_users) = (r.get::<bool>(5)?, !r.get::<bool>(6)?);
    let demo_waiting = if demo { demo_waiting(db, 3)? } else { Vec::new() };
    Ok(DockInfo { parcels, units, refused, review, unidentified, last, demo_waiting, no_users })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The figures shown after every signature read index ranges, never a whole table: with a
    /// year of history a full count took 250-360 ms a signature.
    #[test]
    fn the_dock_figures_come_from_indexes() {
        let store = crate::store::Store::open_in_memory().unwrap();
        let plan = |sql: &str| -> Vec<String> {
            let explain = format!("EXPLAIN QUERY PLAN {sql}");
            let mut stmt = store.conn().prepare(&explain).unwrap();
            let n = stmt.parameter_count();
            let args: Vec<&dyn rusqlite::ToSql> =
                [&"ST01" as &dyn rusqlite::ToSql, &"2026-01-01T00:00:00.000Z"].into_iter().take(n).collect();
            stmt.query_map(&args[..], |r| r.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect::<Vec<_>>()
        };
        // A SCAN is allowed only of a partial index that holds just the rows counted (open
        // reviews, unidentified parcels), or of the rows a statement made itself (the shift's
        // start, the five last parcels); every other step is a SEARCH of an index range.
        for sql in [dock_figures(Engine::Sqlite), DOCK_LAST] {
            for step in plan(sql) {
                let ok = step.starts_with("SEARCH")
                    || step.contains("reviews_open")
                    || step.contains("parcels_unidentified")
                    || step.contains("SCALAR SUBQUERY")
                    || step.starts_with("USE TEMP")
                    // The shift's start beside the last parcels; whether anyone exists at all
                    // ends at the first row.
                    || step.starts_with("SCAN CONSTANT ROW")
                    || matches!(step.as_str(), "CO-ROUTINE s" | "MATERIALIZE l" | "SCAN s" | "SCAN l LEFT-JOIN")
                    || step.starts_with("SCAN users USING COVERING INDEX");
                assert!(ok, "{sql}: {step}");
            }
        }
    }
}
