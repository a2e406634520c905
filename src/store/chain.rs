//! The audit log as a hash chain, and the check that the records are what the log says.
//!
//! Every entry carries the SHA-256 of its own content and of the entry before it, so an entry
//! changed, removed or slipped in without the program breaks the chain at that point. Every step
//! of a unit (scan, inspection, correction, undo, overturn) is an entry that carries the unit's
//! whole state after the step, so the current state of every unit can be checked against its
//! last entry; every decided review points at the entry that decided it.
//!
//! What the chain cannot prove: someone who can write the file and recomputes every hash after
//! an edit leaves a chain that fits. The hash of the newest entry is printed by `audit verify`
//! and written into every export batch's entry, so a copy kept elsewhere (after-sales' files, a
//! backup) shows whether the history before it was rewritten.

use super::sql::{args, Cell, Engine, FromCell, Row, Sql, SqlExt};
use super::DbResult;
use rusqlite::Connection;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The schema version whose migration seals the log (0005_trust.sql).
pub const SEALED_FROM_VERSION: u32 = 5;

/// The "previous hash" of the first entry.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry of the log as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: i64,
    pub at: String,
    pub station: Option<String>,
    pub actor: Option<String>,
    pub action: String,
    pub subject: Option<String>,
    pub detail: Option<String>,
    pub hash: Option<String>,
}

const ENTRY_COLUMNS: &str = "id, at, station, actor, action, subject, detail, hash";

fn entry(r: &Row) -> DbResult<Entry> {
    Ok(Entry {
        id: r.get(0)?,
        at: r.get(1)?,
        station: r.get(2)?,
        actor: r.get(3)?,
        action: r.get(4)?,
        subject: r.get(5)?,
        detail: r.get(6)?,
        hash: r.get(7)?,
    })
}

impl Entry {
    /// The hash this entry must carry when `prev` is the hash of the entry before it.
    pub fn expected_hash(&self, prev: &str) -> String {
        Content {
            at: &self.at,
            station: self.station.as_deref(),
            actor: self.actor.as_deref(),
            action: &self.action,
            subject: self.subject.as_deref(),
            detail: self.detail.as_deref(),
        }
        .hash(prev)
    }

    /// `12 sign P3`, for messages.
    pub fn named(&self) -> String {
        match &self.subject {
            Some(s) => format!("entry {} ({} {s}, {})", self.id, self.action, self.at),
            None => format!("entry {} ({}, {})", self.id, self.action, self.at),
        }
    }
}

/// What an entry says: everything of it that its hash covers.
#[derive(Debug, Clone, Copy)]
pub struct Content<'a> {
    pub at: &'a str,
    pub station: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub action: &'a str,
    pub subject: Option<&'a str>,
    pub detail: Option<&'a str>,
}

