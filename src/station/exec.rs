//! Carries out the state machine's effects against the database and answers with messages.
//! Every write is committed before its answer comes back, so the band the operator then sees
//! confirms something that is on disk.

use super::app::{Effect, ExportDone, Msg};
use super::messages::PhotoNews;
use crate::labels::printer::Printer;
use crate::labels::queue::{Job, PrintNews, PrintQueue};
use crate::labels::zpl::{LabelSize, UnitLabel};
use crate::store::photos::Target;
use crate::store::station::{self as st, Actor};
use crate::store::{timestamp, DbResult, Store};
use chrono::{DateTime, FixedOffset};
use std::path::PathBuf;

/// The clock, replaceable in tests.
pub type Clock = Box<dyn FnMut() -> DateTime<FixedOffset>>;

pub struct Executor {
    pub store: Store,
    pub station: String,
    /// The dock the station stands at, recorded on the parcels it receives.
    pub dock: String,
    pub clock: Clock,
    /// Where failures are written (never to the screen, which belongs to the operator).
    pub log: Option<PathBuf>,
    pub policy: st::Policy,
    /// A parcel open longer than this many days is late (the dashboard lists them).
    pub late_after_days: u32,
    /// How many wrong PINs lock a supervisor, and for how long.
    pub pin_rules: crate::store::auth::PinRules,
    /// Answers from work done on other threads (exports, printing), collected by the loop.
    workers: (std::sync::mpsc::Sender<Msg>, std::sync::mpsc::Receiver<Msg>),
    /// The label printer's queue and label size, when a printer is configured.
    printer: Option<(PrintQueue, LabelSize)>,
    /// The printer's last failure, so that a retry failing alike is not logged again.
    print_error: Option<String>,
    /// The commands that sound an OK, and a warning or an error.
    pub sounds: Sounds,
    /// The printer's font with Chinese, for the labels it prints (`[label] zpl_font`).
    pub zpl_font: Option<String>,
    /// The camera's folder, when one is set (`[photos] inbox`).
    pub inbox: Option<crate::evidence::inbox::Inbox>,
    /// The folder's trouble last said, so that it is said once, not five times a second.
    inbox_trouble: Option<String>,
    /// The desktop's picture viewer (`[photos] viewer`), given a photo's file.
    pub viewer: Option<String>,
}

/// Sound commands (`[scanner] ok_sound`, `error_sound`), each run through `sh -c` on a thread
/// of its own, so that neither a slow player nor its exit holds up the station.
#[derive(Debug, Clone, Default)]
pub struct Sounds {
    pub ok: Option<String>,
    pub error: Option<String>,
}

