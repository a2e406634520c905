//! A model-based test of the station: a seeded random sequence of what a dock does (parcels,
//! units, outcomes in any order, undo, signatures, refusals, unidentified parcels, bursts,
//! double reads, help, ↑/↓ corrections) across two real station processes in
//! pseudo-terminals, with command-line work on the same database (export, report, review
//! list, imports, overturns), the station's own export, kill -9 at random moments and a write
//! lock held by another program. After every step the database is compared with a model of
//! what the screens confirmed: nothing confirmed is missing, nothing changed that no step
//! aimed at, and every outcome is on the unit the model says it was meant for.
//!
//! One body runs on both engines (see `engines`): the dock's file, and the same file moved to
//! a central database. CI runs a few seeds on each; `RETURNS_DOCK_MODEL_SEEDS=1-200
//! RETURNS_DOCK_MODEL_STEPS=400 cargo test --test station model -- --nocapture` is the longer
//! run (both engines; a failure prints the command that replays its shift).

use super::engines::{Dock, Engine, Replay};
use super::pty::{plans, Plan, Pty};
use returns_dock::store::sql::{args, Sql, SqlExt};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const STATIONS: [&str; 2] = ["ST01", "ST02"];
const BADGES: [&str; 2] = ["OP-DEMO", "OP-BOSS"];
/// How long a station waits for a lock another program holds (the model holds it longer).
const BUSY_MS: &str = "300";

/// A small deterministic generator (xorshift), so that a seed is a reproducible shift.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

#[derive(Debug, Clone)]
struct Unit {
    seq: i64,
    sku: String,
    outcome: Option<String>,
    /// A product in several boxes: (its boxes scanned, the boxes it comes in).
    boxes: Option<(i64, i64)>,
    /// Flagged when scanned (on no line, or one too many): what the model knows of it only
    /// decides whether it may await its boxes, so it is not compared.
    flagged: bool,
}

impl PartialEq for Unit {
    fn eq(&self, o: &Unit) -> bool {
        (self.seq, &self.sku, &self.outcome, self.boxes) == (o.seq, &o.sku, &o.outcome, o.boxes)
    }
}

impl Unit {
    fn new(seq: i64, sku: String, boxes: i64) -> Unit {
        Unit { seq, sku, outcome: None, boxes: (boxes > 1).then_some((1, boxes)), flagged: false }
    }

    /// Still missing some of its boxes, with no outcome.
    fn missing_boxes(&self) -> bool {
        self.outcome.is_none() && self.boxes.is_some_and(|(have, of)| have < of)
    }

    /// Missing boxes on a line that awaits it: it may wait for them in boxes to come (a
    /// flagged one needs its outcome first).
    fn waiting_for_boxes(&self) -> bool {
        self.missing_boxes() && !self.flagged
    }
}

/// The products in several boxes the model adds to the catalog: barcode, SKU, boxes.
const IN_BOXES: [(&str, &str, i64); 2] = [("MBTWO", "MB-2", 2), ("MBTHREE", "MB-3", 3)];

fn boxes_of(code: &str) -> i64 {
    IN_BOXES.iter().find(|(c, _, _)| *c == code).map_or(1, |b| b.2)
}

/// What one station's screen has confirmed of its open parcel.
#[derive(Debug, Default)]
struct Open {
    parcel: i64,
    units: Vec<Unit>,
    /// The unit last scanned or given an outcome, and whether it was picked with ↑/↓.
    current: Option<i64>,
    picked: bool,
    /// Booked in unidentified under this code (an import may bring its RMA while it is open).
    unidentified: Option<String>,
    /// The plan it was opened for.
    plan: Option<Plan>,
}

impl Open {
    /// The model's statement of where an outcome goes (independent of the program's code).
    fn target(&self) -> Option<i64> {
        let cur = self.current.and_then(|c| self.units.iter().find(|u| u.seq == c));
        if let Some(u) = cur {
            if self.picked || u.outcome.is_none() {
                return Some(u.seq);
            }
        }
        self.units.iter().rev().find(|u| u.outcome.is_none()).map(|u| u.seq)
    }
}

struct Model {
    /// Every parcel confirmed: id -> (state, units).
    parcels: BTreeMap<i64, (String, Vec<Unit>)>,
    open: [Option<Open>; 2],
    /// The plans not yet opened, and each plan's RMA by return id.
    waiting: Vec<Plan>,
    /// Returns the screens said await more boxes: return id -> boxes signed so far.
    later: BTreeMap<i64, i64>,
    /// Plans whose return the screens closed (the last box, or every unit in): a duplicate now.
    closed: Vec<Plan>,
    /// The boxes (parcels) signed so far of each return awaiting more.
    boxes: BTreeMap<i64, Vec<i64>>,
}

struct Station {
    pty: Option<Pty>,
    name: &'static str,
    badge: &'static str,
}

fn start(dock: &Dock, s: &mut Station) {
    let mut pty = dock.station(s.name, &[("RETURNS_DOCK_BUSY_TIMEOUT_MS", BUSY_MS)]);
    assert!(pty.wait_for("Scan your badge", Duration::from_secs(30)), "{}", pty.contents());
    let band = pty.step(s.badge);
    assert!(band.contains("Signed in") || band.contains("resumed"), "{band}");
    s.pty = Some(pty);
}

/// The feedback band, both of its lines (a long answer wraps).
fn band(pty: &Pty) -> String {
    let screen = pty.contents();
    screen.lines().skip(1).take(2).map(str::trim_end).collect::<Vec<_>>().join(" ")
}

