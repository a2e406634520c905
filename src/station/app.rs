//! The station's state and its one entry point, [`App::update`]: a message in (a scan, a key,
//! or the result of a database step), the state changed, and the effects the loop must carry
//! out returned. No IO and no clock here; the loop does those and answers with messages.

use super::keys::Action;
use super::text::{flag_words, say, t, Lang, T};
use crate::domain::codes::{Cause, Coded, Grade, Outcome, Reason, Role};
use crate::domain::parcel::{default_cause, signable, Discrepancy, Placement, Signable};
use crate::domain::scan::{self, Command, ScanKind, MAX_SCAN_LEN};
use crate::domain::text::{in_file, on_screen};
use crate::export::feedback::Feedback;
use crate::store::auth::{PinRefusal, Proven};
use crate::store::review::{Decision, ReviewItem, ReviewRefusal};
use crate::store::station::{
    Inspected, Inspection, NewUnit, ParcelLookup, ParcelView, Product, Refusal, Rest, SignedBox, Undone,
    UnitRecord, User,
};

/// The feedback band after every scan: a symbol, a word and a colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Ok,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub tone: Tone,
    pub text: String,
}

pub use crate::store::station::DockInfo;

#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    SignIn,
    /// Between parcels, with what the last parcel scan offers to do, if anything.
    Dock {
        offer: Option<Offer>,
    },
    Parcel(Box<ParcelScreen>),
    /// The supervisor's queue.
    Review(Box<ReviewScreen>),
    /// The supervisor's figures: today and the last seven days.
    Dashboard(Box<DashboardScreen>),
    /// A supervisor function asks for the PIN first; `back` is the screen to return to.
    Pin {
        then: Pending,
        back: Box<Screen>,
    },
}

/// A supervisor function waiting for the PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    Review,
    Dashboard,
    Export,
    TakeOver(i64),
}

/// A supervisor's session, opened by their PIN: supervisor functions need one. It ends after
/// `App::supervisor_idle` without a key, and at the next badge scan.
#[derive(Debug, Clone, PartialEq)]
pub struct Unlocked {
    pub who: Proven,
    /// When the station last had input, on its monotonic clock.
    pub last: std::time::Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReviewScreen {
    pub items: Vec<ReviewItem>,
    pub selected: usize,
    /// An overturn chosen, waiting for its comment.
    pub overturn: Option<(Outcome, Option<Grade>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DashboardScreen {
    pub today: Feedback,
    pub week: Feedback,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParcelScreen {
    pub view: ParcelView,
    pub prompt: Prompt,
    /// The unit last scanned, given an outcome, or selected with ↑/↓.
    pub current: Option<i64>,
    /// The operator chose `current` with ↑/↓: an outcome goes to it even if it has one (a
    /// correction).
    pub picked: bool,
}

impl ParcelScreen {
    fn current_unit(&self) -> Option<&UnitRecord> {
        self.current.and_then(|id| self.view.units.iter().find(|u| u.id == id))
    }

    /// The unit the next outcome goes to (marked ▶ on screen): the unit selected with ↑/↓;
    /// else the current unit if it has no outcome; else the most recently scanned unit still
    /// without one. None when every unit has an outcome: an outcome scan is then refused, never
    /// silently recorded over an earlier one.
    pub fn target(&self) -> Option<&UnitRecord> {
        if let Some(u) = self.current_unit() {
            if self.picked || u.outcome.is_none() {
                return Some(u);
            }
        }
        self.view.units.iter().rev().find(|u| u.outcome.is_none())
    }

    /// Moves the selection one unit up or down the list as the screen shows it (newest at the
    /// top, so up is the next newer unit), from the marked unit, else the current one.
    fn pick(&mut self, up: bool) {
        let units = &self.view.units;
        if units.is_empty() {
            return;
        }
        let from = self.target().or(self.current_unit()).map(|t| t.id);
        let at = from.and_then(|id| units.iter().position(|u| u.id == id));
        let n = units.len();
        let next = match at {
            Some(i) if up => (i + 1) % n,
            Some(i) => (i + n - 1) % n,
            None => n - 1,
        };
        self.current = Some(units[next].id);
        self.picked = true;
    }
}

/// What a parcel scan that could not simply open a parcel offers.
#[derive(Debug, Clone, PartialEq)]
pub enum Offer {
    /// It matched nothing: book it in as unidentified (CMD-UNIDENTIFIED).
    Unidentified(String),
    /// It is open at another station: a supervisor may take it over (CMD-CONFIRM).
    TakeOver { parcel: i64 },
    /// An order number whose open returns travel in separate boxes: the box's tracking number
    /// or RMA says which (scanned, or chosen with ↑/↓ and Enter).
    Order { order_no: String, returns: Vec<crate::store::station::ReturnSummary>, selected: usize },
}

/// What the parcel screen waits for.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    Unit,
    Serial { product: Product, unit: NewUnit },
    Reason { unit_id: i64, outcome: Outcome, grade: Option<Grade> },
    Note { unit_id: i64, inspection: Inspection },
    Cause { unit_id: i64 },
    Sign { found: Vec<Discrepancy> },
    RefuseParcel,
}

/// What happened: input, or the answer to an effect.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// A whole scan (or a typed code ended with Enter).
    Scan(String),
    Action(Action),
    Char(char),
    Backspace,
    SignedIn {
        id: String,
        user: Option<User>,
        resume: Option<ParcelView>,
        dock: DockInfo,
    },
    Dock(DockInfo),
    Looked {
        scan: String,
        found: ParcelLookup,
    },
    Opened {
        view: ParcelView,
        resumed: bool,
    },
    OpenRefused(Refusal),
    ProductFound {
        code: String,
        expected_check: Option<u8>,
        unit: NewUnit,
        product: Option<Product>,
    },
    UnitRecorded {
        result: Result<(i64, Placement), Refusal>,
        view: ParcelView,
        serial: Option<String>,
    },
    Inspected {
        result: Result<Inspected, Refusal>,
        unit_id: i64,
        view: ParcelView,
    },
    Undone {
        result: Result<Undone, Refusal>,
        view: ParcelView,
    },
    Signed {
        result: Result<SignedBox, Refusal>,
        parcel: i64,
        dock: DockInfo,
        /// The parcel as it stands, when it was not signed.
        view: Option<ParcelView>,
    },
    ParcelRefused {
        result: Result<(), Refusal>,
        parcel: i64,
        dock: DockInfo,
    },
    /// A database step failed; nothing of it was saved.
    Storage(String),
    Reviews(Vec<ReviewItem>),
    PinChecked(Result<Proven, PinRefusal>),
    Decided {
        id: i64,
        result: Result<(), ReviewRefusal>,
        items: Vec<ReviewItem>,
    },
    Linked {
        id: i64,
        rma: String,
        result: Result<(), ReviewRefusal>,
        items: Vec<ReviewItem>,
    },
    DashboardLoaded {
        today: Box<Feedback>,
        week: Box<Feedback>,
    },
    /// The background export finished (or failed).
    Exported(Result<(usize, String), String>),
    /// The print queue tried a label.
    Printed(crate::labels::queue::PrintNews),
    /// A label was queued again.
    Reprinting(String),
    NoPrinter,
}

/// What the loop must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    SignIn(String),
    LookupParcel(String),
    OpenParcel {
        scan: String,
        returns: Vec<i64>,
    },
    ResumeParcel(i64),
    /// A supervisor takes over a parcel open at another station.
    TakeOver(i64),
    FindProduct {
        code: String,
        expected_check: Option<u8>,
        unit: NewUnit,
    },
    RecordUnit {
        parcel: i64,
        unit: NewUnit,
    },
    Inspect {
        parcel: i64,
        unit_id: i64,
        inspection: Inspection,
    },
    Undo(i64),
    Sign {
        parcel: i64,
        confirmed: bool,
        /// The discrepancies the operator was shown.
        shown: Vec<Discrepancy>,
        /// What the units not in the box are: missing (the last box) or awaited.
        rest: Rest,
    },
    RefuseParcel {
        parcel: i64,
        reason: Reason,
    },
    LoadReviews,
    CheckPin(String),
    Decide {
        id: i64,
        decision: Decision,
        comment: Option<String>,
        who: Proven,
    },
    /// Links the unidentified parcel of review `id` to the return `rma`.
    Link {
        id: i64,
        rma: String,
        who: Proven,
    },
    LoadDashboard,
    StartExport,
    /// Print this unit's label again.
    Reprint(i64),
    Bell,
    Quit,
}

#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub lang: Lang,
    pub station: String,
    pub bell: bool,
    pub auto_accept: bool,
    pub user: Option<User>,
    pub screen: Screen,
    pub band: Option<Band>,
    pub help: bool,
    /// What is being typed (a scanner types too, then ends with Enter).
    pub input: String,
    pub dock: DockInfo,
    /// When a refusal must go to a supervisor (the station says so when it happens).
    pub policy: crate::store::station::Policy,
    /// On the demo database: the badges to scan, shown at sign-in.
    pub demo_badges: Option<String>,
    /// The last unit given an outcome here: what a reprint prints when no unit is current.
    pub last_inspected: Option<i64>,
    /// The printer's trouble, while there is some: why, and how many labels wait.
    pub printer_trouble: Option<(String, usize)>,
    /// Characters typed past the input's limit, so an over-long scan is told as such.
    pub dropped: usize,
    /// The same code twice in a row within this long is one read (a scanner that re-reads);
    /// zero turns the check off.
    pub double_read: std::time::Duration,
    /// When the events now being handled arrived, on the station's monotonic clock.
    pub arrived: std::time::Duration,
    /// The last scan and when it arrived, for the double-read check.
    last_scan: Option<(String, std::time::Duration)>,
    /// The zone times are shown in (the station's).
    pub zone: chrono::FixedOffset,
    /// Errors of the batch of events being handled (a scanner's burst): how many, and the
    /// first, so that a later success in the same burst cannot hide them.
    refused_in_batch: (usize, Option<String>),
    /// The audit log's newest entries did not hold at start: said in the header all along.
    pub log_broken: bool,
    /// The supervisor session, while one is open.
    pub unlocked: Option<Unlocked>,
    /// How long a supervisor session stays open without a key.
    pub supervisor_idle: std::time::Duration,
}