impl Sounds {
    fn play(&self, tone: crate::station::app::Tone) {
        let command = match tone {
            crate::station::app::Tone::Ok => self.ok.clone(),
            _ => self.error.clone(),
        };
        let Some(command) = command else { return };
        std::thread::spawn(move || {
            let _ = std::process::Command::new("sh")
                .arg("-c")
                .arg(&command)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        });
    }
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
            dock: String::new(),
            clock,
            log: None,
            policy: st::Policy::default(),
            late_after_days: 3,
            pin_rules: crate::store::auth::PinRules::default(),
            workers: std::sync::mpsc::channel(),
            printer: None,
            print_error: None,
            sounds: Sounds::default(),
            zpl_font: None,
            inbox: None,
            inbox_trouble: None,
            viewer: None,
        }
    }

    /// Prints every unit's label once its outcome is recorded, through a queue on its own
    /// thread that retries every `retry` while the printer refuses or does not answer within
    /// the printer's timeout.
    pub fn with_printer(self, printer: Printer, size: LabelSize, retry: std::time::Duration) -> Executor {
        self.with_printer_within(printer, size, retry, crate::labels::printer::DEFAULT_TIMEOUT)
    }

    /// As [`Executor::with_printer`], each label given `timeout` (`[printer] timeout_s`).
    pub fn with_printer_within(
        mut self,
        printer: Printer,
        size: LabelSize,
        retry: std::time::Duration,
        timeout: std::time::Duration,
    ) -> Executor {
        let tx = self.workers.0.clone();
        let queue = PrintQueue::start(printer, retry, timeout, move |news| {
            let _ = tx.send(Msg::Printed(news));
        });
        self.printer = Some((queue, size));
        self
    }

    /// Queues unit `id`'s label and says which; None when there is no printer.
    fn print_label(&self, id: i64) -> DbResult<Option<String>> {
        if self.printer.is_none() {
            return Ok(None);
        }
        let Some(facts) = self.store.unit_facts(id)? else { return Ok(None) };
        Ok(self.queue_label(id, facts))
    }

    /// Queues a label of what was just recorded (no database read: the facts come from the
    /// write's own transaction).
    fn queue_label(&self, id: i64, facts: st::UnitFacts) -> Option<String> {
        let (queue, size) = self.printer.as_ref()?;
        let label = UnitLabel::of(id, facts);
        let bytes = crate::labels::zpl::unit_label_in(&label, *size, self.zpl_font.as_deref()).into_bytes();
        queue.print(Job { label: label.unit_id.clone(), bytes });
        Some(label.unit_id)
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

    /// Looks at the camera's folder (before each batch of input is handled): pictures that
    /// have settled go to what was current when they appeared. None when nothing happened.
    pub fn look_at_photos(&mut self, user: Option<&str>, current: Option<Target>) -> Option<Msg> {
        let inbox = self.inbox.as_mut()?;
        let user = user?;
        let now = std::time::Instant::now();
        let ready = match inbox.look(now, current) {
            Ok(ready) => {
                self.inbox_trouble = None;
                ready
            }
            Err(e) => {
                let why = e.to_string();
                if self.inbox_trouble.as_ref() == Some(&why) {
                    return None;
                }
                self.inbox_trouble = Some(why.clone());
                let dir = inbox.dir().display().to_string();
                self.log_line(Some(user), &format!("camera folder {dir}: {why}"));
                return Some(Msg::Photos {
                    news: vec![PhotoNews::Folder { dir, why }],
                    asked: false,
                    view: None,
                });
            }
        };
        if ready.is_empty() {
            return None;
        }
        Some(self.attach_ready(user, ready, false))
    }

    /// `CMD-PHOTO`: everything in the folder now, for `target`.
    fn take_photos(&mut self, user: &str, target: Target) -> Msg {
        let Some(inbox) = self.inbox.as_mut() else {
            return Msg::Photos { news: vec![], asked: true, view: None };
        };
        match inbox.take_all(std::time::Instant::now(), target) {
            Ok((ready, more)) => {
                let mut msg = self.attach_ready(user, ready, true);
                if let Msg::Photos { news, .. } = &mut msg {
                    if more > 0 {
                        news.push(PhotoNews::More { n: more });
                    }
                }
                msg
            }
            Err(e) => {
                let dir = inbox.dir().display().to_string();
                Msg::Photos {
                    news: vec![PhotoNews::Folder { dir, why: e.to_string() }],
                    asked: true,
                    view: None,
                }
            }
        }
    }

    /// Attaches each picture to its target; each one attached is moved out of the folder (it
    /// is in the store now); anything else stays there, said once.
    fn attach_ready(&mut self, user: &str, ready: Vec<crate::evidence::inbox::Ready>, asked: bool) -> Msg {
        use crate::evidence::picture;
        let mut news = Vec::new();
        let mut view = None;
        for r in ready {
            let told = |exec: &mut Executor| {
                if let Some(inbox) = exec.inbox.as_mut() {
                    inbox.told(&r.name);
                }
            };
            let Some(target) = r.target else {
                told(self);
                news.push(PhotoNews::Waiting { name: r.name.clone() });
                continue;
            };
            let refused = |exec: &mut Executor| {
                if let Some(inbox) = exec.inbox.as_mut() {
                    inbox.refused(&r.name);
                }
            };
            // Its size first: a file far larger than a photo (a video) is never read in.
            let size = std::fs::metadata(&r.path).map(|m| m.len()).unwrap_or(0);
            if size > picture::LARGEST {
                refused(self);
                let why = picture::NotAPicture::TooLarge { bytes: size, limit: picture::LARGEST };
                news.push(PhotoNews::NotAPicture { name: r.name.clone(), why });
                continue;
            }
            let bytes = match std::fs::read(&r.path) {
                Ok(bytes) => bytes,
                Err(e) => {
                    refused(self);
                    news.push(PhotoNews::Refused { name: r.name.clone(), why: e.to_string() });
                    continue;
                }
            };
            let pic = match picture::examine(&bytes) {
                Ok(pic) => pic,
                // A slow camera still writing: given time, said only if it stays so.
                Err(picture::NotAPicture::Incomplete(_))
                    if !asked && self.inbox.as_mut().is_some_and(|i| i.unfinished(&r.name)) =>
                {
                    continue;
                }
                Err(why) => {
                    refused(self);
                    news.push(PhotoNews::NotAPicture { name: r.name.clone(), why });
                    continue;
                }
            };
            let a = self.actor(user);
            match self.store.attach_photo(&a, target, &r.name, &pic, &bytes) {
                Ok((done, v)) => {
                    // In the store now (a crash before this leaves it in the folder, and the
                    // next look finds it attached already).
                    if let Err(e) = std::fs::remove_file(&r.path) {
                        told(self);
                        self.log_line(
                            Some(user),
                            &format!("photo {} attached but not removed from the folder: {e}", r.name),
                        );
                    }
                    view = Some(v);
                    news.push(PhotoNews::Attached { name: r.name.clone(), done });
                }
                Err(e) => {
                    told(self);
                    let text = self.store.err(e).to_string();
                    self.log_line(Some(user), &format!("photo {} not saved: {text}", r.name));
                    news.push(PhotoNews::Refused { name: r.name.clone(), why: text });
                }
            }
        }
        Msg::Photos { news, asked, view }
    }

    /// Hands a photo to the desktop's viewer: a private copy in the temporary folder (the
    /// store's own file is never given to another program to change), the viewer started
    /// without waiting.
    fn open_photo(&mut self, p: &crate::store::photos::PhotoInfo) -> Result<String, String> {
        let viewer = self.viewer.clone().ok_or_else(|| "no viewer is set ([photos] viewer)".to_string())?;
        let bytes = self.store.picture(p).map_err(|e| self.store.err(e).to_string())?;
        let path = std::env::temp_dir().join(format!("returns-dock-{}.{}", p.sha256, p.kind.extension()));
        crate::files::write_durably(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{viewer} \"$1\""))
            .arg("returns-dock-viewer")
            .arg(&path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("{viewer}: {e}"))?;
        Ok(p.file_name.clone())
    }

    /// Appends failures to `path`.
    pub fn with_log(mut self, path: PathBuf) -> Executor {
        // A log from before files were private keeps its inode: tighten it by path.
        let _ = crate::files::tighten(&path);
        self.log = Some(path);
        self
    }

    pub fn log_line(&mut self, user: Option<&str>, text: &str) {
        let Some(path) = &self.log else { return };
        let line = format!("{} {} {} {}", timestamp((self.clock)()), self.station, user.unwrap_or("-"), text);
        // One line per failure, whatever the message quotes.
        let line = format!("{}\n", crate::domain::text::in_file(&line));
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = std::io::Write::write_all(&mut f, line.as_bytes());
        }
    }

    fn actor(&mut self, user: &str) -> Actor {
        Actor {
            station: self.station.clone(),
            dock: self.dock.clone(),
            user: user.to_string(),
            now: (self.clock)(),
        }
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

    fn try_run(&mut self, user: Option<&str>, effect: Effect) -> DbResult<After> {
        let user = user.unwrap_or("").to_string();
        let msg = match effect {
            Effect::TakePhotos(target) => self.take_photos(&user, target),
            Effect::ShowPhotos { parcel, unit } => {
                let all = self.store.photos_of_parcels(&[parcel])?;
                let mine = match unit {
                    Some(u) => self.store.photos_of_units(&[u])?,
                    None => all,
                };
                let mut shown = Vec::new();
                let mut trouble = Vec::new();
                for p in mine {
                    match self.store.picture(&p).map_err(|e| self.store.err(e).to_string()).and_then(
                        |bytes| crate::evidence::preview::thumb(p.kind, &bytes).map_err(|e| e.to_string()),
                    ) {
                        Ok(t) => shown.push((p, t)),
                        Err(e) => trouble.push(format!("{}: {e}", p.file_name)),
                    }
                }
                // Those that cannot be shown are said, whatever else is shown.
                match shown.is_empty() && !trouble.is_empty() {
                    true => Msg::PhotosShown(Err(trouble.join(" · "))),
                    false => Msg::PhotosShown(Ok((shown, trouble))),
                }
            }
            Effect::OpenPhoto(p) => Msg::PhotoOpened(self.open_photo(&p)),
            Effect::LoadReviews => Msg::Reviews(self.store.open_reviews()?),
            Effect::CheckPin(pin) => {
                let now = (self.clock)();
                let station = Some(self.station.as_str());
                Msg::PinChecked(self.store.check_pin(&user, &pin, station, now, &self.pin_rules)?)
            }
            Effect::Decide { id, decision, comment, who } => {
                let now = (self.clock)();
                let sup = crate::store::review::Supervisor { who: &who, station: Some(&self.station) };
                let result = self.store.decide(sup, id, &decision, comment.as_deref(), now)?;
                Msg::Decided { id, result, items: self.store.open_reviews()? }
            }
            Effect::Link { id, rma, who } => {
                let now = (self.clock)();
                let sup = crate::store::review::Supervisor { who: &who, station: Some(&self.station) };
                let result = self.store.link(sup, id, &rma, now)?;
                Msg::Linked { id, rma, result, items: self.store.open_reviews()? }
            }
            Effect::LoadDashboard => {
                let now = (self.clock)();
                let today = now.date_naive();
                let days = self.late_after_days;
                // This dock's figures: the supervisor standing here acts on them.
                let dock = Some(self.dock.as_str()).filter(|d| !d.is_empty());
                let mut f = |from| {
                    crate::export::feedback::feedback_at(&mut self.store, from, today, days, now, dock)
                };
                let today_sheet = Box::new(f(today)?);
                Msg::DashboardLoaded {
                    today: today_sheet,
                    week: Box::new(f(today - chrono::Duration::days(6))?),
                }
            }
            Effect::StartExport => {
                // On its own thread and connection: the screen keeps taking scans meanwhile.
                let now = (self.clock)();
                let dir = self.store.folder();
                let tx = self.workers.0.clone();
                let by = user.clone();
                let days = self.policy.await_boxes_days;
                let other = self.store.reopen();
                std::thread::spawn(move || {
                    let result = other.map_err(|e| e.to_string()).and_then(|mut store| {
                        store.close_overdue(now, days).map_err(|e| store.err(e).to_string())?;
                        let opts = crate::export::ExportOptions {
                            format: crate::export::Format::Csv,
                            span: crate::export::Span::SinceLast,
                            excel: true,
                            now,
                            by: Some(by),
                            // Every dock's: what after-sales is due, wherever it was received.
                            dock: None,
                        };
                        // Nothing new writes no file, and says since which batch.
                        match crate::export::export_fresh(&mut store, &dir, &opts) {
                            Ok(d) => {
                                Ok(ExportDone::Written { rows: d.rows, path: d.path.display().to_string() })
                            }
                            Err(crate::export::ExportError::NothingNew { last }) => {
                                Ok(ExportDone::NothingNew { last })
                            }
                            Err(e) => Err(e.to_string()),
                        }
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
            Effect::Sound(tone) => {
                self.sounds.play(tone);
                return Ok(After::Nothing);
            }
            Effect::Quit => return Ok(After::Quit),
            Effect::SignIn(id) => {
                let now = (self.clock)();
                let done = self.store.sign_in(&id, &self.station, now, self.policy.await_boxes_days)?;
                Msg::SignedIn { id, user: done.user, resume: done.resume, dock: done.dock }
            }
            Effect::LookupParcel(scan) => {
                let found = self.store.lookup_parcel(&self.station, &scan)?;
                // A code that names no parcel may be a product's barcode, scanned too early.
                let product = match found {
                    st::ParcelLookup::NotFound => {
                        let parsed = crate::domain::scan::parse(&scan);
                        let code = match &parsed.kind {
                            crate::domain::scan::ScanKind::Gtin { gtin, .. } => gtin.as_str().to_string(),
                            crate::domain::scan::ScanKind::Gs1(e) => {
                                e.gtin().map_or_else(|| scan.clone(), |g| g.as_str().to_string())
                            }
                            _ => scan.clone(),
                        };
                        self.store.find_product_box(&code)?.map(|(p, _)| p)
                    }
                    _ => None,
                };
                Msg::Looked { scan, found, product }
            }
            Effect::OpenParcel { scan, returns } => {
                let a = self.actor(&user);
                match self.store.open_parcel(&a, &scan, &returns)? {
                    Ok(view) => Msg::Opened { view, resumed: false },
                    Err(r) => Msg::OpenRefused(r),
                }
            }
            Effect::ResumeParcel(id) => Msg::Opened { view: self.store.parcel(id)?, resumed: true },
            Effect::TakeOver(id) => {
                let a = self.actor(&user);
                match self.store.take_over(&a, id)? {
                    Ok(view) => Msg::Opened { view, resumed: true },
                    Err(r) => Msg::OpenRefused(r),
                }
            }
            Effect::FindProduct { code, expected_check, mut unit } => {
                // A box label of a product in several boxes (`…-2/3`) names the box too.
                let found = self.store.find_product_box(&code)?;
                if let Some(k) = found.as_ref().and_then(|(_, k)| *k) {
                    unit.box_mark = Some(k.to_string());
                }
                Msg::ProductFound { code, expected_check, unit, product: found.map(|(p, _)| p) }
            }
            Effect::RecordUnit { parcel, unit } => {
                let a = self.actor(&user);
                let (result, view) = self.store.record_unit(&a, parcel, &unit)?;
                Msg::UnitRecorded { result, view, serial: unit.serial }
            }
            Effect::Inspect { parcel, unit_id, inspection } => {
                let a = self.actor(&user);
                let (result, view) = self.store.inspect(&a, parcel, unit_id, &inspection)?;
                // Saved: now its label, which is printed from what the write itself recorded.
                if let Ok(done) = &result {
                    self.queue_label(unit_id, done.facts.clone());
                }
                Msg::Inspected { result, unit_id, view }
            }
            Effect::Undo(parcel) => {
                let a = self.actor(&user);
                let (result, view) = self.store.undo(&a, parcel)?;
                Msg::Undone { result, view }
            }
            Effect::Sign { parcel, confirmed, shown, rest } => {
                let a = self.actor(&user);
                let (result, dock, view) =
                    self.store.sign(&a, parcel, confirmed, &shown, &self.policy, rest)?;
                Msg::Signed { result, parcel, dock, view }
            }
            Effect::RefuseParcel { parcel, reason } => {
                let a = self.actor(&user);
                let (result, dock) = self.store.refuse_parcel_with(&a, parcel, reason, None, &self.policy)?;
                Msg::ParcelRefused { result, parcel, dock }
            }
        };
        Ok(After::Answer(Box::new(msg)))
    }
}