/// Sends `bytes` and waits for the band to change (at most `within`); the band after.
fn send(pty: &mut Pty, bytes: &[u8], within: Duration) -> String {
    send_past(pty, bytes, within, &[])
}

/// As `send`, and a band in `stale` is not yet the answer either: help covers the band, and
/// the first character of a scan closes it, so the band shown under it comes back before the
/// scan's own answer does.
fn send_past(pty: &mut Pty, bytes: &[u8], within: Duration, stale: &[&str]) -> String {
    let before = band(pty);
    pty.send(bytes);
    let start = Instant::now();
    while start.elapsed() < within {
        let now = band(pty);
        if now != before && !stale.contains(&now.as_str()) {
            // A band that is still being drawn settles within a moment.
            std::thread::sleep(Duration::from_millis(5));
            return band(pty);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    band(pty)
}

fn scan(pty: &mut Pty, code: &str) -> String {
    send(pty, format!("{code}\r").as_bytes(), Duration::from_secs(5))
}

/// A scan the screen lets go quietly: the band stays, so there is no answer to wait for the
/// full time; it is given the double-read window, so that the next scan is taken as new.
fn quiet(pty: &mut Pty, code: &str) -> String {
    send(pty, format!("{code}\r").as_bytes(), Duration::from_millis(150))
}

/// The unit a unit scan's band says was recorded; None when none was (an error, or the same
/// code again within the double-read window).
fn new_unit(band: &str) -> Option<i64> {
    if band.contains("ERROR") || band.contains("read twice") {
        return None;
    }
    unit_in(band)
}

/// The number after `Unit ` in a band: which unit the screen says it acted on.
fn unit_in(band: &str) -> Option<i64> {
    let rest = &band[band.find("Unit ")? + 5..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

fn db_parcels(db: &dyn Sql) -> BTreeMap<i64, (String, Vec<Unit>)> {
    let mut out = BTreeMap::new();
    let ids: Vec<(i64, String)> =
        db.map("SELECT id, state FROM parcels ORDER BY id", args![], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    for (id, state) in ids {
        let units = db
            .map(
                "SELECT seq, coalesce(sku, ''), outcome, boxes_in, (SELECT p.boxes FROM products p WHERE p.sku = u.sku),
                        discrepancy IS NOT NULL
                 FROM units u WHERE parcel_id = ?1 ORDER BY seq",
                args![id],
                |r| {
                    let boxes = r.get::<Option<i64>>(3)?.zip(r.get::<Option<i64>>(4)?);
                    Ok(Unit { seq: r.get(0)?, sku: r.get(1)?, outcome: r.get(2)?, boxes, flagged: r.get(5)? })
                },
            )
            .unwrap();
        out.insert(id, (state, units));
    }
    out
}

/// The model's parcels with the open ones' units as the screens confirmed them.
fn expected(m: &Model) -> BTreeMap<i64, (String, Vec<Unit>)> {
    let mut out = m.parcels.clone();
    for o in m.open.iter().flatten() {
        out.insert(o.parcel, ("open".into(), o.units.clone()));
    }
    out
}

fn check(db: &dyn Sql, m: &Model, step: usize, what: &str, log: &[String]) {
    // Each return's receipt counts its boxes, and is open while the screens said more come.
    let miscounted: i64 = db
        .one(
            "SELECT count(*) FROM return_receipts x WHERE x.boxes <> (SELECT count(*) FROM parcel_returns pr
                 JOIN parcels p ON p.id = pr.parcel_id WHERE pr.return_id = x.return_id AND p.state <> 'open')",
            args![],
        )
        .unwrap();
    assert_eq!(
        miscounted, 0,
        "after step {step} ({what}): receipts whose boxes are not their closed parcels"
    );
    let closed_at = |rid: i64| -> Option<Option<String>> {
        db.value("SELECT closed_at FROM return_receipts WHERE return_id = ?1", args![rid]).unwrap()
    };
    for (rid, boxes) in &m.later {
        assert_eq!(closed_at(*rid), Some(None), "after step {step} ({what}): return {rid} awaits more boxes");
        let n: i64 = db.one("SELECT boxes FROM return_receipts WHERE return_id = ?1", args![rid]).unwrap();
        assert_eq!(n, *boxes, "after step {step} ({what}): the boxes of return {rid}");
    }
    for p in &m.closed {
        assert!(
            matches!(closed_at(p.return_id), Some(Some(_))),
            "after step {step} ({what}): {} was closed on screen",
            p.rma
        );
    }
    let found = db_parcels(db);
    let want = expected(m);
    if found != want {
        let diff: Vec<String> = want
            .keys()
            .chain(found.keys())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .filter(|k| want.get(k) != found.get(k))
            .map(|k| format!("P{k}: model {:?}\n      db    {:?}", want.get(k), found.get(k)))
            .collect();
        panic!(
            "after step {step} ({what}) the database differs from what the screens confirmed:\n{}\nlast steps:\n{}",
            diff.join("\n"),
            log.iter().rev().take(12).rev().cloned().collect::<Vec<_>>().join("\n")
        );
    }
}

/// The return's newest box.
fn parcel_of(db: &dyn Sql, return_id: i64) -> Option<i64> {
    db.value(
        "SELECT parcel_id FROM parcel_returns WHERE return_id = ?1 ORDER BY parcel_id DESC LIMIT 1",
        args![return_id],
    )
    .unwrap()
}

/// How long after a scan a kill "in flight" may come (ms): a step takes about twice as long
/// on the server, so its window is wider there, to reach the step's commit as often.
fn kill_window(engine: Engine) -> usize {
    match engine {
        Engine::Sqlite => 15,
        Engine::Postgres => 45,
    }
}

/// The command line on the station's database, as the supervisor (PIN 1357).
fn cli(dock: &Dock, args: &[&str]) -> std::process::Output {
    dock.cli("1357", args)
}

/// One seeded shift of `steps` steps on `engine`.
fn shift(engine: Engine, seed: u64, steps: usize) {
    let dock = Dock::generated(engine, 150);
    let db = dock.db();
    let out = cli(
        &dock,
        &["users", "add", "--id", "BOSS", "--name", "Boss", "--role", "supervisor", "--pin", "1357"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut m = Model {
        parcels: BTreeMap::new(),
        open: [None, None],
        waiting: plans(db, 60, false),
        later: BTreeMap::new(),
        closed: Vec::new(),
        boxes: BTreeMap::new(),
    };
    // Returns of products in several boxes (a bench in two, a trampoline in three), one unit
    // each: their boxes come one scan at a time, in one parcel or several.
    let catalog = dock.file("in-boxes.csv");
    let rows: String =
        IN_BOXES.iter().map(|(code, sku, n)| format!("{sku},{sku} in {n} boxes,{code},{n}\n")).collect();
    std::fs::write(&catalog, format!("sku,name,barcodes,boxes\n{rows}")).unwrap();
    let out = cli(&dock, &["import", "catalog", catalog.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let returns = dock.file("in-boxes-returns.csv");
    let rows: String = (0..8)
        .map(|i| {
            let (_, sku, _) = IN_BOXES[i % 2];
            format!("RMA-MB-{seed}-{i},SO-MB-{seed}-{i},MBT{seed:04}{i:04},{sku},1\n")
        })
        .collect();
    std::fs::write(&returns, format!("rma_no,order_no,tracking_no,sku,qty\n{rows}")).unwrap();
    let out = cli(&dock, &["import", "returns", returns.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for i in 0..8 {
        let rma = format!("RMA-MB-{seed}-{i}");
        let return_id: i64 = db.one("SELECT id FROM returns WHERE rma_no = ?1", args![rma]).unwrap();
        let (code, _, n) = IN_BOXES[i % 2];
        m.waiting.insert(2 * i, Plan { rma, return_id, units: vec![(code.to_string(), None); n as usize] });
    }
    // Random scans are of products in one box; the boxes of the others come with their returns.
    let all_codes: Vec<String> = m
        .waiting
        .iter()
        .flat_map(|p| p.units.iter().map(|u| u.0.clone()))
        .filter(|c| boxes_of(c) == 1)
        .collect();
    // Each station's bench camera saves into a folder of its own (`{station}` in the one
    // configuration), taken as soon as it is seen.
    std::fs::write(dock.file("returns-dock.toml"), "[photos]\ninbox = \"camera-{station}\"\nsettle_ms = 0\n")
        .unwrap();
    // The photos the screens confirmed: (its picture's SHA-256, the parcel, the unit's number).
    let mut photos: Vec<(String, i64, Option<i64>)> = Vec::new();
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut st = [
        Station { pty: None, name: STATIONS[0], badge: BADGES[0] },
        Station { pty: None, name: STATIONS[1], badge: BADGES[1] },
    ];
    for s in st.iter_mut() {
        start(&dock, s);
    }
    let mut log: Vec<String> = Vec::new();
    let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
    for step in 0..steps {
        let k = rng.below(2);
        let roll = rng.below(100);
        let what: &str;
        let open = m.open[k].is_some();
        let pty = st[k].pty.as_mut().unwrap();
        let sku_of = |code: &str| -> String {
            // A barcode is kept as scanned or as its 14-digit GTIN.
            db.value(
                "SELECT sku FROM product_barcodes WHERE code = ?1 OR code = ?2",
                args![code, format!("{code:0>14}")],
            )
            .unwrap()
            .unwrap_or_default()
        };
        if roll < 5 {
            // The command line reads and exports while the stations work.
            what = "cli";
            let args: &[&str] = match rng.below(3) {
                0 => &["report", "feedback"],
                1 => &["review", "list"],
                _ => &["export", "--out", "x.csv"],
            };
            let out = cli(&dock, args);
            assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        } else if roll < 8 && k == 1 {
            // The supervisor's own export, on its worker thread.
            what = "station export";
            let mut started = send(pty, b"\x05", Duration::from_secs(5));
            // Supervisor functions need the PIN unless this supervisor's session is open.
            if pty.contents().contains("export this station") {
                started = scan(pty, "1357");
                if !started.contains("Export") {
                    started = send(pty, b"", Duration::from_secs(5));
                }
            }
            // Its answer comes later, on its own; wait for it, so that it is not taken for the
            // next step's answer.
            let done = if started.contains("Export started") {
                send(pty, b"", Duration::from_secs(30))
            } else {
                started
            };
            assert!(done.contains("Export done"), "step {step}: {done}");
        } else if roll < 11 {
            // A supervisor overturns a refusal from the command line.
            what = "overturn";
            let r: Option<(i64, i64, i64)> = db
                .row(
                    "SELECT v.id, u.parcel_id, u.seq FROM reviews v JOIN units u ON u.id = v.unit_id
                         WHERE v.decision IS NULL AND v.kind = 'refused_unit' ORDER BY v.id LIMIT 1",
                    args![],
                )
                .unwrap()
                .map(|r| (r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap()));
            if let Some((id, parcel, seq)) = r {
                let rid = id.to_string();
                let out = cli(
                    &dock,
                    &[
                        "review",
                        "decide",
                        &rid,
                        "overturn",
                        "--by",
                        "BOSS",
                        "--outcome",
                        "scrap",
                        "--comment",
                        "model",
                    ],
                );
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                let units = &mut m.parcels.get_mut(&parcel).expect("a closed parcel").1;
                units.iter_mut().find(|u| u.seq == seq).unwrap().outcome = Some("scrap".into());
            }
        } else if roll < 14 {
            // An import during the shift: a new return, or the RMA of a parcel a station has
            // open as unidentified (linked while it is on screen).
            let n = seed * 100_000 + step as u64;
            let rma = format!("RMA-M-{n}");
            let target = m.open.iter().flatten().find_map(|o| o.unidentified.clone());
            what = if target.is_some() { "import linking an open parcel" } else { "import" };
            let code = all_codes[rng.below(all_codes.len())].clone();
            let sku = sku_of(&code);
            let tracking = target.clone().unwrap_or_else(|| format!("YT8{n:012}"));
            let file = dock.file(&format!("m{n}.csv"));
            std::fs::write(
                &file,
                format!("rma_no,order_no,tracking_no,sku,qty\n{rma},SO-M-{n},{tracking},{sku},1\n"),
            )
            .unwrap();
            let out = cli(&dock, &["import", "returns", file.to_str().unwrap()]);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let return_id: i64 = db.one("SELECT id FROM returns WHERE rma_no = ?1", args![rma]).unwrap();
            if target.is_some() {
                for o in m.open.iter_mut().flatten() {
                    if o.unidentified.as_deref() == Some(tracking.as_str()) {
                        o.unidentified = None;
                    }
                }
            } else {
                m.waiting.insert(0, Plan { rma, return_id, units: vec![(code, None)] });
            }
        } else if !open {
            if rng.below(100) < 25 {
                // A parcel nobody expects, booked in.
                what = "unidentified";
                let code = format!("YT9{:012}", seed * 100_000 + step as u64);
                scan(pty, &code);
                let band = scan(pty, "CMD-UNIDENTIFIED");
                if band.contains("unidentified parcel P") {
                    let id: i64 =
                        band.split("parcel P").nth(1).unwrap().split(':').next().unwrap().parse().unwrap();
                    m.open[k] = Some(Open { parcel: id, unidentified: Some(code), ..Open::default() });
                }
            } else if !m.closed.is_empty() && rng.chance(10) {
                // A box of a return the screens closed: a duplicate, said at once.
                what = "closed return again";
                let plan = m.closed[rng.below(m.closed.len())].clone();
                let band = scan(pty, &plan.rma);
                assert!(band.contains("DUPLICATE"), "step {step}: {} is closed: {band}", plan.rma);
            } else {
                what = "parcel";
                if m.waiting.is_empty() {
                    continue;
                }
                let i = rng.below(m.waiting.len().min(4));
                let plan = m.waiting[i].clone();
                let band = scan(pty, &plan.rma);
                let later = m.later.get(&plan.return_id).copied();
                if let Some(boxes) = later {
                    // A later box of a return awaiting more: never a duplicate.
                    assert!(
                        band.contains(&format!("Box {} of {}", boxes + 1, plan.rma)),
                        "step {step}: {band}"
                    );
                }
                if band.contains("Parcel received") || later.is_some() {
                    m.waiting.remove(i);
                    let id = parcel_of(db, plan.return_id).expect("the parcel the screen confirmed");
                    m.open[k] = Some(Open { parcel: id, plan: Some(plan), ..Open::default() });
                } else if band.contains("open at station") || band.contains("DUPLICATE") {
                    m.waiting.remove(i);
                } else {
                    panic!("step {step}: {} gave {band}", plan.rma);
                }
            }
        } else {
            let o = m.open[k].as_mut().unwrap();
            let code = all_codes[rng.below(all_codes.len())].clone();
            if roll < 30 {
                what = "unit";
                // Half the time a unit the return expects, so that returns fill and close.
                let planned = o.plan.as_ref().map(|p| p.units.clone()).unwrap_or_default();
                let code = match planned.len() {
                    n if n > 0 && rng.chance(50) => planned[rng.below(n)].0.clone(),
                    _ => code,
                };
                let band = scan(pty, &code);
                let of = boxes_of(&code);
                let sku = sku_of(&code);
                // The model's statement of where a box goes: the unit of this parcel still
                // missing boxes, else one awaiting them in an earlier box of this return (it
                // moves here), else a new unit.
                let here = o.units.iter().position(|u| u.sku == sku && u.missing_boxes());
                let earlier = o.plan.as_ref().and_then(|p| m.boxes.get(&p.return_id)).and_then(|boxes| {
                    boxes.iter().find_map(|b| {
                        let units = &m.parcels.get(b)?.1;
                        units.iter().position(|u| u.sku == sku && u.missing_boxes()).map(|i| (*b, i))
                    })
                });
                if band.contains("read twice") || band.contains("ERROR") {
                    // Nothing recorded.
                } else if let (true, Some(i)) = (of > 1, here) {
                    let u = &mut o.units[i];
                    let (have, n) = u.boxes.unwrap();
                    u.boxes = Some((have + 1, n));
                    let said = format!("Unit {} {sku}: box {} of {n}", u.seq, have + 1);
                    assert!(band.contains(&said), "step {step}: {said}: {band}");
                    *tally.entry("a box of a unit").or_default() += 1;
                    o.current = Some(u.seq);
                    o.picked = false;
                } else if let (true, Some((from, i))) = (of > 1, earlier) {
                    let mut u = m.parcels.get_mut(&from).unwrap().1.remove(i);
                    let (have, n) = u.boxes.unwrap();
                    u.boxes = Some((have + 1, n));
                    u.seq = o.units.iter().map(|u| u.seq).max().unwrap_or(0) + 1;
                    let said = format!("Unit {} {sku}: box {} of {n}", u.seq, have + 1);
                    assert!(band.contains(&said), "step {step}: {said}, moved from P{from}: {band}");
                    *tally.entry("a box of a unit from an earlier parcel").or_default() += 1;
                    o.current = Some(u.seq);
                    o.picked = false;
                    o.units.push(u);
                } else if let Some(n) = new_unit(&band) {
                    assert_eq!(n as usize, o.units.len() + 1, "step {step}: {band}");
                    let mut u = Unit::new(n, sku, of);
                    u.flagged = ["ONE TOO MANY", "UNEXPECTED", "WRONG ITEM"].iter().any(|f| band.contains(f));
                    o.units.push(u);
                    o.current = Some(n);
                    o.picked = false;
                }
            } else if roll < 36 {
                // A scanner that re-reads: the same code twice in one burst is one unit.
                what = "double read";
                let band = send(pty, format!("{code}\r{code}\r").as_bytes(), Duration::from_secs(5));
                // A new unit, once (the band may still show the unit before, with "read twice"
                // when this code was also the last one scanned).
                let fresh =
                    unit_in(&band).filter(|n| !band.contains("ERROR") && *n as usize == o.units.len() + 1);
                if let Some(n) = fresh {
                    assert!(band.contains("read twice"), "step {step}: {band}");
                    o.units.push(Unit::new(n, sku_of(&code), 1));
                    o.current = Some(n);
                    o.picked = false;
                }
            } else if roll < 41 {
                // A batch scanner's upload: three units and their accepts in one write.
                what = "burst";
                let codes: Vec<String> =
                    (0..3).map(|_| all_codes[rng.below(all_codes.len())].clone()).collect();
                let burst: String = codes.iter().map(|c| format!("{c}\rCMD-ACCEPT\r")).collect();
                // Its first code may be the one scanned last: not within the double-read window.
                std::thread::sleep(Duration::from_millis(110));
                pty.send(burst.as_bytes());
                let n0 = o.units.len() as i64;
                let want = n0 + 3;
                let start = Instant::now();
                while start.elapsed() < Duration::from_secs(10) {
                    let c: i64 = db
                        .one(
                            "SELECT count(*) FROM units WHERE parcel_id = ?1 AND seq > ?2 AND outcome = 'accept'",
                            args![o.parcel, n0],
                        )
                        .unwrap();
                    if c == 3 {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                std::thread::sleep(Duration::from_millis(30));
                for (j, c) in codes.iter().enumerate() {
                    o.units.push(Unit {
                        seq: n0 + 1 + j as i64,
                        sku: sku_of(c),
                        outcome: Some("accept".into()),
                        boxes: None,
                        flagged: false,
                    });
                }
                o.current = Some(want);
                o.picked = false;
            } else if roll < 62 {
                what = "outcome";
                let (cmd, word, reason) = match rng.below(6) {
                    0 | 1 => ("CMD-ACCEPT", "accept", None),
                    2 => ("CMD-SECOND-HAND-B", "second_hand", Some("CMD-REASON-OPENED")),
                    3 => ("CMD-SCRAP", "scrap", Some("CMD-REASON-DEFECTIVE")),
                    4 => ("CMD-RETURN-TO-SUPPLIER", "return_to_supplier", Some("CMD-REASON-DEFECTIVE")),
                    _ => ("CMD-REFUSE", "refuse", Some("CMD-REASON-USED")),
                };
                let target = o.target();
                // The same command again at once would be a double read: a person is slower.
                std::thread::sleep(Duration::from_millis(110));
                let mut band = scan(pty, cmd);
                if let Some(r) = reason.filter(|_| target.is_some()) {
                    band = scan(pty, r);
                }
                let incomplete = target
                    .and_then(|t| o.units.iter().find(|u| u.seq == t))
                    .is_some_and(|u| u.boxes.is_some_and(|(have, of)| have < of));
                match target {
                    // Accepted means complete: a unit missing boxes keeps what it had.
                    Some(t) if incomplete && word == "accept" => {
                        let said = format!("Unit {t} has");
                        assert!(
                            band.contains(&said) && band.contains("accept needs every box"),
                            "step {step}: {band}"
                        );
                    }
                    Some(t) => {
                        let recent = log.iter().rev().take(10).rev().cloned().collect::<Vec<_>>().join("\n");
                        assert_eq!(
                            unit_in(&band),
                            Some(t),
                            "step {step}: {cmd} on unit {t}: {band}\nlast steps:\n{recent}"
                        );
                        o.units.iter_mut().find(|u| u.seq == t).unwrap().outcome = Some(word.into());
                        o.current = Some(t);
                        o.picked = false;
                    }
                    None if o.units.is_empty() => assert!(band.contains("Scan a unit first"), "{band}"),
                    None => assert!(band.contains("Every unit has an outcome"), "step {step}: {band}"),
                }
            } else if roll < 64 {
                // A photo saved into the station's camera folder goes to the unit current on
                // the model's reckoning (the one last scanned, given an outcome or picked),
                // else to the parcel; the band names it, and the database has it there.
                what = "photo";
                let n = photos.len() as u32;
                let img = image::RgbImage::from_fn(4, 4, |x, y| {
                    image::Rgb([(n >> 8) as u8, n as u8, (x * 4 + y) as u8])
                });
                let mut bytes = std::io::Cursor::new(Vec::new());
                img.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
                let bytes = bytes.into_inner();
                let sha = returns_dock::evidence::picture::sha256_hex(&bytes);
                let inbox = dock.file(&format!("camera-{}", STATIONS[k]));
                let part = inbox.join(format!("IMG_{n}.png.part"));
                std::fs::write(&part, &bytes).unwrap();
                let before = band(pty);
                std::fs::rename(&part, inbox.join(format!("IMG_{n}.png"))).unwrap();
                let start = Instant::now();
                while band(pty) == before && start.elapsed() < Duration::from_secs(10) {
                    std::thread::sleep(Duration::from_millis(2));
                }
                std::thread::sleep(Duration::from_millis(5));
                let said = band(pty);
                let to_unit = o.current.filter(|c| o.units.iter().any(|u| u.seq == *c));
                let expected = match to_unit {
                    Some(u) => format!("attached to unit {u}"),
                    None => "attached to the parcel".to_string(),
                };
                assert!(said.contains(&expected), "step {step}: photo {n}: expected {expected}: {said}");
                let on: Option<(i64, Option<i64>)> = db
                    .row(
                        "SELECT f.parcel_id, u.seq FROM photos f LEFT JOIN units u ON u.id = f.unit_id WHERE f.sha256 = ?1",
                        args![sha],
                    )
                    .unwrap()
                    .map(|r| (r.get(0).unwrap(), r.get(1).unwrap()));
                assert_eq!(on, Some((o.parcel, to_unit)), "step {step}: photo {n}: {said}");
                photos.push((sha, o.parcel, to_unit));
            } else if roll < 67 && !o.units.is_empty() {
                // ↑ picks a unit on the list; the next outcome corrects it.
                what = "pick";
                let from = o.target().or(o.current).unwrap_or(o.units.last().unwrap().seq);
                let at = o.units.iter().position(|u| u.seq == from).unwrap_or(o.units.len() - 1);
                let next = (at + 1) % o.units.len();
                pty.send(b"\x1b[A");
                std::thread::sleep(Duration::from_millis(60));
                o.current = Some(o.units[next].seq);
                o.picked = true;
            } else if roll < 72 {
                what = "undo";
                std::thread::sleep(Duration::from_millis(110)); // not a double read of the last undo
                let band = scan(pty, "CMD-UNDO");
                // The model's last step: replayed from the history the screens confirmed is
                // beyond a small model, so the database's answer is checked for its shape and
                // then taken: the unit named, removed or its outcome taken back.
                let fresh = db_parcels(db).remove(&o.parcel).unwrap().1;
                if band.contains("taken off") {
                    assert_eq!(fresh.len() + 1, o.units.len(), "step {step}: {band}");
                } else if band.contains("last box of unit") {
                    // A box taken back: the unit had more than one here, or goes home to the
                    // box of the return its other boxes came in. Like a unit's scan taken
                    // back, the next outcome goes by the list again.
                    let n = unit_in(&band.replace("unit ", "Unit ")).unwrap();
                    let before = o.units.iter().find(|u| u.seq == n).unwrap();
                    assert!(before.boxes.is_some_and(|(have, _)| have > 1), "step {step}: {band}");
                    *tally.entry("a box taken back").or_default() += 1;
                    if let Some(boxes) = o.plan.as_ref().and_then(|p| m.boxes.get(&p.return_id)) {
                        let now = db_parcels(db);
                        for b in boxes {
                            m.parcels.insert(*b, now[b].clone());
                        }
                    }
                } else if band.contains("taken back") {
                    let n = unit_in(&band.replace("unit ", "Unit ")).unwrap();
                    let before = o.units.iter().find(|u| u.seq == n).unwrap();
                    assert!(before.outcome.is_some(), "step {step}: {band}");
                } else {
                    assert!(band.contains("Nothing") || band.contains("nothing"), "step {step}: {band}");
                }
                o.units = fresh;
                o.current = o.units.last().map(|u| u.seq);
                if let Some(n) = unit_in(&band.replace("unit ", "Unit "))
                    .filter(|_| band.contains("taken back") && !band.contains("last box of unit"))
                {
                    o.current = Some(n);
                }
                o.picked = false;
            } else if roll < 76 {
                // Help open, then a scan: its first character is not lost.
                what = "help";
                let under = band(pty);
                pty.send(b"\x1bOP");
                // Open before the scan is sent (a fixed pause was once too short on a busy machine).
                assert!(
                    pty.wait_for("Keys and commands", Duration::from_secs(5)),
                    "step {step}: help: {}",
                    pty.contents()
                );
                let band = send_past(pty, format!("{code}\r").as_bytes(), Duration::from_secs(5), &[&under]);
                if let Some(n) = new_unit(&band) {
                    o.units.push(Unit::new(n, sku_of(&code), 1));
                    o.current = Some(n);
                    o.picked = false;
                }
            } else if roll < 82 {
                // Another program holds the write lock past the station's timeout.
                what = "locked";
                let lock = dock.hold_write_lock();
                let band = scan(pty, &code);
                drop(lock);
                if !band.contains("read twice") {
                    assert!(band.contains("NOT SAVED"), "step {step}: {band}");
                }
            } else if roll < 85 {
                what = "refuse parcel";
                scan(pty, "CMD-REFUSE-PARCEL");
                let band = scan(pty, "CMD-REASON-OUTSIDE-POLICY");
                assert!(band.contains("refused"), "step {step}: {band}");
                let o = m.open[k].take().unwrap();
                let mut units = o.units.clone();
                if let Some(plan) = o.plan.clone() {
                    // A unit whose other boxes came in an earlier box of the return goes home
                    // to it, refused for missing parts: those boxes are taken from the database,
                    // and every other unit must still be in the refused box.
                    if let Some(boxes) = m.boxes.get(&plan.return_id) {
                        let now = db_parcels(db);
                        for b in boxes {
                            m.parcels.insert(*b, now[b].clone());
                        }
                        let stayed = now[&o.parcel].1.clone();
                        for u in units.iter().filter(|u| u.boxes.is_none()) {
                            assert!(
                                stayed.iter().any(|s| s.seq == u.seq),
                                "step {step}: unit {} left the box",
                                u.seq
                            );
                        }
                        units = stayed;
                    }
                    m.later.remove(&plan.return_id);
                    m.closed.push(plan);
                }
                m.parcels.insert(o.parcel, ("refused".into(), units));
            } else if roll < 92 {
                let mut band = scan(pty, "CMD-SIGN");
                // Units of the return not in the box: the last box, or more to come.
                let asked = band.contains("Last box?");
                let more = asked && rng.chance(50);
                what = match (asked, more) {
                    (true, true) => "sign, more boxes to come",
                    (true, false) => "sign, last box",
                    _ => "sign",
                };
                let waiting = o.units.iter().filter(|u| u.waiting_for_boxes()).count();
                let all_done = o.units.iter().all(|u| u.outcome.is_some() || u.waiting_for_boxes());
                if waiting > 0 && all_done {
                    assert!(asked, "step {step}: units missing boxes, and no last-box question: {band}");
                }
                if more {
                    std::thread::sleep(Duration::from_millis(110));
                    band = scan(pty, "CMD-SIGN");
                } else if band.contains("CONFIRM") {
                    band = scan(pty, "CMD-CONFIRM");
                }
                // The last box, while a unit misses boxes: refused, and the parcel stays open.
                if asked && !more && waiting > 0 {
                    let said = if waiting == 1 {
                        "1 unit misses boxes".to_string()
                    } else {
                        format!("{waiting} units miss boxes")
                    };
                    assert!(band.contains(&said), "step {step}: {band}");
                    scan(pty, "CMD-CANCEL");
                    *tally.entry("last box refused: units miss boxes").or_default() += 1;
                    log.push(format!("{step:3} {} last box refused: {band}", STATIONS[k]));
                    check(db, &m, step, what, &log);
                    continue;
                }
                // Linked by an import while on screen: what stands now is shown, then signed.
                if band.contains("changed meanwhile") {
                    std::thread::sleep(Duration::from_millis(110));
                    band = scan(pty, "CMD-CONFIRM");
                }
                if all_done {
                    assert!(band.contains("signed"), "step {step}: {band}");
                    let o = m.open[k].take().unwrap();
                    if let Some(plan) = o.plan.clone() {
                        let boxes = m.later.remove(&plan.return_id).unwrap_or(0) + 1;
                        if more && band.contains(&format!("{} awaits", plan.rma)) {
                            // Its next box comes later, as a box of the same return.
                            m.later.insert(plan.return_id, boxes);
                            m.boxes.entry(plan.return_id).or_default().push(o.parcel);
                            m.waiting.insert(0, plan);
                        } else if !band.contains("changed meanwhile") {
                            m.closed.push(plan);
                        }
                    }
                    m.parcels.insert(o.parcel, ("signed".into(), o.units));
                } else {
                    assert!(band.contains("Cannot sign"), "step {step}: {band}");
                    // The first unit without an outcome is named and selected: the next
                    // outcome goes to it.
                    let first = o
                        .units
                        .iter()
                        .filter(|u| u.outcome.is_none() && !u.waiting_for_boxes())
                        .map(|u| u.seq)
                        .min();
                    let named = unit_in(&band.replace("unit ", "Unit "));
                    assert_eq!(named, first, "step {step}: {band}");
                    if let Some(n) = named {
                        o.current = Some(n);
                        o.picked = true;
                    }
                    // Esc by habit: nothing to leave, so let go quietly (the unit stays selected).
                    let after = quiet(pty, "CMD-CANCEL");
                    assert_eq!(after, band, "step {step}: Esc with nothing to leave");
                }
            } else {
                // Killed at a random moment: idle, or a scan sent and not yet answered.
                what = "kill";
                let in_flight = rng.chance(50);
                if in_flight {
                    pty.send(format!("{code}\r").as_bytes());
                    std::thread::sleep(Duration::from_millis(rng.below(kill_window(engine)) as u64));
                }
                dock.killed(st[k].pty.take().unwrap(), STATIONS[k]);
                if in_flight {
                    // At most the one step in flight is added: a unit with the next number.
                    let fresh = db_parcels(db).remove(&o.parcel).unwrap().1;
                    assert!(
                        fresh.len() == o.units.len() || fresh.len() == o.units.len() + 1,
                        "step {step}: {} units on disk, {} confirmed",
                        fresh.len(),
                        o.units.len()
                    );
                    assert_eq!(fresh[..o.units.len()], o.units[..], "step {step}: confirmed units kept");
                    o.units = fresh;
                }
                start(&dock, &mut st[k]);
                o.current = o.units.last().map(|u| u.seq);
                o.picked = false;
            }
        }
        *tally.entry(what).or_default() += 1;
        log.push(format!(
            "{step:3} {} {what}: {}",
            STATIONS[k],
            st[k].pty.as_ref().map(band).unwrap_or_default()
        ));
        if std::env::var_os("RETURNS_DOCK_MODEL_VERBOSE").is_some() {
            eprintln!("{}", log.last().unwrap());
        }
        check(db, &m, step, what, &log);
    }
    screen_label_and_export_agree(&dock);
    // Every photo a screen confirmed is kept, once, whatever came after (undo, kills, locks).
    for (sha, parcel, _) in &photos {
        let kept: i64 = db
            .one("SELECT count(*) FROM photos WHERE sha256 = ?1 AND parcel_id = ?2", args![sha, parcel])
            .unwrap();
        assert_eq!(kept, 1, "seed {seed}: photo {sha} of P{parcel}");
    }
    // After two stations, the command line, kills and outside locks, the log still proves the
    // records: every unit and decision is what its entries say, and the chain is whole.
    let verify = cli(&dock, &["audit", "verify"]);
    assert!(
        verify.status.success(),
        "seed {seed}: audit verify after the shift: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    eprintln!("model seed {seed}: {steps} steps, {} parcels closed; {tally:?}", m.parcels.len());
}

/// At the end of a shift, for every unit of a closed parcel: the export's row and the unit's
/// label say the outcome the database (checked against the screens at every step) holds.
fn screen_label_and_export_agree(dock: &Dock) {
    let out = dock.file("end.csv");
    let done = cli(dock, &["export", "--all", "--out", out.to_str().unwrap()]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let bytes = std::fs::read(&out).unwrap();
    let mut reader = csv::Reader::from_reader(bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes));
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (unit_col, outcome_col, grade_col) = (col("unit_id"), col("outcome"), col("grade"));
    let exported: BTreeMap<String, (String, String)> = reader
        .records()
        .map(Result::unwrap)
        .filter(|c| !c[unit_col].is_empty())
        .map(|c| (c[unit_col].to_string(), (c[outcome_col].to_string(), c[grade_col].to_string())))
        .collect();
    let units: Vec<(i64, Option<String>, Option<String>, String)> = dock
        .db()
        .map(
            "SELECT u.id, u.outcome, u.grade, p.state FROM units u JOIN parcels p ON p.id = u.parcel_id
             WHERE p.state <> 'open'
               -- A unit awaiting some of its boxes is exported once it has its outcome.
               AND NOT (p.state = 'signed' AND u.outcome IS NULL
                        AND u.boxes_in < (SELECT x.boxes FROM products x WHERE x.sku = u.sku))
             ORDER BY u.id",
            args![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    for (i, (id, outcome, grade, state)) in units.iter().enumerate() {
        let label = format!("U{id:08}");
        let Some((o, g)) = exported.get(&label) else { panic!("{label} is not in the export") };
        let want =
            outcome
                .clone()
                .unwrap_or_else(|| if state == "refused" { "refuse".into() } else { String::new() });
        assert_eq!((o, g), (&want, &grade.clone().unwrap_or_default()), "{label}: export against database");
        // The labels of a sample of units, as the printer would get them.
        if i % 7 == 0 {
            if let Some(outcome) = outcome {
                let zpl = cli(dock, &["labels", "unit", &label, "--format", "zpl"]);
                let zpl = String::from_utf8_lossy(&zpl.stdout).to_string();
                use returns_dock::domain::codes::{Coded, Outcome};
                let words = Outcome::from_code(outcome).unwrap().en().to_uppercase();
                assert!(zpl.contains(&words), "{label}: the label says {words}: {zpl}");
            }
        }
    }
}

/// The seeds to run: `RETURNS_DOCK_MODEL_SEEDS` (`1,2`, `1-200`), else `default`.
fn seeds(default: &str) -> Vec<u64> {
    let spec = std::env::var("RETURNS_DOCK_MODEL_SEEDS").unwrap_or_else(|_| default.into());
    spec.split(',')
        .flat_map(|part| match part.split_once('-') {
            Some((a, b)) => (a.trim().parse().unwrap()..=b.trim().parse().unwrap()).collect::<Vec<u64>>(),
            None => vec![part.trim().parse().unwrap()],
        })
        .collect()
}

/// The shifts of `seeds`, of `RETURNS_DOCK_MODEL_STEPS` steps or else `steps`, on `engine`;
/// a failure says the command that replays its shift.
fn shifts(engine: Engine, test: &str, default_seeds: &str, steps: usize) {
    let steps = std::env::var("RETURNS_DOCK_MODEL_STEPS").ok().and_then(|s| s.parse().ok()).unwrap_or(steps);
    for seed in seeds(default_seeds) {
        let _replay = Replay(format!(
            "RETURNS_DOCK_MODEL_SEEDS={seed} RETURNS_DOCK_MODEL_STEPS={steps} cargo test --test station model::{test} -- --nocapture"
        ));
        shift(engine, seed, steps);
    }
}

#[test]
fn random_shifts_match_what_the_screens_confirmed() {
    shifts(Engine::Sqlite, "random_shifts_match_what_the_screens_confirmed", "1,2", 120);
}

/// The same model on a central database, with seeds of its own: the dock's file moved there
/// with `db copy`, the stations and the command line given its address, another program's
/// write lock held on its tables, kills that cut a session mid-transaction.
#[test]
fn random_shifts_on_the_central_database_match_what_the_screens_confirmed() {
    shifts(
        Engine::Postgres,
        "random_shifts_on_the_central_database_match_what_the_screens_confirmed",
        "3",
        120,
    );
}
