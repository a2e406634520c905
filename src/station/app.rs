//! The station's state and its one entry point, [`App::update`]: a message in (a scan, a key,
//! or the result of a database step), the state changed, and the effects the loop must carry
//! out returned. No IO and no clock here; the loop does those and answers with messages.

use super::keys::Action;
use super::screen::{dashboard, dock, parcel, pin, review, sign_in};
use super::text::{say, t, Lang, T};
use crate::domain::codes::{Coded, Grade, Outcome, Role};
use crate::domain::scan::{self, Command, ScanKind, MAX_SCAN_LEN};
use crate::domain::text::on_screen;
use crate::store::auth::Proven;
use crate::store::station::{Refusal, User};

pub use super::messages::{Effect, ExportDone, Msg};
pub use super::screen::dashboard::DashboardScreen;
pub use super::screen::dock::Offer;
pub use super::screen::parcel::{sign_prompt, ParcelScreen, Prompt};
pub use super::screen::review::ReviewScreen;

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
pub struct App {
    pub lang: Lang,
    pub station: String,
    /// The dock the station stands at, shown in the header when named.
    pub dock_name: String,
    pub bell: bool,
    /// A sound is configured for an OK (`[scanner] ok_sound`), and for a warning or an error
    /// (`error_sound`, which then takes the bell's place).
    pub ok_sound: bool,
    pub error_sound: bool,
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
    /// A camera folder is set (`[photos] inbox`): `CMD-PHOTO` takes from it.
    pub photos_on: bool,
    /// The camera folder, as the band names it.
    pub photos_dir: String,
    /// A desktop viewer is set (`[photos] viewer`): the review screen's photo opens there too.
    pub viewer_on: bool,
}