impl Content<'_> {
    /// SHA-256 over the previous hash and each field, each field written with its length (or
    /// as absent), so that no two different entries can be written the same way.
    fn hash(&self, prev: &str) -> String {
        let mut h = Sha256::new();
        h.update(prev.as_bytes());
        for field in [Some(self.at), self.station, self.actor, Some(self.action), self.subject, self.detail] {
            match field {
                None => h.update(b"-"),
                Some(s) => {
                    h.update(format!("+{}:", s.len()).as_bytes());
                    h.update(s.as_bytes());
                }
            }
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The hash of the newest entry (the chain's head), or the genesis value for an empty log.
pub fn head(db: &dyn Sql) -> DbResult<String> {
    Ok(db
        .value::<Option<String>>("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1", args![])?
        .flatten()
        .unwrap_or_else(|| GENESIS.to_string()))
}

/// Appends an entry, sealed onto the chain's head. Called inside the caller's write
/// transaction, so no other writer can append between reading the head and inserting.
pub fn append(db: &dyn Sql, c: &Content<'_>) -> DbResult<i64> {
    match db.engine() {
        // The write transaction holds the database's write lock: no other writer appends
        // before it commits; AUTOINCREMENT gives the next id (never one of an entry removed).
        Engine::Sqlite => {
            let hash = c.hash(&head(db)?);
            db.one(
                "INSERT INTO audit_log (at, station, actor, action, subject, detail, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                args![c.at, c.station, c.actor, c.action, c.subject, c.detail, hash],
            )
        }
        // Writers run side by side at READ COMMITTED: appending is taken in turn, until the
        // transaction ends, so that two never seal onto the same head. The id is the next after
        // the newest entry, not a sequence's (a sequence skips the ids of transactions rolled
        // back, and the gap would read as entries removed). The lock and the head come in one
        // round trip (`audit_log_head`, central migration 4), once a transaction: after that,
        // the head is the entry it appended last.
        Engine::Postgres => {
            let (last, prev) = match db.chain_head() {
                Some(held) => held,
                None => db
                    .row("SELECT id, hash FROM audit_log_head(?1)", args![AUDIT_LOG_LOCK])?
                    .map(|r| Ok::<_, super::DbError>((r.get(0)?, r.get(1)?)))
                    .transpose()?
                    .unwrap_or((0, GENESIS.to_string())),
            };
            let hash = c.hash(&prev);
            let id: i64 = db.one(
                "INSERT INTO audit_log (id, at, station, actor, action, subject, detail, hash) OVERRIDING SYSTEM VALUE
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
                args![last + 1, c.at, c.station, c.actor, c.action, c.subject, c.detail, hash],
            )?;
            db.keep_chain_head(id, &hash);
            Ok(id)
        }
    }
}

/// The PostgreSQL advisory lock that appenders take in turn (any fixed number of ours); a
/// test holds it to stand for a writer in the middle of a step.
pub const AUDIT_LOG_LOCK: i64 = 0x6175_6469_745f_6c6f; // "audit_lo"

/// How a unit is named in the log, as on its label.
pub fn unit_subject(unit_id: i64) -> String {
    crate::domain::ids::UnitId(unit_id).to_string()
}

/// A kind of record whose whole state the log carries: after every change the program makes
/// to one, an entry with its state; `audit verify` compares each record with its last entry.
pub struct Table {
    /// The entry's action.
    pub action: &'static str,
    /// The table's name, for messages.
    name: &'static str,
    /// `SELECT id, <the columns of the state> FROM <table>`.
    select: &'static str,
    /// The names of the columns of the state, in the order `select` gives them (after `id`).
    columns: &'static [&'static str],
    /// The column `select` reads as the record's id.
    id: &'static str,
    subject: fn(i64) -> String,
}

pub const UNITS: Table = Table {
    action: "unit",
    name: "unit",
    select:
        "SELECT id, parcel_id, seq, return_id, line_no, scan, sku, gtin, serial, lot, expiry, discrepancy,
                    outcome, grade, reason, cause, note, unit_value_cents, station, operator, scanned_at,
                    inspected_at, boxes_in, box_marks, destination FROM units",
    columns: &[
        "parcel_id",
        "seq",
        "return_id",
        "line_no",
        "scan",
        "sku",
        "gtin",
        "serial",
        "lot",
        "expiry",
        "discrepancy",
        "outcome",
        "grade",
        "reason",
        "cause",
        "note",
        "unit_value_cents",
        "station",
        "operator",
        "scanned_at",
        "inspected_at",
        "boxes_in",
        "box_marks",
        "destination",
    ],
    id: "id",
    subject: unit_subject,
};

pub const PARCELS: Table = Table {
    action: "parcel",
    name: "parcel",
    select: "SELECT id, scan, tracking_no, tracking_key, carrier, state, unidentified, has_discrepancy, station,
                    operator, received_at, closed_at, closed_by, closed_audit_id, refuse_reason, note, dock FROM parcels",
    columns: &[
        "scan",
        "tracking_no",
        "tracking_key",
        "carrier",
        "state",
        "unidentified",
        "has_discrepancy",
        "station",
        "operator",
        "received_at",
        "closed_at",
        "closed_by",
        "closed_audit_id",
        "refuse_reason",
        "note",
        "dock",
    ],
    id: "id",
    subject: |id| format!("P{id}"),
};

pub const REVIEWS: Table = Table {
    action: "review_record",
    name: "review",
    select: "SELECT id, parcel_id, unit_id, kind, mandatory, created_at, decision, decided_by, decided_at,
                    decided_audit_id, comment, new_outcome, new_grade FROM reviews",
    columns: &[
        "parcel_id",
        "unit_id",
        "kind",
        "mandatory",
        "created_at",
        "decision",
        "decided_by",
        "decided_at",
        "decided_audit_id",
        "comment",
        "new_outcome",
        "new_grade",
    ],
    id: "id",
    subject: |id| format!("R{id}"),
};

/// A return's boxes and its closing (migration 7).
pub const RECEIPTS: Table = Table {
    action: "return_receipt",
    name: "return's receipt",
    select: "SELECT * FROM (SELECT return_id AS id, first_at, boxes, last_parcel_id, last_at, closed_how, closed_at,
                    closed_by, closed_audit_id FROM return_receipts) AS receipts",
    columns: &[
        "first_at",
        "boxes",
        "last_parcel_id",
        "last_at",
        "closed_how",
        "closed_at",
        "closed_by",
        "closed_audit_id",
    ],
    id: "return_id",
    subject: |id| format!("RET{id}"),
};

/// A photo attached to a unit or a parcel (migration 13). Its picture's bytes are checked
/// against the SHA-256 it is named by ([`super::photos::check_pictures`]).
pub const PHOTOS: Table = Table {
    action: "photo",
    name: "photo",
    select: "SELECT id, sha256, parcel_id, unit_id, file_name, station, operator, attached_at FROM photos",
    columns: &["sha256", "parcel_id", "unit_id", "file_name", "station", "operator", "attached_at"],
    id: "id",
    subject: |id| format!("PH{id}"),
};

/// A batch of a manifest (migration 14): a return-to-supplier box or a write-off list.
pub const MANIFESTS: Table = Table {
    action: "manifest",
    name: "manifest batch",
    select: "SELECT id, kind, number, created_at, created_by, station, supplier, dock, units, value_cents
             FROM manifests",
    columns: &[
        "kind",
        "number",
        "created_at",
        "created_by",
        "station",
        "supplier",
        "dock",
        "units",
        "value_cents",
    ],
    id: "id",
    subject: |id| format!("M{id}"),
};

/// A unit shipped to its supplier or written off, in its batch (migration 14).
pub const MANIFEST_UNITS: Table = Table {
    action: "manifest_unit",
    name: "unit shipped or written off",
    select: "SELECT * FROM (SELECT unit_id AS id, manifest_id, supplier, destination, value_cents
                    FROM manifest_units) AS shipped",
    columns: &["manifest_id", "supplier", "destination", "value_cents"],
    id: "unit_id",
    subject: unit_subject,
};

