//! Carries out the state machine's effects against the database and answers with messages.
//! Every write is committed before its answer comes back, so the band the operator then sees
//! confirms something that is on disk.

use super::app::{DockInfo, Effect, Msg};
use crate::labels::printer::Printer;
use crate::labels::queue::{Job, PrintNews, PrintQueue};
use crate::labels::zpl::{LabelSize, UnitLabel};
use crate::store::station::{self as st, Actor, ParcelView};
use crate::store::{timestamp, Store};
use chrono::{DateTime, FixedOffset};
use rusqlite::Connection;
use std::path::PathBuf;

/// The clock, replaceable in tests.
pub type Clock = Box<dyn FnMut() -> DateTime<FixedOffset>>;

pub struct Executor {
    pub store: Store,
    pub station: String,
    pub clock: Clock,
    /// Where failures are written (never to the screen, which belongs to the operator).
    pub log: Option<PathBuf>,
    pub policy: st::Policy,
    /// A parcel open longer than this many days is late (the dashboard lists them).
    pub late_after_days: u32,
    /// Answers from work done on other threads (exports, printing), collected by the loop.
    workers: (std::sync::mpsc::Sender<Msg>, std::sync::mpsc::Receiver<Msg>),
    /// The label printer's queue and label size, when a printer is configured.
    printer: Option<(PrintQueue, LabelSize)>,
    /// The printer's last failure, so that a retry failing alike is not logged again.
    print_error: Option<String>,
}

/// What the loop should do after an effect.
pub enum After {
    Answer(Box<Msg>),
    Bell,
    Quit,
    Nothing,
}

impl Executor {
    pub fn new(store: Store, station: &str, clock: Clock) -> Executor {
        Executor {
            store,
            station: station.to_string(),
            clock,
            log: None,
            policy: st::Policy::default(),
            late_after_days: 3,
            workers: std::sync::mpsc::channel(),
            printer: None,
            print_error: None,
        }
    }

    /// Prints every unit's label once its outcome is recorded, through a queue on its own
    /// thread that retries every `retry` while the printer refuses.
    pub fn with_printer(mut self, printer: Printer, size: LabelSize, retry: std::time::Duration) -> Executor {
        let tx = self.workers.0.clone();
        let queue = PrintQueue::start(printer, retry, move |news| {
            let _ = tx.send(Msg::Printed(news));
        });
        self.printer = Some((queue, size));
        self
    }

    /// Queues unit `id`'s label and says which; None when there is no printer.
    fn print_label(&self, id: i64) -> rusqlite::Result<Option<String>> {
        let Some((queue, size)) = &self.printer else { return Ok(None) };
        let Some(facts) = st::unit_facts(self.store.conn(), id)? else { return Ok(None) };
        let label = UnitLabel::of(id, facts);
        let bytes = crate::labels::zpl::unit_label(&label, *size).into_bytes();
        queue.print(Job { label: label.unit_id.clone(), bytes });
        Ok(Some(label.unit_id))
    }

    /// What background work has finished since the last call. The printer's failures are
    /// logged when they start or change, not at every retry.
    pub fn finished(&mut self) -> Vec<Msg> {
        let done: Vec<Msg> = self.workers.1.try_iter().collect();
        for m in &done {
            if let Msg::Printed(PrintNews { label, error, waiting }) = m {
                if error.is_some() && *error != self.print_error {
                    let e = error.as_deref().unwrap_or_default();
                    self.log_line(None, &format!("label {label} not printed ({waiting} waiting): {e}"));
                }
                self.print_error = error.clone();
            }
        }
        done
    }

    /// Appends failures to `path`.
    pub fn with_log(mut self, path: PathBuf) -> Executor {
        self.log = Some(path);
        self
    }

