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

use rusqlite::{params, Connection, OptionalExtension};
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

fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
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
        hash_of(
            prev,
            &self.at,
            self.station.as_deref(),
            self.actor.as_deref(),
            &self.action,
            self.subject.as_deref(),
            self.detail.as_deref(),
        )
    }

    /// `12 sign P3`, for messages.
    pub fn named(&self) -> String {
        match &self.subject {
            Some(s) => format!("entry {} ({} {s}, {})", self.id, self.action, self.at),
            None => format!("entry {} ({}, {})", self.id, self.action, self.at),
        }
    }
}

/// SHA-256 over the previous hash and each field, each field written with its length (or as
/// absent), so that no two different entries can be written the same way.
fn hash_of(
    prev: &str,
    at: &str,
    station: Option<&str>,
    actor: Option<&str>,
    action: &str,
    subject: Option<&str>,
    detail: Option<&str>,
) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    for field in [Some(at), station, actor, Some(action), subject, detail] {
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

/// The hash of the newest entry (the chain's head), or the genesis value for an empty log.
pub fn head(conn: &Connection) -> rusqlite::Result<String> {
    Ok(conn
        .prepare_cached("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")?
        .query_row([], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten()
        .unwrap_or_else(|| GENESIS.to_string()))
}

/// Appends an entry, sealed onto the chain's head. Called inside the caller's write
/// transaction, so no other writer can append between reading the head and inserting.
pub fn append(
    conn: &Connection,
    at: &str,
    station: Option<&str>,
    actor: Option<&str>,
    action: &str,
    subject: Option<&str>,
    detail: Option<&str>,
) -> rusqlite::Result<i64> {
    let prev = head(conn)?;
    let hash = hash_of(&prev, at, station, actor, action, subject, detail);
    conn.prepare_cached(
        "INSERT INTO audit_log (at, station, actor, action, subject, detail, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![at, station, actor, action, subject, detail, hash])?;
    Ok(conn.last_insert_rowid())
}

/// How a unit is named in the log, as on its label.
pub fn unit_subject(unit_id: i64) -> String {
    format!("U{unit_id:08}")
}

/// A unit's state as the log records it: what a record of the unit must go on saying.
const UNIT_STATE: &str =
    "SELECT id, parcel_id, seq, sku, serial, outcome, grade, reason, cause, note FROM units";

/// The state as the log writes it: JSON with its fields always in this order, so that the
/// same state is always the same text.
#[derive(serde::Serialize)]
struct UnitState {
    parcel: i64,
    seq: i64,
    sku: Option<String>,
    serial: Option<String>,
    outcome: Option<String>,
    grade: Option<String>,
    reason: Option<String>,
    cause: Option<String>,
    note: Option<String>,
}

fn unit_state(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String)> {
    let state = UnitState {
        parcel: r.get(1)?,
        seq: r.get(2)?,
        sku: r.get(3)?,
        serial: r.get(4)?,
        outcome: r.get(5)?,
        grade: r.get(6)?,
        reason: r.get(7)?,
        cause: r.get(8)?,
        note: r.get(9)?,
    };
    Ok((r.get(0)?, serde_json::to_string(&state).expect("plain fields serialise")))
}

/// A unit entry's detail: the step, its kind and the state after it (`null`: the unit is gone).
/// The state comes last, so that a check can take it as it was written.
fn unit_detail(step: Option<i64>, kind: &str, state: Option<&str>) -> String {
    format!(
        "{{\"step\":{},\"kind\":{},\"state\":{}}}",
        step.map_or("null".to_string(), |s| s.to_string()),
        Value::String(kind.to_string()),
        state.unwrap_or("null")
    )
}

/// The state written in a unit entry's detail, as text.
fn logged_state(detail: &str) -> &str {
    detail.rsplit_once("\"state\":").map(|(_, rest)| rest.strip_suffix('}').unwrap_or(rest)).unwrap_or("null")
}

/// Logs a step of a unit's history: the step (`unit_steps` id and kind) and the unit's whole
/// state after it (null once the unit is gone). Called after the unit's row was written.
pub fn log_unit_step(
    conn: &Connection,
    at: &str,
    station: Option<&str>,
    actor: Option<&str>,
    unit_id: i64,
    kind: &str,
    step_id: Option<i64>,
) -> rusqlite::Result<i64> {
    let state = conn
        .prepare_cached(&format!("{UNIT_STATE} WHERE id = ?1"))?
        .query_row([unit_id], unit_state)
        .optional()?
        .map(|(_, s)| s);
    let detail = unit_detail(step_id, kind, state.as_deref());
    append(conn, at, station, actor, "unit", Some(&unit_subject(unit_id)), Some(&detail))
}

/// Run once, by the migration that adds the hashes: seals the entries already in the log in
/// their order, gives every unit already recorded an entry with its state as it stands, and
/// from then on refuses entries without a hash and changes to entries.
pub fn seal_history(conn: &Connection) -> rusqlite::Result<()> {
    let mut prev = GENESIS.to_string();
    {
        let mut read = conn.prepare(&format!("SELECT {ENTRY_COLUMNS} FROM audit_log ORDER BY id"))?;
        let mut write = conn.prepare("UPDATE audit_log SET hash = ?2 WHERE id = ?1")?;
        let mut rows = read.query([])?;
        while let Some(row) = rows.next()? {
            let e = entry(row)?;
            let hash = e.expected_hash(&prev);
            write.execute(params![e.id, hash])?;
            prev = hash;
        }
    }
    let now = super::timestamp(chrono::Local::now().fixed_offset());
    {
        let mut read = conn.prepare(&format!("{UNIT_STATE} ORDER BY id"))?;
        let mut write = conn.prepare(
            "INSERT INTO audit_log (at, station, actor, action, subject, detail, hash)
             VALUES (?1, NULL, NULL, 'unit', ?2, ?3, ?4)",
        )?;
        let mut rows = read.query([])?;
        while let Some(row) = rows.next()? {
            let (id, state) = unit_state(row)?;
            let subject = unit_subject(id);
            let detail = unit_detail(None, "recorded before the log was sealed", Some(&state));
            let hash = hash_of(&prev, &now, None, None, "unit", Some(&subject), Some(&detail));
            write.execute(params![now, subject, detail, hash])?;
            prev = hash;
        }
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
    )
}

/// What `audit verify` found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Verdict {
    pub entries: u64,
    pub units: u64,
    pub reviews: u64,
    /// The chain's head: the hash of the newest entry.
    pub head: String,
    /// What disagrees, first found first (the chain in order, then the records).
    pub problems: Vec<String>,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn summary(&self) -> String {
        if self.ok() {
            format!(
                "audit log intact: {} entries chained, {} units and {} decided reviews agree with it; head {}",
                self.entries,
                self.units,
                self.reviews,
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

/// The whole check: the chain from the first entry, then every unit and decided review
/// against the log.
pub fn verify(conn: &Connection) -> rusqlite::Result<Verdict> {
    let mut v = Verdict::default();
    let mut links = Links { prev: GENESIS.to_string(), prev_id: None, problems: vec![] };
    // The last state logged for each unit, and the entries that decide reviews.
    let mut units: HashMap<i64, (i64, String)> = HashMap::new();
    let mut deciding: HashMap<i64, Entry> = HashMap::new();
    let mut decided_in_log: HashMap<i64, i64> = HashMap::new();
    {
        let mut read = conn.prepare(&format!("SELECT {ENTRY_COLUMNS} FROM audit_log ORDER BY id"))?;
        let mut rows = read.query([])?;
        while let Some(row) = rows.next()? {
            let e = entry(row)?;
            v.entries += 1;
            if v.entries == 1 && e.id != 1 {
                links.problems.push(format!("entries 1 to {} are missing: removed from the log", e.id - 1));
            }
            links.check(&e);
            let subject_id = |prefix: char| {
                e.subject.as_deref().and_then(|s| s.strip_prefix(prefix)).and_then(|n| n.parse::<i64>().ok())
            };
            match e.action.as_str() {
                "unit" => {
                    if let Some(unit) = subject_id('U') {
                        let state = logged_state(e.detail.as_deref().unwrap_or("")).to_string();
                        units.insert(unit, (e.id, state));
                    }
                }
                "review" => {
                    if let Some(review) = subject_id('R') {
                        decided_in_log.insert(review, e.id);
                    }
                    deciding.insert(e.id, e);
                }
                "link_parcel" => {
                    deciding.insert(e.id, e);
                }
                _ => {}
            }
        }
        v.head = links.prev.clone();
    }
    if v.entries == 0 {
        v.head = GENESIS.to_string();
    }
    let counted: Option<i64> = conn
        .query_row("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'", [], |r| r.get(0))
        .optional()?;
    if let (Some(seq), Some(last)) = (counted, links.prev_id.or(Some(0))) {
        if seq > last {
            links.problems.push(format!(
                "the last {} entries (from entry {}) are missing: removed from the log",
                seq - last,
                last + 1
            ));
        }
    }
    v.problems.append(&mut links.problems);

    // Units: each as its last entry says.
    {
        let mut read = conn.prepare(&format!("{UNIT_STATE} ORDER BY id"))?;
        let mut rows = read.query([])?;
        while let Some(row) = rows.next()? {
            let (id, state) = unit_state(row)?;
            v.units += 1;
            match units.remove(&id) {
                None => v.problems.push(format!(
                    "unit {} has no entry in the log: recorded behind the program",
                    unit_subject(id)
                )),
                Some((entry, logged)) if logged != state => {
                    v.problems.push(unit_differs(id, entry, &logged, &state));
                }
                Some(_) => {}
            }
        }
    }
    let mut gone: Vec<(i64, i64)> =
        units.into_iter().filter(|(_, (_, s))| s != "null").map(|(u, (e, _))| (u, e)).collect();
    gone.sort();
    for (unit, entry) in gone {
        v.problems.push(format!(
            "unit {} is in the log (entry {entry}) but not in the records: removed behind the program",
            unit_subject(unit)
        ));
    }

    // Reviews: each decision is the entry it points at, and each deciding entry is a decision.
    {
        let mut read =
            conn.prepare("SELECT id, decision, decided_by, decided_audit_id FROM reviews ORDER BY id")?;
        let mut rows = read.query([])?;
        while let Some(row) = rows.next()? {
            let (id, decision, by, audit): (i64, Option<String>, Option<String>, Option<i64>) =
                (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
            let logged = decided_in_log.remove(&id);
            let Some(decision) = decision else {
                if let Some(e) = logged {
                    v.problems
                        .push(format!("review R{id} is undecided, but entry {e} of the log decided it"));
                }
                continue;
            };
            v.reviews += 1;
            let Some(e) = audit.and_then(|a| deciding.get(&a)) else {
                v.problems.push(format!(
                    "review R{id} says {decision}, but no entry of the log decided it: changed behind the program"
                ));
                continue;
            };
            let word = e.detail.as_deref().unwrap_or("").split(':').next().unwrap_or("");
            let fits = match e.action.as_str() {
                "review" => {
                    e.subject.as_deref() == Some(&format!("R{id}"))
                        && word == decision
                        && logged == Some(e.id)
                }
                _ => decision == "confirmed",
            };
            if !fits || e.actor != by {
                v.problems.push(format!(
                    "review R{id} says {decision} by {}, but {} says {} by {}",
                    by.as_deref().unwrap_or("nobody"),
                    e.named(),
                    if e.action == "review" { word } else { "linked" },
                    e.actor.as_deref().unwrap_or("nobody")
                ));
            }
        }
    }
    Ok(v)
}

fn unit_differs(id: i64, entry: i64, logged: &str, now: &str) -> String {
    let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
    let (logged, now) = (&parse(logged), &parse(now));
    let field = |v: &Value, k: &str| match v.get(k) {
        None | Some(Value::Null) => "(none)".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(x) => x.to_string(),
    };
    let keys = ["outcome", "grade", "reason", "cause", "note", "serial", "sku", "parcel", "seq"];
    let differing: Vec<String> = keys
        .iter()
        .filter(|k| logged.get(**k) != now.get(**k))
        .map(|k| format!("{k} is {} but the log says {}", field(now, k), field(logged, k)))
        .collect();
    if logged.is_null() {
        return format!(
            "unit {} is in the records, but entry {entry} of the log removed it",
            unit_subject(id)
        );
    }
    format!("unit {}: {} (entry {entry}): changed behind the program", unit_subject(id), differing.join(", "))
}

/// The newest `n` entries' links, for the station's check at start: None when they hold.
pub fn verify_tail(conn: &Connection, n: i64) -> rusqlite::Result<Option<String>> {
    let mut entries: Vec<Entry> = conn
        .prepare(&format!("SELECT {ENTRY_COLUMNS} FROM audit_log ORDER BY id DESC LIMIT ?1"))?
        .query_map([n + 1], entry)?
        .collect::<Result<_, _>>()?;
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

pub fn history(conn: &Connection, record: &Record) -> rusqlite::Result<Vec<Entry>> {
    let select = format!("SELECT {ENTRY_COLUMNS} FROM audit_log");
    match record {
        Record::Unit(u) => conn
            .prepare(&format!("{select} WHERE subject = ?1 ORDER BY id"))?
            .query_map([unit_subject(*u)], entry)?
            .collect(),
        Record::Parcel(p) => conn
            .prepare(&format!(
                "{select} WHERE subject = 'P' || ?1
                    OR subject IN (SELECT DISTINCT printf('U%08d', unit_id) FROM unit_steps WHERE parcel_id = ?1)
                    OR subject IN (SELECT 'R' || id FROM reviews WHERE parcel_id = ?1)
                 ORDER BY id"
            ))?
            .query_map([p], entry)?
            .collect(),
    }
}