/// The records the log carries, in the order `audit verify` checks them.
const TABLES: [&Table; 7] = [&UNITS, &PARCELS, &REVIEWS, &RECEIPTS, &PHOTOS, &MANIFESTS, &MANIFEST_UNITS];

/// The records there were when the log was sealed (migration 5).
const SEALED_TABLES: [&Table; 3] = [&UNITS_AT_SEAL, &PARCELS_WITHOUT_DOCK, &REVIEWS];

/// Units as migration 5 found them, before the columns of a product's boxes (migration 7) and
/// its destination (migration 12); their states are the same, since those columns show only
/// when they hold a value.
const UNITS_AT_SEAL: Table = Table {
    select:
        "SELECT id, parcel_id, seq, return_id, line_no, scan, sku, gtin, serial, lot, expiry, discrepancy,
                    outcome, grade, reason, cause, note, unit_value_cents, station, operator, scanned_at,
                    inspected_at FROM units",
    columns: UNITS.columns.split_at(UNITS.columns.len() - 3).0,
    ..UNITS
};

/// Parcels without their dock (migration 10): as migration 5 found them, and as the log carried
/// them until migration 11.
const PARCELS_WITHOUT_DOCK: Table = Table {
    select: "SELECT id, scan, tracking_no, tracking_key, carrier, state, unidentified, has_discrepancy, station,
                    operator, received_at, closed_at, closed_by, closed_audit_id, refuse_reason, note FROM parcels",
    columns: PARCELS.columns.split_at(PARCELS.columns.len() - 1).0,
    ..PARCELS
};

/// Columns added to a record after states of it were first logged (migration 7: a product's
/// boxes; migration 10: a parcel's dock; migration 12: a unit's destination): a state carries
/// them only when they hold a value, so
/// that a state logged before them is still the state of a record that never used them.
const ADDED_LATER: [&str; 4] = ["boxes_in", "box_marks", "dock", "destination"];

/// A value of a state, as the log writes it.
struct StateValue(Value);

impl FromCell for StateValue {
    fn from_cell(c: &Cell) -> Option<Self> {
        Some(StateValue(match c {
            Cell::Null => Value::Null,
            Cell::Int(n) => Value::from(*n),
            Cell::Real(x) => Value::from(*x),
            Cell::Text(t) => Value::String(t.clone()),
            Cell::Bytes(b) => Value::String(format!("{} bytes", b.len())),
        }))
    }
}