    fn log_line(&mut self, user: Option<&str>, text: &str) {
        let Some(path) = &self.log else { return };
        let line =
            format!("{} {} {} {}\n", timestamp((self.clock)()), self.station, user.unwrap_or("-"), text);
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = std::io::Write::write_all(&mut f, line.as_bytes());
        }
    }

    fn actor(&mut self, user: &str) -> Actor {
        Actor { station: self.station.clone(), user: user.to_string(), now: (self.clock)() }
    }

    /// Runs one effect for the signed-in `user` (None before sign-in).
    pub fn run(&mut self, user: Option<&str>, effect: Effect) -> After {
        match self.try_run(user, effect) {
            Ok(after) => after,
            Err(e) => {
                let text = self.store.err(e).to_string();
                self.log_line(user, &text);
                After::Answer(Box::new(Msg::Storage(text)))
            }
        }
    }

    fn try_run(&mut self, user: Option<&str>, effect: Effect) -> rusqlite::Result<After> {
        let user = user.unwrap_or("").to_string();
        let msg = match effect {
            Effect::LoadReviews => Msg::Reviews(crate::store::review::open_reviews(self.store.conn())?),
            Effect::CheckPin(pin) => {
                let ok = crate::store::review::verify_supervisor(self.store.conn(), &user, &pin)?.is_ok();
                Msg::PinChecked { pin, ok }
            }
            Effect::Decide { id, decision, comment, pin } => {
                let now = (self.clock)();
                let sup =
                    crate::store::review::Supervisor { id: &user, pin: &pin, station: Some(&self.station) };
                let result = crate::store::review::decide(
                    self.store.conn_mut(),
                    sup,
                    id,
                    &decision,
                    comment.as_deref(),
                    now,
                )?;
                Msg::Decided { id, result, items: crate::store::review::open_reviews(self.store.conn())? }
            }
            Effect::Link { id, rma, pin } => {
                let now = (self.clock)();
                let sup =
                    crate::store::review::Supervisor { id: &user, pin: &pin, station: Some(&self.station) };
                let result = crate::store::review::link(self.store.conn_mut(), sup, id, &rma, now)?;
                Msg::Linked { id, rma, result, items: crate::store::review::open_reviews(self.store.conn())? }
            }
            Effect::LoadDashboard => {
                let now = (self.clock)();
                let today = now.date_naive();
                let f = |from| {
                    crate::export::feedback::feedback(
                        self.store.conn(),
                        from,
                        today,
                        self.late_after_days,
                        now,
                    )
                };
                Msg::DashboardLoaded {
                    today: Box::new(f(today)?),
                    week: Box::new(f(today - chrono::Duration::days(6))?),
                }
            }
            Effect::StartExport => {
                // On its own thread and connection: the screen keeps taking scans meanwhile.
                let db = self.store.path().to_path_buf();
                let now = (self.clock)();
                let out = db.with_file_name(format!("returns-export-{}.csv", now.format("%Y%m%d-%H%M%S")));
                let tx = self.workers.0.clone();
                let by = user.clone();
                std::thread::spawn(move || {
                    let result = Store::open(&db).map_err(|e| e.to_string()).and_then(|mut store| {
                        let opts = crate::export::ExportOptions {
                            format: crate::export::Format::Csv,
                            span: crate::export::Span::SinceLast,
                            excel: true,
                            now,
                            by: Some(by),
                        };
                        crate::export::export(store.conn_mut(), &db.display().to_string(), &out, &opts)
                            .map(|d| (d.rows, d.path.display().to_string()))
                            .map_err(|e| e.to_string())
                    });
                    let _ = tx.send(Msg::Exported(result));
                });
                return Ok(After::Nothing);
            }
            Effect::Reprint(id) => match self.print_label(id)? {
                Some(label) => Msg::Reprinting(label),
                None => Msg::NoPrinter,
            },
            Effect::Bell => return Ok(After::Bell),
            Effect::Quit => return Ok(After::Quit),
            Effect::SignIn(id) => {
                let found = st::find_user(self.store.conn(), &id)?;
                let mut resume = None;
                if let Some(u) = found.as_ref().filter(|u| u.active) {
                    let a = self.actor(&u.id);
                    st::start_shift(self.store.conn_mut(), &a)?;
                    if let Some(p) = st::open_parcel_at(self.store.conn(), &self.station)? {
                        resume = Some(st::load_parcel(self.store.conn(), p)?);
                    }
                }
                let dock = dock_info(self.store.conn(), &self.station, &(self.clock)())?;
                Msg::SignedIn { id, user: found, resume, dock }
            }
            Effect::LookupParcel(scan) => {
                let found = st::lookup_parcel(self.store.conn(), &self.station, &scan)?;
                Msg::Looked { scan, found }
            }
            Effect::OpenParcel { scan, returns } => {
                let a = self.actor(&user);
                match st::open_parcel(self.store.conn_mut(), &a, &scan, &returns)? {
                    Ok(id) => Msg::Opened { view: self.view(id)?, resumed: false },
                    Err(r) => Msg::OpenRefused(r),
                }
            }
            Effect::ResumeParcel(id) => Msg::Opened { view: self.view(id)?, resumed: true },
            Effect::TakeOver(id) => {
                let a = self.actor(&user);
                match st::take_over(self.store.conn_mut(), &a, id)? {
                    Ok(()) => Msg::Opened { view: self.view(id)?, resumed: true },
                    Err(r) => Msg::OpenRefused(r),
                }
            }
            Effect::FindProduct { code, expected_check, unit } => {
                let product = st::find_product(self.store.conn(), &code)?;
                Msg::ProductFound { code, expected_check, unit, product }
            }
            Effect::RecordUnit { parcel, unit } => {
                let a = self.actor(&user);
                let result = st::record_unit(self.store.conn_mut(), &a, parcel, &unit)?;
                Msg::UnitRecorded { result, view: self.view(parcel)?, serial: unit.serial }
            }
            Effect::Inspect { parcel, unit_id, inspection } => {
                let a = self.actor(&user);
                let result = st::inspect_unit(self.store.conn_mut(), &a, unit_id, &inspection)?;
                if result.is_ok() {
                    self.print_label(unit_id)?;
                }
                Msg::Inspected { result, unit_id, view: self.view(parcel)? }
            }
            Effect::Undo(parcel) => {
                let a = self.actor(&user);
                let result = st::undo_last(self.store.conn_mut(), &a, parcel)?;
                Msg::Undone { result, view: self.view(parcel)? }
            }
            Effect::Sign { parcel, confirmed } => {
                let a = self.actor(&user);
                let result =
                    st::sign_parcel_with(self.store.conn_mut(), &a, parcel, confirmed, &self.policy)?;
                Msg::Signed { result, parcel, dock: dock_info(self.store.conn(), &self.station, &a.now)? }
            }
            Effect::RefuseParcel { parcel, reason } => {
                let a = self.actor(&user);
                let result = st::refuse_parcel(self.store.conn_mut(), &a, parcel, reason, None)?;
                Msg::ParcelRefused {
                    result,
                    parcel,
                    dock: dock_info(self.store.conn(), &self.station, &a.now)?,
                }
            }
        };
        Ok(After::Answer(Box::new(msg)))
    }

    fn view(&self, parcel: i64) -> rusqlite::Result<ParcelView> {
        st::load_parcel(self.store.conn(), parcel)
    }
}