impl App {
    pub fn new(station: &str, lang: Lang, bell: bool, auto_accept: bool) -> App {
        App {
            lang,
            station: station.to_string(),
            bell,
            auto_accept,
            user: None,
            screen: Screen::SignIn,
            band: None,
            help: false,
            input: String::new(),
            dock: DockInfo::default(),
            policy: crate::store::station::Policy::default(),
            demo_badges: None,
            last_inspected: None,
            printer_trouble: None,
            dropped: 0,
            double_read: std::time::Duration::from_millis(100),
            arrived: std::time::Duration::ZERO,
            last_scan: None,
            zone: chrono::FixedOffset::east_opt(0).expect("UTC"),
            refused_in_batch: (0, None),
            log_broken: false,
            unlocked: None,
            supervisor_idle: std::time::Duration::from_secs(5 * 60),
        }
    }

    /// Ends the supervisor session once it has been idle too long, leaving any supervisor
    /// screen. Called as each batch of events arrives, before they are handled.
    pub fn end_idle_session(&mut self) {
        let Some(u) = &self.unlocked else { return };
        if self.arrived.saturating_sub(u.last) < self.supervisor_idle {
            return;
        }
        self.unlocked = None;
        if matches!(self.screen, Screen::Review(_) | Screen::Dashboard(_) | Screen::Pin { .. }) {
            self.screen = Screen::Dock { offer: None };
        }
        self.band =
            Some(Band { tone: Tone::Warn, text: say::session_ended(self.lang, self.supervisor_idle) });
    }

    /// A supervisor function: done at once within an open session, else after the PIN.
    fn supervisor(&mut self, then: Pending) -> Vec<Effect> {
        if !self.user.as_ref().is_some_and(|u| u.role == Role::Supervisor) {
            return self.error(say::supervisors_only(self.lang));
        }
        if matches!(self.screen, Screen::Pin { .. }) {
            // One PIN prompt at a time.
            return vec![];
        }
        if self.unlocked.is_some() {
            return self.perform(then);
        }
        let back = Box::new(std::mem::replace(&mut self.screen, Screen::SignIn));
        self.screen = Screen::Pin { then, back };
        self.band = None;
        vec![]
    }

    /// Carries out a supervisor function, the session being open.
    fn perform(&mut self, then: Pending) -> Vec<Effect> {
        match then {
            Pending::Export => {
                self.band = Some(Band { tone: Tone::Ok, text: say::export_started(self.lang) });
                vec![Effect::StartExport]
            }
            Pending::TakeOver(parcel) => vec![Effect::TakeOver(parcel)],
            Pending::Review | Pending::Dashboard if matches!(self.screen, Screen::Parcel(_)) => {
                self.error(say::parcel_open_first(self.lang))
            }
            Pending::Review => {
                self.screen =
                    Screen::Review(Box::new(ReviewScreen { items: vec![], selected: 0, overturn: None }));
                vec![Effect::LoadReviews]
            }
            Pending::Dashboard => vec![Effect::LoadDashboard],
        }
    }

    /// The open session's supervisor.
    fn proven(&self) -> Option<Proven> {
        self.unlocked.as_ref().map(|u| u.who.clone())
    }

    /// A batch of events begins.
    pub fn batch_begins(&mut self) {
        self.refused_in_batch = (0, None);
    }

    /// A batch of events ended. When some of its scans were refused but the band shows a later
    /// success, the band says so and keeps the first refusal; true when it did (ring the bell).
    pub fn batch_ends(&mut self) -> bool {
        let (n, first) = std::mem::take(&mut self.refused_in_batch);
        let Some(first) = first else { return false };
        match &mut self.band {
            Some(b) if b.tone != Tone::Error => {
                b.tone = Tone::Error;
                b.text = format!("{} · {}", b.text, say::refused_in_burst(self.lang, n, &first));
                self.bell
            }
            _ => false,
        }
    }