/// A row of `table.select` as its id and its state as the log writes it: a JSON object of its
/// columns in the table's order, so the same state is always the same text.
fn row_state(table: &Table, r: &Row) -> DbResult<(i64, String)> {
    let mut map = serde_json::Map::new();
    for (i, name) in table.columns.iter().enumerate() {
        let StateValue(v) = r.get(i + 1)?;
        if v.is_null() && ADDED_LATER.contains(name) {
            continue;
        }
        map.insert(name.to_string(), v);
    }
    Ok((r.get(0)?, Value::Object(map).to_string()))
}

fn state_of(db: &dyn Sql, table: &Table, id: i64) -> DbResult<Option<String>> {
    db.row(&format!("{} WHERE id = ?1", table.select), args![id])?
        .map(|r| row_state(table, &r).map(|(_, s)| s))
        .transpose()
}

/// A state entry's detail: the step (for units, the `unit_steps` id), its kind and the state
/// after it (`null`: the record is gone).
fn state_detail(step: Option<i64>, kind: &str, state: Option<&str>) -> String {
    format!(
        "{{\"step\":{},\"kind\":{},\"state\":{}}}",
        step.map_or("null".to_string(), |s| s.to_string()),
        Value::String(kind.to_string()),
        state.unwrap_or("null")
    )
}

/// The state written in a state entry's detail, as it was written.
fn logged_state(detail: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Detail<'a> {
        #[serde(borrow)]
        state: Option<&'a serde_json::value::RawValue>,
    }
    serde_json::from_str::<Detail<'_>>(detail)
        .ok()
        .and_then(|d| d.state.map(|s| s.get().to_string()))
        .unwrap_or_else(|| "null".to_string())
}

/// Who and where a change is made, and when (as stored).
#[derive(Debug, Clone, Copy)]
pub struct By<'a> {
    pub at: &'a str,
    pub station: Option<&'a str>,
    pub actor: Option<&'a str>,
}