/// The dock screen's figures for this station's current shift.
pub fn dock_info(
    conn: &Connection,
    station: &str,
    now: &DateTime<FixedOffset>,
) -> rusqlite::Result<DockInfo> {
    let since: String = conn
        .query_row(
            "SELECT started_at FROM shifts WHERE station = ?1 AND ended_at IS NULL ORDER BY id DESC LIMIT 1",
            [station],
            |r| r.get(0),
        )
        .unwrap_or_else(|_| timestamp(*now));
    let count = |sql: &str| -> rusqlite::Result<i64> {
        conn.query_row(sql, rusqlite::params![station, since], |r| r.get(0))
    };
    let parcels = count("SELECT count(*) FROM parcels WHERE station = ?1 AND closed_at >= ?2")?;
    let units = count("SELECT count(*) FROM units WHERE station = ?1 AND inspected_at >= ?2")?;
    let refused =
        count("SELECT count(*) FROM units WHERE station = ?1 AND inspected_at >= ?2 AND outcome = 'refuse'")?;
    let review: i64 =
        conn.query_row("SELECT count(*) FROM reviews WHERE decision IS NULL", [], |r| r.get(0))?;
    let unidentified: i64 = conn.query_row(
        "SELECT count(*) FROM parcels p WHERE unidentified = 1 AND NOT EXISTS (SELECT 1 FROM parcel_returns pr WHERE pr.parcel_id = p.id)",
        [],
        |r| r.get(0),
    )?;
    let last = conn
        .prepare_cached(
            "SELECT p.id, coalesce((SELECT group_concat(r.rma_no, ' + ') FROM parcel_returns pr JOIN returns r ON r.id = pr.return_id
                                    WHERE pr.parcel_id = p.id), p.scan),
                    p.state, coalesce(p.closed_at, p.received_at)
             FROM parcels p WHERE p.station = ?1 ORDER BY p.id DESC LIMIT 5",
        )?
        .query_map([station], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    Ok(DockInfo { parcels, units, refused, review, unidentified, last })
}