    /// Shows a stored time in the station's zone, `11-22 09:15`.
    pub fn short_time(&self, ts: &str) -> String {
        short_time(ts, self.zone)
    }

    /// True when `raw` is the same code as the scan just before it, within the double-read
    /// window: one physical read that the scanner sent twice.
    fn double_read(&mut self, raw: &str) -> bool {
        let code = raw.trim().to_string();
        let at = self.arrived;
        let again = self.last_scan.as_ref().is_some_and(|(last, when)| {
            !self.double_read.is_zero() && *last == code && at.saturating_sub(*when) < self.double_read
        });
        self.last_scan = Some((code, at));
        again
    }

    /// The review queue as it now stands, after a decision.
    fn review_items(&mut self, items: Vec<ReviewItem>) {
        if let Screen::Review(r) = &mut self.screen {
            r.overturn = None;
            r.selected = r.selected.min(items.len().saturating_sub(1));
            r.items = items;
        }
    }

    /// The label to print again: the current unit's if it has an outcome, else the last one.
    fn reprint(&mut self) -> Vec<Effect> {
        let current =
            self.parcel().and_then(|p| p.current_unit()).filter(|u| u.outcome.is_some()).map(|u| u.id);
        match current.or(self.last_inspected) {
            Some(id) => vec![Effect::Reprint(id)],
            None => self.error(say::nothing_to_reprint(self.lang)),
        }
    }

    fn ok(&mut self, text: String) -> Vec<Effect> {
        self.band = Some(Band { tone: Tone::Ok, text });
        vec![]
    }

    fn warn(&mut self, text: String) -> Vec<Effect> {
        self.band = Some(Band { tone: Tone::Warn, text });
        if self.bell {
            vec![Effect::Bell]
        } else {
            vec![]
        }
    }

    fn error(&mut self, text: String) -> Vec<Effect> {
        self.refused_in_batch.0 += 1;
        self.refused_in_batch.1.get_or_insert_with(|| text.clone());
        self.band = Some(Band { tone: Tone::Error, text });
        if self.bell {
            vec![Effect::Bell]
        } else {
            vec![]
        }
    }

    fn parcel(&self) -> Option<&ParcelScreen> {
        match &self.screen {
            Screen::Parcel(p) => Some(p),
            _ => None,
        }
    }

    fn parcel_mut(&mut self) -> Option<&mut ParcelScreen> {
        match &mut self.screen {
            Screen::Parcel(p) => Some(p),
            _ => None,
        }
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        // Help closes at any key but its own, and that key is then handled in full: a scan
        // typed while help is open keeps its first character.
        if self.help && matches!(msg, Msg::Action(_) | Msg::Char(_) | Msg::Scan(_) | Msg::Backspace) {
            self.help = false;
            if matches!(msg, Msg::Action(Action::Help) | Msg::Action(Action::Command(Command::Cancel))) {
                return vec![];
            }
        }
        if matches!(msg, Msg::Action(_) | Msg::Char(_) | Msg::Scan(_) | Msg::Backspace) {
            let at = self.arrived;
            if let Some(u) = &mut self.unlocked {
                u.last = at;
            }
        }
        match msg {
            Msg::Char(c) => {
                if self.input.chars().count() < MAX_SCAN_LEN * 2 {
                    self.input.push(c);
                } else {
                    self.dropped += 1;
                }
                vec![]
            }
            Msg::Backspace => {
                self.input.pop();
                vec![]
            }
            Msg::Scan(raw) => {
                self.input.clear();
                let dropped = std::mem::take(&mut self.dropped);
                if self.double_read(&raw) && !self.typing_text() {
                    return self.double_read_ignored(&raw);
                }
                self.on_scan(&raw, dropped)
            }
            Msg::Action(a) => self.on_action(a),
            other => self.on_result(other),
        }
    }

    /// Notes, review comments and PINs are typed, not scanned: never taken for a double read.
    fn typing_text(&self) -> bool {
        match &self.screen {
            Screen::Parcel(p) => matches!(p.prompt, Prompt::Note { .. }),
            Screen::Review(_) | Screen::Pin { .. } => true,
            _ => false,
        }
    }

    /// The band keeps what the first read did and says the second was ignored.
    fn double_read_ignored(&mut self, raw: &str) -> Vec<Effect> {
        let words = say::double_read(self.lang, &on_screen(raw.trim()), self.double_read.as_millis());
        match &mut self.band {
            Some(b) => b.text = format!("{} · {words}", b.text),
            None => self.band = Some(Band { tone: Tone::Warn, text: words }),
        }
        vec![]
    }