impl<'a> By<'a> {
    /// An entry made by this actor.
    fn content(self, action: &'a str, subject: Option<&'a str>, detail: Option<&'a str>) -> Content<'a> {
        Content { at: self.at, station: self.station, actor: self.actor, action, subject, detail }
    }
}

/// Logs the state of record `id` after a change the program made (`kind`: what it was).
/// Called after the row was written, in the same transaction.
pub fn log_state(
    db: &dyn Sql,
    by: By<'_>,
    table: &Table,
    id: i64,
    kind: &str,
    step: Option<i64>,
) -> DbResult<i64> {
    let state = state_of(db, table, id)?;
    let detail = state_detail(step, kind, state.as_deref());
    let subject = (table.subject)(id);
    append(db, &by.content(table.action, Some(&subject), Some(&detail)))
}

/// `RETURNING` the columns of a record's state in the order [`Table`]'s select reads them: a
/// write that returns them is logged by [`log_written`] without reading the record again.
pub fn returning(table: &Table) -> String {
    format!("RETURNING {}, {}", table.id, table.columns.join(", "))
}

/// Where column `name` of a record's state is in a row of [`returning`] (or of its select).
pub fn column(table: &Table, name: &str) -> usize {
    1 + table.columns.iter().position(|c| *c == name).unwrap_or_else(|| panic!("{}: no {name}", table.name))
}

/// [`log_state`] of a record as its write returned it (`row`, of [`returning`]): the state
/// the write left, which is the record's state on disk, with no statement to read it back.
pub fn log_written(
    db: &dyn Sql,
    by: By<'_>,
    table: &Table,
    row: &Row,
    kind: &str,
    step: Option<i64>,
) -> DbResult<i64> {
    let (id, state) = row_state(table, row)?;
    let detail = state_detail(step, kind, Some(&state));
    let subject = (table.subject)(id);
    append(db, &by.content(table.action, Some(&subject), Some(&detail)))
}

/// Logs a step of a unit's history and the unit's state after it.
pub fn log_unit_step(
    db: &dyn Sql,
    at: &str,
    station: Option<&str>,
    actor: Option<&str>,
    unit_id: i64,
    kind: &str,
    step_id: Option<i64>,
) -> DbResult<i64> {
    log_state(db, By { at, station, actor }, &UNITS, unit_id, kind, step_id)
}

/// Before the program changes record `id`: if the record is not what its last entry says (it
/// was changed behind the program), that is logged first, so that the change about to be made
/// can never make an edit behind the program look like the program's own. `audit verify`
/// reports every such entry.
pub fn confirm(db: &dyn Sql, by: By<'_>, table: &Table, id: i64) -> DbResult<()> {
    let subject = (table.subject)(id);
    // The record and its last entry's detail in one statement; the detail alone for a record
    // that is gone.
    let last = |n: usize| {
        format!(
            "SELECT detail FROM audit_log WHERE subject = ?{n} AND action = ?{} ORDER BY id DESC LIMIT 1",
            n + 1
        )
    };
    let both = format!("SELECT s.*, ({}) FROM ({} WHERE id = ?1) AS s", last(2), table.select);
    let (logged, now) = match db.row(&both, args![id, subject, table.action])? {
        Some(r) => (r.get::<Option<String>>(table.columns.len() + 1)?, Some(row_state(table, &r)?.1)),
        None => (db.value::<Option<String>>(&last(1), args![subject, table.action])?.flatten(), None),
    };
    let Some(logged) = logged.map(|d| logged_state(&d)) else { return Ok(()) };
    let now = now.unwrap_or_else(|| "null".to_string());
    if logged != now {
        let detail = format!("{{\"logged\":{logged},\"found\":{now}}}");
        append(db, &by.content("changed_behind", Some(&subject), Some(&detail)))?;
    }
    Ok(())
}

/// Run once, by the migration that counts a return's boxes (7): every receipt it made from the
/// parcels before gets an entry with its state, as every record has.
pub fn log_receipts_made(conn: &Connection) -> DbResult<()> {
    let now = super::timestamp(chrono::Local::now().fixed_offset());
    let ids: Vec<i64> = conn
        .prepare("SELECT return_id FROM return_receipts ORDER BY return_id")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let by = By { at: &now, station: None, actor: None };
    for id in ids {
        log_state(conn, by, &RECEIPTS, id, "made from the parcel signed before boxes were counted", None)?;
    }
    Ok(())
}

/// Run once, by the migration after which the log carries a parcel's dock (file 11, central 4):
/// every parcel received at a named dock before gets an entry with its state, dock included,
/// so that its record is again what its last entry says. A parcel whose record is not what its
/// last entry says, its dock aside, was changed behind the program: that is logged first, as
/// [`confirm`] does, so this step never makes such an edit look like the program's own.
pub fn log_parcel_docks(db: &dyn Sql) -> DbResult<()> {
    let now = super::timestamp(chrono::Local::now().fixed_offset());
    let ids: Vec<i64> =
        db.map("SELECT id FROM parcels WHERE dock IS NOT NULL ORDER BY id", args![], |r| r.get(0))?;
    let by = By { at: &now, station: None, actor: None };
    for id in ids {
        let subject = (PARCELS.subject)(id);
        let logged: Option<String> = db
            .value::<Option<String>>(
                "SELECT detail FROM audit_log WHERE subject = ?1 AND action = ?2 ORDER BY id DESC LIMIT 1",
                args![subject, PARCELS.action],
            )?
            .flatten()
            .map(|d| logged_state(&d));
        let before = state_of(db, &PARCELS_WITHOUT_DOCK, id)?;
        let with_dock = state_of(db, &PARCELS, id)?;
        if let Some(logged) = logged.filter(|l| Some(l) != before.as_ref() && Some(l) != with_dock.as_ref()) {
            let found = with_dock.as_deref().unwrap_or("null");
            let detail = format!("{{\"logged\":{logged},\"found\":{found}}}");
            append(db, &by.content("changed_behind", Some(&subject), Some(&detail)))?;
        }
        log_state(db, by, &PARCELS, id, "its dock, recorded before the log carried it", None)?;
    }
    Ok(())
}

/// Run once, by the migration that adds the hashes: seals the entries already in the log in
/// their order, gives every unit, parcel and review already recorded an entry with its state as it stands, and
/// from then on refuses entries without a hash and changes to entries.
pub fn seal_history(conn: &Connection) -> DbResult<()> {
    let db: &dyn Sql = conn;
    let mut prev = GENESIS.to_string();
    db.each(&format!("SELECT {ENTRY_COLUMNS} FROM audit_log ORDER BY id"), args![], &mut |row| {
        let e = entry(row)?;
        let hash = e.expected_hash(&prev);
        db.exec("UPDATE audit_log SET hash = ?2 WHERE id = ?1", args![e.id, hash])?;
        prev = hash;
        Ok(())
    })?;
    let now = super::timestamp(chrono::Local::now().fixed_offset());
    for table in SEALED_TABLES {
        db.each(&format!("{} ORDER BY id", table.select), args![], &mut |row| {
            let (id, state) = row_state(table, row)?;
            let subject = (table.subject)(id);
            let detail = state_detail(None, "recorded before the log was sealed", Some(&state));
            let by = By { at: &now, station: None, actor: None };
            let hash = by.content(table.action, Some(&subject), Some(&detail)).hash(&prev);
            db.exec(
                "INSERT INTO audit_log (at, station, actor, action, subject, detail, hash)
                 VALUES (?1, NULL, NULL, ?2, ?3, ?4, ?5)",
                args![now, table.action, subject, detail, hash],
            )?;
            prev = hash;
            Ok(())
        })?;
    }
    conn.execute_batch(
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
         BEGIN
             SELECT RAISE(ABORT, 'audit_log is append-only');
         END;
         CREATE TRIGGER audit_log_sealed BEFORE INSERT ON audit_log WHEN NEW.hash IS NULL
         BEGIN
             SELECT RAISE(ABORT, 'audit_log entries carry their hash');
         END;",
    )?;
    Ok(())
}

/// What `audit verify` found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Verdict {
    pub entries: u64,
    pub units: u64,
    pub parcels: u64,
    pub reviews: u64,
    /// Returns' receipts (their boxes and closing).
    pub receipts: u64,
    /// Photos attached, each picture's bytes checked against its name.
    pub photos: u64,
    /// Manifest batches (return to supplier, write-off) and the units in them.
    pub manifests: u64,
    pub shipped: u64,
    /// The chain's head: the hash of the newest entry.
    pub head: String,
    /// What disagrees, first found first (the chain in order, then the records).
    pub problems: Vec<String>,
}