impl App {
    pub fn new(station: &str, lang: Lang, bell: bool, auto_accept: bool) -> App {
        App {
            lang,
            station: station.to_string(),
            dock_name: String::new(),
            bell,
            ok_sound: false,
            error_sound: false,
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
            photos_on: false,
            photos_dir: String::new(),
            viewer_on: false,
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
    pub(crate) fn supervisor(&mut self, then: Pending) -> Vec<Effect> {
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
    pub(crate) fn perform(&mut self, then: Pending) -> Vec<Effect> {
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
                self.screen = Screen::Review(Box::new(ReviewScreen {
                    items: vec![],
                    selected: 0,
                    overturn: None,
                    preview: None,
                }));
                vec![Effect::LoadReviews]
            }
            Pending::Dashboard => vec![Effect::LoadDashboard],
        }
    }

    /// The open session's supervisor.
    pub(crate) fn proven(&self) -> Option<Proven> {
        self.unlocked.as_ref().map(|u| u.who.clone())
    }

    /// A batch of events begins.
    pub fn batch_begins(&mut self) {
        self.refused_in_batch = (0, None);
    }

    /// A batch of events ended. When some of its scans were refused but the band shows a later
    /// success, or a later refusal, the band says so and keeps the first refusal; true when it
    /// turned a success into an error (ring the bell).
    pub fn batch_ends(&mut self) -> bool {
        let (n, first) = std::mem::take(&mut self.refused_in_batch);
        let Some(first) = first else { return false };
        match &mut self.band {
            Some(b) if b.tone != Tone::Error => {
                b.tone = Tone::Error;
                b.text = format!("{} · {}", b.text, say::refused_in_burst(self.lang, n, &first));
                self.bell
            }
            // The burst ended on a refusal of its own: the first one is said too, when it was
            // another (it rang already).
            Some(b) if n > 1 && b.text != first => {
                b.text = format!("{} · {}", b.text, say::refused_in_burst(self.lang, n, &first));
                false
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

    /// The label to print again: the current unit's if it has an outcome, else the last one.
    fn reprint(&mut self) -> Vec<Effect> {
        let current =
            self.parcel().and_then(|p| p.current_unit()).filter(|u| u.outcome.is_some()).map(|u| u.id);
        match current.or(self.last_inspected) {
            Some(id) => vec![Effect::Reprint(id)],
            None => self.error(say::nothing_to_reprint(self.lang)),
        }
    }

    pub(crate) fn ok(&mut self, text: String) -> Vec<Effect> {
        self.band = Some(Band { tone: Tone::Ok, text });
        self.sound(Tone::Ok)
    }

    pub(crate) fn warn(&mut self, text: String) -> Vec<Effect> {
        self.band = Some(Band { tone: Tone::Warn, text });
        self.sound(Tone::Warn)
    }

    pub(crate) fn error(&mut self, text: String) -> Vec<Effect> {
        self.refused_in_batch.0 += 1;
        self.refused_in_batch.1.get_or_insert_with(|| text.clone());
        self.band = Some(Band { tone: Tone::Error, text });
        self.sound(Tone::Error)
    }

    /// What a band of `tone` is heard as: its configured sound, else the bell for a warning
    /// or an error.
    fn sound(&self, tone: Tone) -> Vec<Effect> {
        match tone {
            Tone::Ok if self.ok_sound => vec![Effect::Sound(tone)],
            Tone::Ok => vec![],
            _ if self.error_sound => vec![Effect::Sound(tone)],
            _ if self.bell => vec![Effect::Bell],
            _ => vec![],
        }
    }

    pub(crate) fn parcel(&self) -> Option<&ParcelScreen> {
        match &self.screen {
            Screen::Parcel(p) => Some(p),
            _ => None,
        }
    }

    pub(crate) fn parcel_mut(&mut self) -> Option<&mut ParcelScreen> {
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

    /// The actions the screen takes now, most used first: what the footer and the help show,
    /// and the only ones a key or a command barcode can do (a refused one is said, with why).
    pub fn accepts(&self) -> Vec<Action> {
        if self.user.is_none() {
            return sign_in::keys();
        }
        let mut keys = match &self.screen {
            Screen::SignIn => sign_in::keys(),
            Screen::Dock { offer } => dock::keys(self, offer.as_ref()),
            Screen::Parcel(p) => parcel::keys(self, p),
            Screen::Review(r) => review::keys(self, r),
            Screen::Dashboard(_) => dashboard::keys(),
            Screen::Pin { .. } => pin::keys(),
        };
        // A label prints again from the dock or the bench, whatever is being asked there.
        if matches!(self.screen, Screen::Dock { .. } | Screen::Parcel(_)) && self.can_reprint() {
            let quit = keys.iter().position(|a| *a == Action::Quit).unwrap_or(keys.len());
            keys.insert(quit, Action::Command(Command::Reprint));
        }
        // Photos are taken at the bench, whatever is being asked there.
        if matches!(self.screen, Screen::Parcel(_)) && self.photos_on {
            let quit = keys.iter().position(|a| *a == Action::Quit).unwrap_or(keys.len());
            keys.insert(quit, Action::Command(Command::Photo));
        }
        keys
    }

    /// True when the screen takes `action` now. A reason is one action whichever it is.
    pub fn takes(&self, action: Action) -> bool {
        let reason = |a: &Action| matches!(a, Action::Command(Command::Reason(_)));
        self.accepts().iter().any(|a| *a == action || reason(a) && reason(&action))
    }

    /// Something to print again: a unit given an outcome here, or the current one with one.
    pub fn can_reprint(&self) -> bool {
        self.last_inspected.is_some()
            || self.parcel().and_then(|p| p.current_unit()).is_some_and(|u| u.outcome.is_some())
    }

    /// The same scan again is taken as the operator trying again, not a double read.
    pub(crate) fn forget_last_scan(&mut self) {
        self.last_scan = None;
    }

    /// A key or a command barcode.
    pub(crate) fn on_action(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Help => {
                self.help = true;
                return vec![];
            }
            Action::Quit => return vec![Effect::Quit],
            _ => {}
        }
        if !self.takes(action) {
            return self.refuse_action(action);
        }
        match action {
            Action::Command(Command::Reprint) => return self.reprint(),
            Action::Command(Command::Photo) if matches!(self.screen, Screen::Parcel(_)) => {
                return self.take_photos()
            }
            Action::Export => return self.supervisor(Pending::Export),
            Action::Review | Action::Dashboard => {
                self.band = None;
                let then = if action == Action::Review { Pending::Review } else { Pending::Dashboard };
                return self.supervisor(then);
            }
            _ => {}
        }
        match &self.screen {
            Screen::SignIn => vec![],
            Screen::Dock { .. } => self.dock_action(action),
            Screen::Parcel(_) => self.parcel_action(action),
            Screen::Review(_) => self.review_action(action),
            Screen::Dashboard(_) => {
                self.screen = Screen::Dock { offer: None };
                vec![]
            }
            Screen::Pin { .. } => self.pin_action(action),
        }
    }

    /// An action the screen does not take now. Esc and the arrows, pressed by habit where they
    /// do nothing, are let go quietly, and so is CONFIRM at the dock; anything else is refused
    /// out loud, saying why.
    fn refuse_action(&mut self, action: Action) -> Vec<Effect> {
        let lang = self.lang;
        if matches!(action, Action::Up | Action::Down | Action::Command(Command::Cancel)) {
            return vec![];
        }
        // CONFIRM pressed by habit after a signature that needed none: the band keeps saying
        // the parcel was signed.
        if action == Action::Command(Command::Confirm) && matches!(self.screen, Screen::Dock { offer: None })
        {
            return vec![];
        }
        if self.user.is_none() {
            return self.error(say::sign_in_first(lang));
        }
        let supervisor = self.user.as_ref().is_some_and(|u| u.role == Role::Supervisor);
        let why = match (&self.screen, action) {
            (_, Action::Review | Action::Dashboard | Action::Export) if !supervisor => {
                Some(say::supervisors_only(lang))
            }
            (Screen::Dock { .. } | Screen::Parcel(_), Action::Command(Command::Reprint)) => {
                Some(say::nothing_to_reprint(lang))
            }
            (_, Action::Command(Command::Photo)) if !self.photos_on => Some(say::no_camera_folder(lang)),
            (_, Action::Command(Command::Photo)) => Some(say::photo_without_parcel(lang)),
            (Screen::Pin { .. }, _) => Some(t(lang, T::PinPrompt).to_string()),
            (Screen::Parcel(p), a) => parcel::why_not(lang, p, a),
            (Screen::Dock { .. }, a) => dock::why_not(lang, a),
            _ => None,
        };
        let why = why.unwrap_or_else(|| say::not_now(lang, &action_words(lang, action)));
        self.error(why)
    }

    /// A scan, or a line typed and ended with Enter; `dropped` characters of it went past the
    /// input's limit.
    fn on_scan(&mut self, raw: &str, dropped: usize) -> Vec<Effect> {
        // Notes, PINs and review comments are typed text, each read by its own screen.
        if let Some(effects) = self.note_typed(raw) {
            return effects;
        }
        if matches!(self.screen, Screen::Pin { .. }) {
            if let Some(effects) = self.pin_typed(raw) {
                return effects;
            }
        }
        if matches!(self.screen, Screen::Review(_)) {
            return self.review_typed(raw);
        }
        // A code is never this long: a scanner stuck on repeat, or a paste.
        let n = raw.chars().count() + dropped;
        if n > MAX_SCAN_LEN {
            return self.error(say::scan_too_long(self.lang, n, MAX_SCAN_LEN));
        }
        let s = scan::parse(raw);
        let shown = on_screen(&s.text);
        match &s.kind {
            ScanKind::Badge(id) => {
                // A badge ends any supervisor session: the next person proves themselves.
                self.unlocked = None;
                return vec![Effect::SignIn(id.clone())];
            }
            ScanKind::Command(c) => return self.on_action(Action::Command(*c)),
            ScanKind::UnknownCommand(c) => return self.error(say::unknown_command(self.lang, &on_screen(c))),
            ScanKind::NotAscii => return self.error(say::not_ascii(self.lang)),
            _ => {}
        }
        if self.user.is_none() || matches!(self.screen, Screen::SignIn) {
            // At the sign-in screen a typed id signs in.
            if s.kind == ScanKind::Empty {
                return vec![];
            }
            return vec![Effect::SignIn(s.text.clone())];
        }
        match &self.screen {
            Screen::Dock { .. } | Screen::Dashboard(_) => self.dock_scan(&s.text),
            Screen::Parcel(_) if s.kind == ScanKind::Empty => vec![],
            Screen::Parcel(_) => self.parcel_scan(&s, &shown),
            Screen::SignIn | Screen::Review(_) | Screen::Pin { .. } => vec![],
        }
    }

    fn on_result(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::SignedIn { id, user, resume, dock } => self.signed_in(&id, user, resume, dock),
            Msg::Dock(dock) => {
                self.dock = dock;
                vec![]
            }
            Msg::Looked { scan, found, product } => self.looked(scan, found, product),
            Msg::Opened { view, resumed } => self.open(view, resumed),
            Msg::OpenRefused(r) => self.refusal(r),
            Msg::ProductFound { code, expected_check, unit, product } => {
                self.product_found(&code, expected_check, unit, product)
            }
            Msg::UnitRecorded { result, view, serial } => self.unit_recorded(result, view, serial),
            Msg::Inspected { result, unit_id, view } => self.inspected(result, unit_id, view),
            Msg::Undone { result, view } => self.undone(result, view),
            Msg::Signed { result, parcel, dock, view } => self.signed(result, parcel, dock, view),
            Msg::ParcelRefused { result, parcel, dock } => self.parcel_refused(result, parcel, dock),
            Msg::Storage(m) => self.not_saved(&m),
            Msg::Reviews(items) => self.reviews_loaded(items),
            Msg::PinChecked(result) => self.pin_checked(result),
            Msg::Linked { id, rma, result, items } => self.linked(id, &rma, result, items),
            Msg::Decided { id, result, items } => self.decided(id, result, items),
            Msg::Exported(Ok(ExportDone::Written { rows, path })) => {
                self.ok(say::exported(self.lang, rows, &on_screen(&path)))
            }
            Msg::Exported(Ok(ExportDone::NothingNew { last })) => self.ok(say::nothing_new(self.lang, last)),
            Msg::Exported(Err(e)) => self.error(say::storage(self.lang, &on_screen(&e))),
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
            Msg::Reprinting(label) => self.ok(say::reprinting(self.lang, &label)),
            Msg::NoPrinter => self.warn(say::no_printer(self.lang)),
            Msg::DashboardLoaded { today, week } => {
                self.screen = Screen::Dashboard(Box::new(DashboardScreen { today: *today, week: *week }));
                vec![]
            }
            Msg::Photos { news, asked, view } => self.photos_handled(news, asked, view),
            Msg::PhotosShown(shown) => self.photos_shown(shown),
            Msg::PhotoOpened(Ok(name)) => self.ok(say::photo_opened(self.lang, &on_screen(&name))),
            Msg::PhotoOpened(Err(e)) => self.error(say::storage(self.lang, &on_screen(&e))),
            Msg::Scan(_) | Msg::Action(_) | Msg::Char(_) | Msg::Backspace => vec![],
        }
    }

    pub(crate) fn refusal(&mut self, r: Refusal) -> Vec<Effect> {
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
            Refusal::PhotoNeeded(units) => self.error(say::photo_needed(lang, &units)),
        }
    }
}

/// An action's words, as the key table gives them (a reason by its code).
fn action_words(lang: Lang, action: Action) -> String {
    match action {
        Action::Command(Command::Reason(r)) => format!("CMD-REASON-{}", r.code()),
        a => super::keys::binding(a).map_or_else(String::new, |b| b.words(lang).to_string()),
    }
}

/// Item `n` (1-based) of a list, from a typed number.
pub(crate) fn numbered<C: Copy>(text: &str, list: &[C]) -> Option<C> {
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
pub(crate) fn is_pin_shaped(s: &str) -> bool {
    (4..=12).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}