    fn on_action(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Help => {
                self.help = true;
                vec![]
            }
            Action::Quit => vec![Effect::Quit],
            Action::Export => self.supervisor(Pending::Export),
            Action::Review | Action::Dashboard => {
                if !self.user.as_ref().is_some_and(|u| u.role == Role::Supervisor) {
                    return self.error(say::supervisors_only(self.lang));
                }
                if matches!(self.screen, Screen::Parcel(_)) {
                    return self.error(say::parcel_open_first(self.lang));
                }
                if matches!(self.screen, Screen::Pin { .. }) {
                    return vec![];
                }
                self.band = None;
                self.supervisor(if action == Action::Review { Pending::Review } else { Pending::Dashboard })
            }
            Action::Up | Action::Down => {
                if let Screen::Dock { offer: Some(Offer::Order { returns, selected, .. }) } = &mut self.screen
                {
                    let n = returns.len();
                    *selected =
                        if action == Action::Up { (*selected + n - 1) % n } else { (*selected + 1) % n };
                    return vec![];
                }
                if let Screen::Parcel(p) = &mut self.screen {
                    if matches!(p.prompt, Prompt::Unit) {
                        p.pick(action == Action::Up);
                    }
                    return vec![];
                }
                if let Screen::Review(r) = &mut self.screen {
                    let n = r.items.len();
                    if n > 0 {
                        r.selected = if action == Action::Up {
                            (r.selected + n - 1) % n
                        } else {
                            (r.selected + 1) % n
                        };
                    }
                }
                vec![]
            }
            Action::Command(c) => self.on_command(c),
            Action::Cause => match self
                .parcel()
                .and_then(|p| p.current_unit().filter(|u| u.outcome.is_some()).map(|u| u.id))
            {
                Some(unit_id) => {
                    if let Some(p) = self.parcel_mut() {
                        p.prompt = Prompt::Cause { unit_id };
                    }
                    vec![]
                }
                None => self.error(say::no_unit(self.lang)),
            },
            Action::Note => {
                let found = self
                    .parcel()
                    .and_then(|p| p.current_unit())
                    .and_then(|u| inspection_of(u).map(|i| (u.id, i)));
                match found {
                    Some((unit_id, inspection)) => {
                        if let Some(p) = self.parcel_mut() {
                            p.prompt = Prompt::Note { unit_id, inspection };
                        }
                        vec![]
                    }
                    None => self.error(say::no_unit(self.lang)),
                }
            }
        }
    }

    /// A scan, or a line typed and ended with Enter; `dropped` characters of it went past the
    /// input's limit.
    fn on_scan(&mut self, raw: &str, dropped: usize) -> Vec<Effect> {
        // A note is free text, typed: stored as a file would take it, never read as a code.
        if let Some(ParcelScreen { prompt: Prompt::Note { unit_id, inspection }, view, .. }) = self.parcel() {
            let note = in_file(raw).trim().to_string();
            let cmd = scan::parse(raw);
            if let ScanKind::Command(c) = cmd.kind {
                return self.on_command(c);
            }
            if note.is_empty() {
                return self.error(say::note_required(self.lang));
            }
            let mut inspection = inspection.clone();
            inspection.note = Some(note);
            let (parcel, unit_id) = (view.id, *unit_id);
            return vec![Effect::Inspect { parcel, unit_id, inspection }];
        }
        if let Screen::Pin { .. } = &self.screen {
            let cmd = scan::parse(raw);
            match cmd.kind {
                ScanKind::Command(c) => return self.on_command(c),
                // A badge ends the wait for the PIN: someone else signs in.
                ScanKind::Badge(_) => {}
                _ if raw.trim().is_empty() => return vec![],
                // A product or parcel scanned by habit is not a guess: only what can be a PIN
                // is checked (and counted).
                _ if !is_pin_shaped(raw.trim()) => return self.error(say::not_a_pin(self.lang)),
                _ => return vec![Effect::CheckPin(raw.trim().to_string())],
            }
        }
        if let Screen::Review(r) = &self.screen {
            let cmd = scan::parse(raw);
            if let ScanKind::Command(c) = cmd.kind {
                return self.on_command(c);
            }
            let typed = raw.trim().to_string();
            let Some(who) = self.proven() else { return vec![] };
            return match (r.overturn, r.items.get(r.selected)) {
                // An unidentified parcel: the code scanned or typed is the RMA it belongs to.
                (None, Some(item)) if item.kind == "unidentified" => {
                    vec![Effect::Link { id: item.id, rma: scan::parse(raw).text, who }]
                }
                (Some((outcome, grade)), Some(item)) => vec![Effect::Decide {
                    id: item.id,
                    decision: Decision::Overturn { outcome, grade },
                    comment: Some(in_file(&typed).into_owned()),
                    who,
                }],
                _ => self.error(t(self.lang, T::ReviewHint).to_string()),
            };
        }
        // Notes and review comments are text; a code is never this long: a scanner stuck on
        // repeat, or a paste.
        let n = raw.chars().count() + dropped;
        if n > MAX_SCAN_LEN {
            return self.error(say::scan_too_long(self.lang, n, MAX_SCAN_LEN));
        }
        let s = scan::parse(raw);
        let shown = on_screen(&s.text);
        match &s.kind {
            ScanKind::Empty => {
                // Enter on the order's list opens the return chosen with ↑/↓.
                if let Screen::Dock { offer: Some(Offer::Order { returns, selected, .. }) } = &self.screen {
                    let rma = returns[*selected].rma_no.clone();
                    self.screen = Screen::Dock { offer: None };
                    self.band = None;
                    return vec![Effect::LookupParcel(rma)];
                }
                return vec![];
            }
            ScanKind::Badge(id) => {
                // A badge ends any supervisor session: the next person proves themselves.
                self.unlocked = None;
                return vec![Effect::SignIn(id.clone())];
            }
            ScanKind::Command(c) => return self.on_command(*c),
            ScanKind::UnknownCommand(c) => return self.error(say::unknown_command(self.lang, &on_screen(c))),
            ScanKind::NotAscii => return self.error(say::not_ascii(self.lang)),
            _ => {}
        }
        if self.user.is_none() {
            // At the sign-in screen a typed id signs in.
            return vec![Effect::SignIn(s.text.clone())];
        }
        match &self.screen {
            Screen::SignIn => vec![Effect::SignIn(s.text.clone())],
            Screen::Review(_) | Screen::Pin { .. } => vec![],
            Screen::Dashboard(_) => {
                // A parcel scan leaves the figures for the dock.
                self.screen = Screen::Dock { offer: None };
                self.band = None;
                vec![Effect::LookupParcel(s.text.clone())]
            }
            Screen::Dock { .. } => {
                self.band = None;
                vec![Effect::LookupParcel(s.text.clone())]
            }
            Screen::Parcel(p) => {
                let parcel = p.view.id;
                match p.prompt.clone() {
                    Prompt::Unit => self.product_scan(&s, &shown),
                    Prompt::Serial { mut unit, .. } => {
                        unit.serial = Some(s.text.clone());
                        vec![Effect::RecordUnit { parcel, unit }]
                    }
                    Prompt::Reason { unit_id, outcome, grade } => match numbered(&s.text, Reason::ALL) {
                        Some(r) => self.reason_given(unit_id, outcome, grade, r),
                        None => self.error(t(self.lang, T::ReasonPrompt).to_string()),
                    },
                    Prompt::RefuseParcel => match numbered(&s.text, Reason::ALL) {
                        Some(reason) => vec![Effect::RefuseParcel { parcel, reason }],
                        None => self.error(t(self.lang, T::RefuseParcelPrompt).to_string()),
                    },
                    Prompt::Cause { unit_id } => match numbered(&s.text, Cause::ALL) {
                        Some(cause) => {
                            let unit = p.view.units.iter().find(|u| u.id == unit_id).and_then(inspection_of);
                            match unit {
                                Some(mut inspection) => {
                                    inspection.cause = cause;
                                    vec![Effect::Inspect { parcel, unit_id, inspection }]
                                }
                                None => self.error(say::no_unit(self.lang)),
                            }
                        }
                        None => self.error(t(self.lang, T::CausePrompt).to_string()),
                    },
                    Prompt::Sign { .. } => self.error(t(self.lang, T::SignPrompt).to_string()),
                    Prompt::Note { .. } => unreachable!("handled above"),
                }
            }
        }
    }

    /// A product scan on the parcel screen: what to look up.
    fn product_scan(&mut self, s: &scan::Scan, shown: &str) -> Vec<Effect> {
        let mut unit = NewUnit { scan: s.text.clone(), ..NewUnit::default() };
        let (code, expected_check) = match &s.kind {
            ScanKind::Gtin { gtin, .. } => {
                unit.gtin = Some(gtin.as_str().to_string());
                (gtin.as_str().to_string(), None)
            }
            // A box's SSCC (AI 00) alone names a box the catalog lists as a product's barcode.
            ScanKind::Gs1(e) if e.gtin().is_none() && e.sscc().is_some() => {
                let sscc = e.sscc().unwrap_or_default().to_string();
                unit.box_mark = Some(sscc.clone());
                (sscc, None)
            }
            ScanKind::Gs1(e) => {
                let Some(gtin) = e.gtin() else { return self.error(say::unknown_product(self.lang, shown)) };
                unit.gtin = Some(gtin.as_str().to_string());
                unit.serial = e.serial().map(String::from);
                unit.lot = e.lot().map(String::from);
                unit.expiry = e.best_before().map(|d| d.to_string());
                (gtin.as_str().to_string(), None)
            }
            ScanKind::BadGs1(err) => return self.error(format!("{shown}: {err}")),
            ScanKind::BadGtin { expected_check } => (s.text.clone(), Some(*expected_check)),
            ScanKind::Tracking(_) | ScanKind::BadS10 { .. } => {
                return self.error(say::parcel_open_first(self.lang))
            }
            _ => (s.text.clone(), None),
        };
        vec![Effect::FindProduct { code, expected_check, unit }]
    }

    fn reason_given(
        &mut self,
        unit_id: i64,
        outcome: Outcome,
        grade: Option<Grade>,
        reason: Reason,
    ) -> Vec<Effect> {
        let Some(p) = self.parcel() else { return vec![] };
        let unit = p.view.units.iter().find(|u| u.id == unit_id);
        let cause = default_cause(customer_reason(&p.view, unit), unit.and_then(|u| u.flag), Some(reason));
        let inspection = Inspection::new(outcome, grade, Some(reason), cause);
        let parcel = p.view.id;
        if reason == Reason::Other {
            if let Some(p) = self.parcel_mut() {
                p.prompt = Prompt::Note { unit_id, inspection };
            }
            return vec![];
        }
        vec![Effect::Inspect { parcel, unit_id, inspection }]
    }

    fn on_command(&mut self, c: Command) -> Vec<Effect> {
        let lang = self.lang;
        let reason_name;
        let name = match c {
            Command::Reason(r) => {
                reason_name = format!("CMD-REASON-{}", r.code());
                reason_name.as_str()
            }
            _ => super::keys::binding(Action::Command(c)).map_or("", |b| b.words(lang)),
        };
        if self.user.is_none() {
            return self.error(say::sign_in_first(lang));
        }
        if c == Command::Reprint {
            return self.reprint();
        }
        if let Screen::Dashboard(_) = &self.screen {
            if c == Command::Cancel {
                self.screen = Screen::Dock { offer: None };
            }
            return vec![];
        }
        if let Screen::Pin { .. } = &self.screen {
            if c != Command::Cancel {
                return self.error(t(lang, T::PinPrompt).to_string());
            }
            if let Screen::Pin { back, .. } = std::mem::replace(&mut self.screen, Screen::SignIn) {
                self.screen = *back;
            }
            self.band = None;
            return vec![];
        }
        if let Screen::Review(r) = &self.screen {
            let Some(who) = self.proven() else {
                self.screen = Screen::Dock { offer: None };
                return vec![];
            };
            let item = r.items.get(r.selected).map(|i| i.id);
            let overturn_to = match c {
                Command::Accept => Some((Outcome::Accept, Some(Grade::A))),
                Command::SecondHand(g) => Some((Outcome::SecondHand, Some(g))),
                Command::Scrap => Some((Outcome::Scrap, None)),
                Command::ReturnToSupplier => Some((Outcome::ReturnToSupplier, None)),
                Command::Refuse => Some((Outcome::Refuse, None)),
                _ => None,
            };
            return match (c, item) {
                (Command::Cancel, _) => {
                    if let Screen::Review(r) = &mut self.screen {
                        if r.overturn.take().is_none() {
                            self.screen = Screen::Dock { offer: None };
                        }
                    }
                    self.band = None;
                    vec![]
                }
                (Command::Confirm, Some(id)) => {
                    vec![Effect::Decide { id, decision: Decision::Confirm, comment: None, who }]
                }
                (_, Some(_)) if overturn_to.is_some() => {
                    if let Screen::Review(r) = &mut self.screen {
                        r.overturn = overturn_to;
                    }
                    self.band = None;
                    vec![]
                }
                _ => self.error(say::not_now(lang, name)),
            };
        }
        if let Screen::Dock { offer } = &self.screen {
            return match (c, offer.clone()) {
                (Command::Unidentified, Some(Offer::Unidentified(scan))) => {
                    vec![Effect::OpenParcel { scan, returns: vec![] }]
                }
                (Command::Confirm, Some(Offer::TakeOver { parcel })) => {
                    self.supervisor(Pending::TakeOver(parcel))
                }
                (Command::Cancel, _) => {
                    self.screen = Screen::Dock { offer: None };
                    self.band = None;
                    vec![]
                }
                _ => self.error(say::not_now(lang, name)),
            };
        }
        let Some(p) = self.parcel() else { return self.error(say::not_now(lang, name)) };
        let parcel = p.view.id;
        match c {
            Command::Accept
            | Command::SecondHand(_)
            | Command::Scrap
            | Command::ReturnToSupplier
            | Command::Refuse => {
                if !matches!(p.prompt, Prompt::Unit | Prompt::Reason { .. }) {
                    return self.error(say::not_now(lang, name));
                }
                // While a reason is asked for, another outcome replaces the one chosen for the
                // same unit.
                let unit = match &p.prompt {
                    Prompt::Reason { unit_id, .. } => p.view.units.iter().find(|u| u.id == *unit_id).cloned(),
                    _ => p.target().cloned(),
                };
                let Some(unit) = unit else {
                    return if p.view.units.is_empty() {
                        self.error(say::no_unit(lang))
                    } else {
                        self.error(say::all_inspected(lang))
                    };
                };
                let (outcome, grade) = match c {
                    Command::Accept => (Outcome::Accept, Some(Grade::A)),
                    Command::SecondHand(g) => (Outcome::SecondHand, Some(g)),
                    Command::Scrap => (Outcome::Scrap, None),
                    Command::ReturnToSupplier => (Outcome::ReturnToSupplier, None),
                    _ => (Outcome::Refuse, None),
                };
                if outcome == Outcome::Accept {
                    let cause = default_cause(customer_reason(&p.view, Some(&unit)), unit.flag, None);
                    let inspection = Inspection::new(outcome, grade, None, cause);
                    return vec![Effect::Inspect { parcel, unit_id: unit.id, inspection }];
                }
                if let Some(p) = self.parcel_mut() {
                    p.prompt = Prompt::Reason { unit_id: unit.id, outcome, grade };
                }
                self.band = None;
                vec![]
            }
            Command::Reason(r) => match p.prompt.clone() {
                Prompt::Reason { unit_id, outcome, grade } => self.reason_given(unit_id, outcome, grade, r),
                Prompt::RefuseParcel => vec![Effect::RefuseParcel { parcel, reason: r }],
                _ => self.error(say::not_now(lang, name)),
            },
            Command::Undo => vec![Effect::Undo(parcel)],
            Command::Sign if matches!(p.prompt, Prompt::Unit) => {
                let found = p.view.discrepancies();
                match signable(&found) {
                    Signable::Blocked => {
                        let n = found.iter().filter(|d| matches!(d, Discrepancy::Uninspected { .. })).count();
                        self.error(say::cannot_sign(lang, n))
                    }
                    Signable::Clean => {
                        vec![Effect::Sign { parcel, confirmed: false, shown: found, rest: Rest::Missing }]
                    }
                    Signable::NeedsConfirmation => {
                        let text = t(lang, sign_prompt(&found)).to_string();
                        if let Some(p) = self.parcel_mut() {
                            p.prompt = Prompt::Sign { found };
                        }
                        self.warn(text)
                    }
                }
            }
            // SIGN again while units are not in the box: more boxes of the return are to come.
            Command::Sign => match &p.prompt {
                Prompt::Sign { found } if sign_prompt(found) == T::LastBoxPrompt => {
                    vec![Effect::Sign { parcel, confirmed: true, shown: found.clone(), rest: Rest::Awaited }]
                }
                _ => self.error(say::not_now(lang, name)),
            },
            Command::Confirm => match &p.prompt {
                Prompt::Sign { found } => {
                    vec![Effect::Sign { parcel, confirmed: true, shown: found.clone(), rest: Rest::Missing }]
                }
                _ => self.error(say::not_now(lang, name)),
            },
            Command::RefuseParcel => {
                if let Some(p) = self.parcel_mut() {
                    p.prompt = Prompt::RefuseParcel;
                }
                self.band = None;
                vec![]
            }
            Command::Cancel => {
                if let Some(p) = self.parcel_mut() {
                    p.prompt = Prompt::Unit;
                }
                self.band = None;
                vec![]
            }
            Command::Unidentified => self.error(say::parcel_open_first(lang)),
            Command::Reprint => self.reprint(),
        }
    }

    fn on_result(&mut self, msg: Msg) -> Vec<Effect> {
        let lang = self.lang;
        match msg {
            Msg::SignedIn { id, user, resume, dock } => {
                let Some(user) = user.filter(|u| u.active) else {
                    return self.error(say::unknown_user(lang, &on_screen(&id)));
                };
                let text = say::signed_in(lang, &on_screen(&user.name), user.role == Role::Supervisor);
                self.unlocked = None;
                self.user = Some(user);
                self.dock = dock;
                match resume {
                    Some(view) => self.open(view, true),
                    None => {
                        if !matches!(self.screen, Screen::Parcel(_)) {
                            self.screen = Screen::Dock { offer: None };
                        }
                        self.ok(text)
                    }
                }
            }
            Msg::Dock(dock) => {
                self.dock = dock;
                vec![]
            }
            Msg::Looked { scan, found } => match found {
                ParcelLookup::Expected(rs) => {
                    vec![Effect::OpenParcel { scan, returns: rs.iter().map(|r| r.id).collect() }]
                }
                ParcelLookup::Resume(id) => vec![Effect::ResumeParcel(id)],
                ParcelLookup::OrderReturns { order_no, returns } => {
                    let text = say::order_in_boxes(lang, &on_screen(&order_no), returns.len());
                    self.screen =
                        Screen::Dock { offer: Some(Offer::Order { order_no, returns, selected: 0 }) };
                    self.warn(text)
                }
                ParcelLookup::OpenElsewhere(p) => {
                    if self.user.as_ref().is_some_and(|u| u.role == Role::Supervisor) {
                        self.screen = Screen::Dock { offer: Some(Offer::TakeOver { parcel: p.parcel_id }) };
                        self.warn(say::take_over_offer(lang, &p.station, &p.operator))
                    } else {
                        self.error(say::open_elsewhere(lang, &p.station, &p.operator))
                    }
                }
                ParcelLookup::Duplicate(p) => {
                    let at = p.closed_at.as_deref().unwrap_or(&p.received_at);
                    let text = say::duplicate(lang, &p.state, &self.short_time(at), &p.station, &p.operator);
                    match &p.rma_awaiting {
                        Some(rma) => {
                            self.error(format!("{text} · {}", say::another_box(lang, &on_screen(rma))))
                        }
                        None => self.error(text),
                    }
                }
                ParcelLookup::NotFound => {
                    self.screen = Screen::Dock { offer: Some(Offer::Unidentified(scan.clone())) };
                    self.error(say::parcel_not_found(lang, &on_screen(&scan)))
                }
            },
            Msg::Opened { view, resumed } => self.open(view, resumed),
            Msg::OpenRefused(r) => self.refusal(r),
            Msg::ProductFound { code, expected_check, unit, product } => {
                let Some(product) = product else {
                    return match expected_check {
                        Some(e) => self.error(say::bad_check_digit(lang, &on_screen(&code), e)),
                        None => self.error(say::unknown_product(lang, &on_screen(&code))),
                    };
                };
                let mut unit = unit;
                unit.sku = Some(product.sku.clone());
                let Some(p) = self.parcel_mut() else { return vec![] };
                if product.serialised && unit.serial.is_none() {
                    p.prompt = Prompt::Serial { product, unit };
                    self.band = None;
                    return vec![];
                }
                vec![Effect::RecordUnit { parcel: p.view.id, unit }]
            }
            Msg::UnitRecorded { result, view, serial } => {
                let parcel = view.id;
                let Some(p) = self.parcel_mut() else { return vec![] };
                p.view = view;
                p.prompt = Prompt::Unit;
                match result {
                    Ok((id, Placement::Place { line, flag })) => {
                        p.current = Some(id);
                        p.picked = false;
                        let unit = p.view.units.iter().find(|u| u.id == id).cloned();
                        let boxes = unit.as_ref().and_then(|u| u.boxes.filter(|_| u.incomplete()));
                        let (seq, sku) = unit.map(|u| (u.seq, u.sku.unwrap_or_default())).unwrap_or_default();
                        let rma = line
                            .and_then(|l| p.view.lines.iter().find(|x| x.line == l))
                            .map(|l| l.rma_no.clone())
                            .unwrap_or_default();
                        match flag {
                            Some(f) => {
                                self.warn(say::unit_flagged(lang, seq, &on_screen(&sku), flag_words(lang, f)))
                            }
                            // The first box of a product in several: the others come next.
                            None if boxes.is_some() => {
                                let (have, of) = boxes.unwrap_or_default();
                                self.ok(say::box_added(lang, seq, &on_screen(&sku), have, of))
                            }
                            None if self.auto_accept => {
                                let inspection =
                                    Inspection::new(Outcome::Accept, None, None, Cause::ChangedMind);
                                vec![Effect::Inspect { parcel, unit_id: id, inspection }]
                            }
                            None => self.ok(say::unit_ok(lang, seq, &on_screen(&sku), &on_screen(&rma))),
                        }
                    }
                    Ok((_, Placement::SerialAlreadyScanned { seq })) => {
                        self.error(say::serial_twice(lang, &on_screen(serial.as_deref().unwrap_or("")), seq))
                    }
                    Ok((id, Placement::BoxAdded { seq, have, of })) => {
                        p.current = Some(id);
                        p.picked = false;
                        let sku = p.view.units.iter().find(|u| u.id == id).and_then(|u| u.sku.clone());
                        self.ok(say::box_added(lang, seq, &on_screen(&sku.unwrap_or_default()), have, of))
                    }
                    Ok((_, Placement::SerialInEarlierBox { parcel })) => self.error(
                        say::serial_in_earlier_box(lang, &on_screen(serial.as_deref().unwrap_or("")), parcel),
                    ),
                    Err(r) => self.refusal(r),
                }
            }
            Msg::Inspected { result, unit_id, view } => {
                let policy = self.policy;
                let Some(p) = self.parcel_mut() else { return vec![] };
                p.view = view;
                p.prompt = Prompt::Unit;
                match result {
                    Ok(done) => {
                        self.last_inspected = Some(unit_id);
                        let Some(p) = self.parcel_mut() else { return vec![] };
                        // The unit just given an outcome is current; the next outcome goes
                        // to the latest unit still without one.
                        p.current = Some(unit_id);
                        p.picked = false;
                        let u = p.view.units.iter().find(|u| u.id == unit_id).cloned();
                        let mandatory = u.as_ref().and_then(|u| policy.mandatory(&p.view, u));
                        let text = match u {
                            Some(u) => {
                                let outcome =
                                    u.outcome.map(|o| outcome_words(lang, o, u.grade)).unwrap_or_default();
                                // The same outcome again is a change of its cause or note, not a
                                // correction of the outcome.
                                let mut words = match done.correction {
                                    Some((was, g)) if (Some(was), g) != (u.outcome, u.grade) => {
                                        say::corrected(lang, u.seq, &outcome_words(lang, was, g), &outcome)
                                    }
                                    _ => say::inspected(lang, u.seq, &outcome),
                                };
                                let reason = u.reason.map(|r| lang.code(r));
                                if let Some(r) = reason {
                                    words.push_str(&format!(" · {r}"));
                                }
                                // A cause worded as the reason (transit damage) is said once.
                                if let Some(c) = u.cause.map(|c| lang.code(c)).filter(|c| Some(*c) != reason)
                                {
                                    words.push_str(&format!(" · {c}"));
                                }
                                words
                            }
                            None => t(lang, T::Saved).to_string(),
                        };
                        match mandatory {
                            Some(m) => self.warn(format!("{text} · {}", say::mandatory_review(lang, m))),
                            None => self.ok(text),
                        }
                    }
                    Err(r) => self.refusal(r),
                }
            }
            Msg::Undone { result, view } => {
                let Some(p) = self.parcel_mut() else { return vec![] };
                p.view = view;
                p.prompt = Prompt::Unit;
                p.current = p.view.units.last().map(|u| u.id);
                p.picked = false;
                match result {
                    Ok(Undone::Unit { seq, sku }) => {
                        self.ok(say::undone_unit(lang, seq, &on_screen(sku.as_deref().unwrap_or("?"))))
                    }
                    Ok(Undone::Box { seq, sku }) => {
                        self.ok(say::undone_box(lang, seq, &on_screen(sku.as_deref().unwrap_or("?"))))
                    }
                    Ok(Undone::Inspection { seq, sku, taken, restored }) => {
                        // The unit whose outcome was taken back is the one the next outcome goes to.
                        if let Some(p) = self.parcel_mut() {
                            p.current = p.view.units.iter().find(|u| u.seq == seq).map(|u| u.id);
                        }
                        let taken = taken.map(|(o, g)| outcome_words(lang, o, g)).unwrap_or_default();
                        let now = restored.map(|(o, g)| outcome_words(lang, o, g));
                        let sku = on_screen(sku.as_deref().unwrap_or("?"));
                        self.ok(say::undone_outcome(lang, seq, &sku, &taken, now.as_deref()))
                    }
                    Err(r) => self.refusal(r),
                }
            }
            Msg::Signed { result: Err(Refusal::Changed(found)), view: Some(view), .. } => {
                // What stands now is shown before anything is signed.
                let Some(p) = self.parcel_mut() else { return vec![] };
                p.view = view;
                p.prompt = match signable(&found) {
                    Signable::Blocked => Prompt::Unit,
                    _ => Prompt::Sign { found },
                };
                self.warn(say::parcel_changed(lang))
            }
            Msg::Signed { result, parcel, dock, .. } => match result {
                Ok(SignedBox { found, settled }) => {
                    let awaited: Vec<(String, i64)> = settled
                        .iter()
                        .filter(|s| s.closed.is_none() && s.awaited > 0)
                        .map(|s| (on_screen(&s.rma_no), s.awaited))
                        .collect();
                    // A parcel that expects nothing goes to the supervisor as unidentified,
                    // even with nothing in it: said so, not as a plain OK.
                    let unidentified = self.parcel().is_some_and(|p| p.view.expects_nothing());
                    self.dock = dock;
                    self.screen = Screen::Dock { offer: None };
                    if !awaited.is_empty() {
                        let text = say::box_signed(
                            lang,
                            parcel,
                            found.len(),
                            &awaited,
                            self.policy.await_boxes_days,
                        );
                        if found.is_empty() {
                            self.ok(text)
                        } else {
                            self.warn(text)
                        }
                    } else if unidentified && found.is_empty() {
                        self.warn(say::signed_unidentified(lang, parcel))
                    } else if found.is_empty() {
                        self.ok(say::signed(lang, parcel, 0))
                    } else {
                        self.warn(say::signed(lang, parcel, found.len()))
                    }
                }
                Err(r) => self.refusal(r),
            },
            Msg::ParcelRefused { result, parcel, dock } => match result {
                Ok(()) => {
                    self.dock = dock;
                    self.screen = Screen::Dock { offer: None };
                    self.warn(say::refused_parcel(lang, parcel))
                }
                Err(r) => self.refusal(r),
            },
            Msg::Storage(m) => {
                // A step that was not saved changes nothing: a prompt it was part of (the
                // serial of a unit, the reason of an outcome, a note, the sign confirmation)
                // closes, so the next scan cannot land where this one was meant to.
                let again = match self.parcel().map(|p| &p.prompt) {
                    Some(Prompt::Serial { .. }) => say::Again::UnitAndSerial,
                    Some(Prompt::Reason { .. }) => say::Again::OutcomeAndReason,
                    Some(Prompt::Note { .. }) => say::Again::Note,
                    Some(Prompt::Cause { .. }) => say::Again::Cause,
                    Some(Prompt::Sign { .. }) => say::Again::Sign,
                    _ => say::Again::Scan,
                };
                if let Some(p) = self.parcel_mut() {
                    p.prompt = Prompt::Unit;
                }
                // The same scan again at once is the operator trying again, not a double read.
                self.last_scan = None;
                self.error(say::not_saved(lang, &on_screen(&m), again))
            }
            Msg::Reviews(items) => {
                if let Screen::Review(r) = &mut self.screen {
                    r.selected = r.selected.min(items.len().saturating_sub(1));
                    r.items = items;
                    let n = r.items.len();
                    return self.ok(say::reviews_waiting(lang, n));
                }
                vec![]
            }
            Msg::PinChecked(result) => {
                let Screen::Pin { then, .. } = self.screen else { return vec![] };
                match result {
                    Ok(who) => {
                        self.unlocked = Some(Unlocked { who, last: self.arrived });
                        if let Screen::Pin { back, .. } = std::mem::replace(&mut self.screen, Screen::SignIn)
                        {
                            self.screen = *back;
                        }
                        let text = say::session_open(lang, self.supervisor_idle);
                        self.band = Some(Band { tone: Tone::Ok, text });
                        self.perform(then)
                    }
                    Err(refusal) => {
                        if matches!(refusal, PinRefusal::Locked { .. }) {
                            if let Screen::Pin { back, .. } =
                                std::mem::replace(&mut self.screen, Screen::SignIn)
                            {
                                self.screen = *back;
                            }
                        }
                        let text = say::pin_refused(lang, &refusal, self.zone);
                        self.error(text)
                    }
                }
            }
            Msg::Linked { id, rma, result, items } => {
                self.review_items(items);
                match result {
                    Ok(()) => self.ok(say::linked(lang, id, &on_screen(&rma))),
                    Err(ReviewRefusal::NoSuchReturn(r)) => {
                        self.error(say::no_such_return(lang, &on_screen(&r)))
                    }
                    Err(e) => self.error(on_screen(&e.to_string())),
                }
            }
            Msg::Decided { id, result, items } => {
                self.review_items(items);
                match result {
                    Ok(()) => self.ok(say::decided(lang, id)),
                    Err(e) => self.error(e.to_string()),
                }
            }
            Msg::Exported(Ok((rows, path))) => self.ok(say::exported(lang, rows, &on_screen(&path))),
            Msg::Exported(Err(e)) => self.error(say::storage(lang, &on_screen(&e))),
            Msg::Printed(news) => {
                // The band belongs to the last scan; the printer's state shows in the header,
                // with one bell when trouble starts.
                let started = self.printer_trouble.is_none();
                self.printer_trouble = news.error.map(|e| (on_screen(&e), news.waiting));
                if started && self.printer_trouble.is_some() && self.bell {
                    vec![Effect::Bell]
                } else {
                    vec![]
                }
            }
            Msg::Reprinting(label) => self.ok(say::reprinting(lang, &label)),
            Msg::NoPrinter => self.warn(say::no_printer(lang)),
            Msg::DashboardLoaded { today, week } => {
                self.screen = Screen::Dashboard(Box::new(DashboardScreen { today: *today, week: *week }));
                vec![]
            }
            Msg::Scan(_) | Msg::Action(_) | Msg::Char(_) | Msg::Backspace => vec![],
        }
    }

    fn open(&mut self, view: ParcelView, resumed: bool) -> Vec<Effect> {
        let lang = self.lang;
        let id = view.id;
        let rmas: Vec<String> = view.returns.iter().map(|r| on_screen(&r.rma_no)).collect();
        let unidentified = view.unidentified && view.units.is_empty() && !resumed;
        let current = view.units.last().map(|u| u.id);
        self.screen =
            Screen::Parcel(Box::new(ParcelScreen { view, prompt: Prompt::Unit, current, picked: false }));
        // A later box of a return: which box, and what it may still hold.
        let boxes: Vec<String> = match &self.screen {
            Screen::Parcel(p) => p
                .view
                .returns
                .iter()
                .filter(|r| r.boxes > 0)
                .map(|r| {
                    let awaited = p.view.lines.iter().filter(|l| l.line.0 == r.id).map(|l| l.qty).sum();
                    say::later_box(lang, &on_screen(&r.rma_no), r.boxes + 1, awaited)
                })
                .collect(),
            _ => vec![],
        };
        if resumed {
            self.ok(say::parcel_resumed(lang, id))
        } else if !boxes.is_empty() {
            self.ok(boxes.join(" · "))
        } else if unidentified {
            self.warn(say::unidentified_booked(lang, id))
        } else {
            self.ok(say::parcel_opened(lang, &rmas.join(" + ")))
        }
    }

    fn refusal(&mut self, r: Refusal) -> Vec<Effect> {
        let lang = self.lang;
        match r {
            Refusal::TakenBy(p) if matches!(self.screen, Screen::Parcel(_)) => {
                // A supervisor moved the parcel away while it was on this screen.
                self.screen = Screen::Dock { offer: None };
                self.error(say::taken_over(lang, &p.station))
            }
            Refusal::TakenBy(p) => self.error(say::taken(lang, &p.station)),
            Refusal::Closed => {
                self.screen = Screen::Dock { offer: None };
                self.error(say::closed(lang))
            }
            Refusal::Uninspected(n) => self.error(say::cannot_sign(lang, n)),
            Refusal::NotConfirmed => self.warn(t(lang, T::SignPrompt).to_string()),
            Refusal::NothingToUndo => self.error(say::not_now(lang, t(lang, T::NothingYet))),
            Refusal::NoSuchUnit => self.error(say::no_unit(lang)),
            Refusal::Changed(_) => self.warn(say::parcel_changed(lang)),
            Refusal::NeedsEveryBox { seq, have, of } => self.error(say::needs_every_box(lang, seq, have, of)),
            Refusal::UnitsIncomplete(n) => self.error(say::units_incomplete(lang, n)),
            Refusal::SerialIsABarcode(sku) => self.error(say::serial_is_a_barcode(lang, &on_screen(&sku))),
        }
    }
}