impl Verdict {
    /// `, 2 manifest batches with 5 units` when there are any (a dock that never closed one
    /// reads as it always did).
    fn manifests_said(&self) -> String {
        match self.manifests {
            0 => String::new(),
            n => format!(", {n} manifest batches with {} units", self.shipped),
        }
    }

    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn summary(&self) -> String {
        if self.ok() {
            format!(
                "audit log intact: {} entries chained; {} units, {} parcels, {} reviews, {} return receipts and {} photos{} agree with it; head {}",
                self.entries,
                self.units,
                self.parcels,
                self.reviews,
                self.receipts,
                self.photos,
                self.manifests_said(),
                &self.head[..16.min(self.head.len())]
            )
        } else {
            let more = match self.problems.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            format!("audit log check failed: {}{more}", self.problems[0])
        }
    }
}

/// Checks the links of one stretch of the chain: each entry's hash against the one before it,
/// and that no id is missing. `prev` is the hash and id before the first entry.
struct Links {
    prev: String,
    prev_id: Option<i64>,
    problems: Vec<String>,
}

impl Links {
    fn check(&mut self, e: &Entry) {
        if let Some(p) = self.prev_id {
            if e.id != p + 1 {
                self.problems.push(format!(
                    "entries {} to {} are missing: removed from the log",
                    p + 1,
                    e.id - 1
                ));
            }
        }
        let expected = e.expected_hash(&self.prev);
        match &e.hash {
            Some(h) if *h == expected => {}
            Some(_) => self.problems.push(format!(
                "{} does not match its hash: it was changed, or an entry before it was removed or inserted",
                e.named()
            )),
            None => self.problems.push(format!("{} has no hash: written behind the program", e.named())),
        }
        // The chain goes on from what is stored, so one bad entry is named once, not every
        // entry after it.
        self.prev = e.hash.clone().unwrap_or(expected);
        self.prev_id = Some(e.id);
    }
}

/// The whole check: the chain from the first entry, then every unit, parcel and review
/// against its last entry, and every decided review against the entry that decided it.
pub fn verify(db: &dyn Sql) -> DbResult<Verdict> {
    let mut v = Verdict::default();
    let mut links = Links { prev: GENESIS.to_string(), prev_id: None, problems: vec![] };
    // The last state logged for each record, by action and subject.
    let mut states: HashMap<(String, String), (i64, String)> = HashMap::new();
    let mut deciding: HashMap<i64, Entry> = HashMap::new();
    let mut behind: Vec<String> = vec![];
    db.each(&format!("SELECT {ENTRY_COLUMNS} FROM audit_log ORDER BY id"), args![], &mut |row| {
        let e = entry(row)?;
        v.entries += 1;
        if v.entries == 1 && e.id != 1 {
            links.problems.push(format!("entries 1 to {} are missing: removed from the log", e.id - 1));
        }
        links.check(&e);
        let action = e.action.as_str();
        if TABLES.iter().any(|t| t.action == action) {
            if let Some(subject) = &e.subject {
                let state = logged_state(e.detail.as_deref().unwrap_or(""));
                states.insert((e.action.clone(), subject.clone()), (e.id, state));
            }
        } else if action == "changed_behind" {
            behind.push(format!(
                "{} was found changed behind the program ({}): {}",
                e.subject.as_deref().unwrap_or("?"),
                e.named(),
                differs(e.detail.as_deref().unwrap_or(""))
            ));
        } else if matches!(action, "review" | "link_parcel" | "link_unidentified") {
            deciding.insert(e.id, e);
        }
        Ok(())
    })?;
    v.head = links.prev.clone();
    if v.entries == 0 {
        v.head = GENESIS.to_string();
    }
    // SQLite counts the ids AUTOINCREMENT gave, so entries removed from the end show too. On
    // PostgreSQL ids follow the newest entry (see `append`): there is no count to compare with.
    let counted: Option<i64> = match db.engine() {
        Engine::Sqlite => db.value("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'", args![])?,
        Engine::Postgres => None,
    };
    let last = links.prev_id.unwrap_or(0);
    if let Some(seq) = counted.filter(|seq| *seq > last) {
        links.problems.push(format!(
            "the last {} entries (from entry {}) are missing: removed from the log",
            seq - last,
            last + 1
        ));
    }
    v.problems.append(&mut links.problems);
    v.problems.append(&mut behind);

    // Every record as its last entry says.
    for table in TABLES {
        let mut n = 0;
        db.each(&format!("{} ORDER BY id", table.select), args![], &mut |row| {
            let (id, state) = row_state(table, row)?;
            n += 1;
            let subject = (table.subject)(id);
            match states.remove(&(table.action.to_string(), subject.clone())) {
                None => v.problems.push(format!(
                    "{} {subject} has no entry in the log: recorded behind the program",
                    table.name
                )),
                Some((entry, logged)) if logged != state => {
                    v.problems.push(format!(
                        "{} {subject}: {} (entry {entry}): changed behind the program",
                        table.name,
                        differs(&format!("{{\"logged\":{logged},\"found\":{state}}}"))
                    ));
                }
                Some(_) => {}
            }
            Ok(())
        })?;
        match table.action {
            "unit" => v.units = n,
            "review_record" => v.reviews = n,
            "return_receipt" => v.receipts = n,
            "photo" => v.photos = n,
            "manifest" => v.manifests = n,
            "manifest_unit" => v.shipped = n,
            _ => v.parcels = n,
        }
    }
    let mut gone: Vec<(i64, String)> = states
        .into_iter()
        .filter(|(_, (_, s))| s != "null")
        .map(|((_, subject), (e, _))| (e, subject))
        .collect();
    gone.sort();
    for (entry, subject) in gone {
        v.problems.push(format!(
            "{subject} is in the log (entry {entry}) but not in the records: removed behind the program"
        ));
    }

    // Each decision is the entry it points at.
    db.each(
        "SELECT id, decision, decided_by, decided_audit_id, parcel_id FROM reviews WHERE decision IS NOT NULL ORDER BY id",
        args![],
        &mut |row| {
            let (id, decision, by, audit, parcel): (i64, String, Option<String>, Option<i64>, i64) =
                (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?);
            let fits = audit.and_then(|a| deciding.get(&a)).is_some_and(|e| {
                let word = e.detail.as_deref().unwrap_or("").split(':').next().unwrap_or("");
                match e.action.as_str() {
                    "review" => {
                        e.subject.as_deref() == Some(&format!("R{id}")) && word == decision && e.actor == by
                    }
                    // A link confirms the parcel's entry; an import's link has no supervisor.
                    "link_parcel" => {
                        e.subject.as_deref() == Some(&format!("P{parcel}"))
                            && decision == "confirmed"
                            && e.actor == by
                    }
                    _ => {
                        e.subject.as_deref() == Some(&format!("P{parcel}"))
                            && decision == "confirmed"
                            && by.is_none()
                    }
                }
            });
            if !fits {
                v.problems.push(format!(
                    "review R{id} says {decision} by {}, but no entry of the log decided it so: changed behind the program",
                    by.as_deref().unwrap_or("nobody")
                ));
            }
            Ok(())
        },
    )?;
    Ok(v)
}