/// What signing asks: whether this is the return's last box when units are not in it, else
/// only to confirm the discrepancies shown.
pub fn sign_prompt(found: &[Discrepancy]) -> T {
    if found.iter().any(Discrepancy::awaited) {
        T::LastBoxPrompt
    } else {
        T::SignPrompt
    }
}

/// The customer's stated reason for the unit's return.
fn customer_reason<'a>(view: &'a ParcelView, unit: Option<&UnitRecord>) -> Option<&'a str> {
    let rid = unit.and_then(|u| u.line).map(|l| l.0);
    view.returns.iter().find(|r| Some(r.id) == rid).or(view.returns.first()).and_then(|r| r.reason.as_deref())
}

/// The inspection a unit has, to change one part of it.
fn inspection_of(u: &UnitRecord) -> Option<Inspection> {
    Some(Inspection {
        outcome: u.outcome?,
        grade: u.grade,
        reason: u.reason,
        cause: u.cause.unwrap_or(Cause::ChangedMind),
        note: u.note.clone(),
    })
}

/// Item `n` (1-based) of a list, from a typed number.
fn numbered<C: Copy>(text: &str, list: &[C]) -> Option<C> {
    let n: usize = text.trim().parse().ok()?;
    list.get(n.checked_sub(1)?).copied()
}

/// A stored instant (`2026-11-22T01:15:02.123Z`) shown in `zone` as `11-22 09:15`; text that
/// is not a time is shown as it is.
pub fn short_time(ts: &str, zone: chrono::FixedOffset) -> String {
    match chrono::DateTime::parse_from_rfc3339(ts) {
        Ok(t) => t.with_timezone(&zone).format("%m-%d %H:%M").to_string(),
        Err(_) => ts.to_string(),
    }
}

/// An outcome as the operator reads it, with its grade where it has one: `Second-hand B`.
pub fn outcome_words(lang: Lang, outcome: Outcome, grade: Option<Grade>) -> String {
    match (outcome, grade) {
        (Outcome::SecondHand, Some(g)) => format!("{} {}", lang.code(outcome), g.code()),
        _ => lang.code(outcome).to_string(),
    }
}

/// What a PIN can be: 4 to 12 digits.
fn is_pin_shaped(s: &str) -> bool {
    (4..=12).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}