/// `outcome is accept but the log says refuse, ...` from `{"logged":..,"found":..}`.
fn differs(detail: &str) -> String {
    let parsed = serde_json::from_str::<Value>(detail).unwrap_or(Value::Null);
    let (logged, found) = (&parsed["logged"], &parsed["found"]);
    if logged.is_null() {
        return "it is in the records, but its last entry removed it".into();
    }
    if found.is_null() {
        return "it was removed from the records".into();
    }
    let shown = |v: &Value| match v {
        Value::Null => "(none)".to_string(),
        Value::String(s) => crate::domain::text::in_file(s).into_owned(),
        x => x.to_string(),
    };
    let keys: Vec<String> = logged.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    let changed: Vec<String> = keys
        .iter()
        .filter(|k| logged[k.as_str()] != found[k.as_str()])
        .map(|k| {
            format!("{k} is {} but the log says {}", shown(&found[k.as_str()]), shown(&logged[k.as_str()]))
        })
        .collect();
    changed.join(", ")
}

/// The newest `n` entries' links, for the station's check at start: None when they hold.
pub fn verify_tail(db: &dyn Sql, n: i64) -> DbResult<Option<String>> {
    let mut entries: Vec<Entry> = db.map(
        &format!("SELECT {ENTRY_COLUMNS} FROM audit_log ORDER BY id DESC LIMIT ?1"),
        args![n + 1],
        entry,
    )?;
    entries.reverse();
    let Some(first) = entries.first() else { return Ok(None) };
    // The first entry read is the anchor; with fewer than n + 1 entries the chain starts at
    // genesis and the first is checked too.
    let (prev, from) = if entries.len() as i64 == n + 1 {
        (first.hash.clone().unwrap_or_default(), 1)
    } else {
        (GENESIS.to_string(), 0)
    };
    let mut links = Links { prev, prev_id: (from == 1).then_some(first.id), problems: vec![] };
    for e in &entries[from..] {
        links.check(e);
    }
    Ok(links.problems.into_iter().next())
}

/// What `audit show` prints of a record: its entries, oldest first.
pub enum Record {
    Parcel(i64),
    Unit(i64),
}

/// [`unit_subject`] of a column `unit_id`, in SQL: `U` and the id in at least 8 digits.
const UNIT_SUBJECT_OF: &str =
    "'U' || CASE WHEN unit_id < 100000000 THEN substr(CAST(100000000 + unit_id AS TEXT), 2) ELSE CAST(unit_id AS TEXT) END";

pub fn history(db: &dyn Sql, record: &Record) -> DbResult<Vec<Entry>> {
    match record {
        Record::Unit(u) => db.map(
            &format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE subject = ?1 ORDER BY id"),
            args![unit_subject(*u)],
            entry,
        ),
        Record::Parcel(p) => db.map(
            &format!(
                "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE subject = ?2
                    OR subject IN (SELECT DISTINCT {UNIT_SUBJECT_OF} FROM unit_steps WHERE parcel_id = ?1)
                    OR subject IN (SELECT 'R' || id FROM reviews WHERE parcel_id = ?1)
                 ORDER BY id"
            ),
            args![p, format!("P{p}")],
            entry,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_table_names_the_columns_its_select_reads() {
        let store = crate::store::Store::open_in_memory().unwrap();
        for table in [
            &UNITS,
            &PARCELS,
            &REVIEWS,
            &RECEIPTS,
            &PHOTOS,
            &MANIFESTS,
            &MANIFEST_UNITS,
            &UNITS_AT_SEAL,
            &PARCELS_WITHOUT_DOCK,
        ] {
            let stmt = store.conn().prepare(table.select).unwrap();
            let names: Vec<&str> = stmt.column_names();
            assert_eq!(names[0], "id", "{}", table.name);
            assert_eq!(&names[1..], table.columns, "{}", table.name);
        }
    }

    #[test]
    fn a_parcel_s_history_names_its_units_as_their_labels_do() {
        let store = crate::store::Store::open_in_memory().unwrap();
        let db: &dyn Sql = store.conn();
        for id in [4_i64, 12_345_678, 123_456_789] {
            let shown: String = db
                .one(&format!("SELECT {UNIT_SUBJECT_OF} FROM (SELECT ?1 AS unit_id) AS u"), args![id])
                .unwrap();
            assert_eq!(shown, unit_subject(id));
        }
    }
}
