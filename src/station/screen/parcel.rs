//! The parcel screen: one box open on the bench. What a scan, a key or a command barcode does
//! here, and which of them work now (the footer and the help show exactly those).

use crate::domain::codes::{Cause, Coded, Grade, Outcome, Reason, Role};
use crate::domain::parcel::{default_cause, signable, Discrepancy, Signable};
use crate::domain::scan::{self, Command, ScanKind};
use crate::domain::text::{in_file, on_screen};
use crate::station::app::{numbered, outcome_words, App, Effect};
use crate::station::keys::Action;
use crate::station::text::{say, t, Lang, T};
use crate::store::station::{Inspection, NewUnit, ParcelView, Product, Rest, UnitRecord};

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

/// What the parcel screen waits for.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    Unit,
    Serial { product: Product, unit: Box<NewUnit> },
    Reason { unit_id: i64, outcome: Outcome, grade: Option<Grade> },
    Note { unit_id: i64, inspection: Inspection },
    Cause { unit_id: i64 },
    Sign { found: Vec<Discrepancy> },
    RefuseParcel,
}

impl ParcelScreen {
    pub fn current_unit(&self) -> Option<&UnitRecord> {
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

    /// The unit an outcome key gives its outcome to now: the one whose reason is asked for,
    /// else the target.
    fn outcome_unit(&self) -> Option<&UnitRecord> {
        match &self.prompt {
            Prompt::Reason { unit_id, .. } => self.view.units.iter().find(|u| u.id == *unit_id),
            _ => self.target(),
        }
    }

    /// The unit ^K and ^N change: the current one, once it has an outcome.
    fn inspected_unit(&self) -> Option<&UnitRecord> {
        self.current_unit().filter(|u| u.outcome.is_some())
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

    /// Selects unit `seq`, so that the next outcome goes to it.
    pub fn select_seq(&mut self, seq: i64) {
        if let Some(u) = self.view.units.iter().find(|u| u.seq == seq) {
            self.current = Some(u.id);
            self.picked = true;
        }
    }

    /// The SKU of unit `seq`.
    pub fn sku_of(&self, seq: i64) -> String {
        self.view.units.iter().find(|u| u.seq == seq).and_then(|u| u.sku.clone()).unwrap_or_default()
    }
}

/// The actions the parcel screen takes now, most used first (the footer shows what fits).
pub fn keys(app: &App, p: &ParcelScreen) -> Vec<Action> {
    let cmd = Action::Command;
    let mut keys = vec![Action::Help];
    let outcomes = || Command::OUTCOMES.iter().map(|c| cmd(*c));
    let supervisor = app.user.as_ref().is_some_and(|u| u.role == Role::Supervisor);
    match &p.prompt {
        Prompt::Unit => {
            if p.target().is_some() {
                keys.extend(outcomes());
            }
            keys.push(cmd(Command::Sign));
            if !p.view.units.is_empty() {
                keys.push(cmd(Command::Undo));
            }
            keys.push(cmd(Command::RefuseParcel));
            if p.inspected_unit().is_some() {
                // A parcel no return claims has no cause for its units until it is linked.
                if !p.view.expects_nothing() {
                    keys.push(Action::Cause);
                }
                keys.push(Action::Note);
            }
            if !p.view.units.is_empty() {
                keys.extend([Action::Up, Action::Down]);
            }
            if supervisor {
                keys.push(Action::Export);
            }
        }
        Prompt::Reason { outcome, grade, .. } => {
            // Another outcome replaces the one whose reason is asked for.
            let asked = (*outcome, *grade);
            keys.extend(Command::OUTCOMES.iter().filter(|c| outcome_of(**c) != asked).map(|c| cmd(*c)));
            keys.push(cmd(Command::Reason(Reason::Other)));
        }
        Prompt::RefuseParcel => keys.push(cmd(Command::Reason(Reason::Other))),
        Prompt::Sign { found } => {
            keys.push(cmd(Command::Confirm));
            if sign_prompt(found) == T::LastBoxPrompt {
                keys.push(cmd(Command::Sign));
            }
        }
        Prompt::Serial { .. } | Prompt::Note { .. } | Prompt::Cause { .. } => {}
    }
    // In any prompt: leave it, take back the last step, or refuse the whole parcel.
    if !matches!(p.prompt, Prompt::Unit) {
        keys.push(cmd(Command::Cancel));
        if !p.view.units.is_empty() {
            keys.push(cmd(Command::Undo));
        }
        if !matches!(p.prompt, Prompt::RefuseParcel) {
            keys.push(cmd(Command::RefuseParcel));
        }
    }
    keys.push(Action::Quit);
    keys
}

/// Why an action the parcel screen does not take now is refused, when there is more to say
/// than "not here".
pub fn why_not(lang: Lang, p: &ParcelScreen, action: Action) -> Option<String> {
    match action {
        Action::Command(c) if Command::OUTCOMES.contains(&c) && matches!(p.prompt, Prompt::Unit) => {
            Some(if p.view.units.is_empty() { say::no_unit(lang) } else { say::all_inspected(lang) })
        }
        Action::Cause if p.view.expects_nothing() && p.inspected_unit().is_some() => {
            Some(say::no_cause_until_linked(lang))
        }
        Action::Cause | Action::Note if matches!(p.prompt, Prompt::Unit) => Some(say::no_unit(lang)),
        Action::Command(Command::Undo) if p.view.units.is_empty() => Some(say::nothing_to_undo(lang)),
        Action::Review | Action::Dashboard => Some(say::parcel_open_first(lang)),
        Action::Command(Command::Unidentified) => Some(say::parcel_open_first(lang)),
        _ => None,
    }
}

/// What the prompt line asks for.
pub fn prompt(lang: Lang, p: &ParcelScreen) -> String {
    match &p.prompt {
        Prompt::Unit if !p.view.units.is_empty() && p.target().is_none() => {
            t(lang, T::AllInspectedPrompt).to_string()
        }
        Prompt::Unit => t(lang, T::UnitPrompt).to_string(),
        Prompt::Serial { product, .. } => {
            format!("{}: {}", t(lang, T::SerialPrompt), on_screen(&product.name))
        }
        Prompt::Reason { outcome, grade, .. } => {
            format!("{} → {}", outcome_words(lang, *outcome, *grade), t(lang, T::ReasonPrompt))
        }
        Prompt::Note { .. } => t(lang, T::NotePrompt).to_string(),
        Prompt::Cause { .. } => t(lang, T::CausePrompt).to_string(),
        Prompt::Sign { found } if found.is_empty() => t(lang, T::SignClean).to_string(),
        Prompt::Sign { found } => t(lang, sign_prompt(found)).to_string(),
        Prompt::RefuseParcel => t(lang, T::RefuseParcelPrompt).to_string(),
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

impl App {
    /// A typed note: free text, stored as a file would take it, never read as a code (but a
    /// command barcode still works). None when no note is asked for.
    pub(crate) fn note_typed(&mut self, raw: &str) -> Option<Vec<Effect>> {
        let p = self.parcel()?;
        let Prompt::Note { unit_id, inspection } = &p.prompt else { return None };
        if let ScanKind::Command(c) = scan::parse(raw).kind {
            return Some(self.on_action(Action::Command(c)));
        }
        let note = in_file(raw).trim().to_string();
        if note.is_empty() {
            return Some(self.error(say::note_required(self.lang)));
        }
        let mut inspection = inspection.clone();
        inspection.note = Some(note);
        let (parcel, unit_id) = (p.view.id, *unit_id);
        Some(vec![Effect::Inspect { parcel, unit_id, inspection }])
    }

    /// A scan on the parcel screen, after the checks every screen shares.
    pub(crate) fn parcel_scan(&mut self, s: &scan::Scan, shown: &str) -> Vec<Effect> {
        let Some(p) = self.parcel() else { return vec![] };
        let parcel = p.view.id;
        match p.prompt.clone() {
            Prompt::Unit => self.product_scan(s, shown),
            Prompt::Serial { mut unit, .. } => {
                unit.serial = Some(s.text.clone());
                vec![Effect::RecordUnit { parcel, unit: *unit }]
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
                            inspection.cause_chosen = true;
                            vec![Effect::Inspect { parcel, unit_id, inspection }]
                        }
                        None => self.error(say::no_unit(self.lang)),
                    }
                }
                None => self.error(t(self.lang, T::CausePrompt).to_string()),
            },
            Prompt::Sign { .. } => self.error(t(self.lang, T::SignPrompt).to_string()),
            Prompt::Note { .. } => unreachable!("a note is typed, handled before"),
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

    /// A key or a command barcode the parcel screen takes now.
    pub(crate) fn parcel_action(&mut self, action: Action) -> Vec<Effect> {
        let lang = self.lang;
        let Some(p) = self.parcel() else { return vec![] };
        let parcel = p.view.id;
        let c = match action {
            Action::Up | Action::Down => {
                if let Some(p) = self.parcel_mut() {
                    p.pick(action == Action::Up);
                }
                return vec![];
            }
            Action::Cause => {
                let Some(unit_id) = p.inspected_unit().map(|u| u.id) else { return vec![] };
                if let Some(p) = self.parcel_mut() {
                    p.prompt = Prompt::Cause { unit_id };
                }
                return vec![];
            }
            Action::Note => {
                let Some((unit_id, inspection)) =
                    p.inspected_unit().and_then(|u| inspection_of(u).map(|i| (u.id, i)))
                else {
                    return vec![];
                };
                if let Some(p) = self.parcel_mut() {
                    p.prompt = Prompt::Note { unit_id, inspection };
                }
                return vec![];
            }
            Action::Command(c) => c,
            _ => return vec![],
        };
        match c {
            Command::Accept
            | Command::SecondHand(_)
            | Command::Scrap
            | Command::ReturnToSupplier
            | Command::Refuse => {
                // While a reason is asked for, another outcome replaces the one chosen for the
                // same unit.
                let Some(unit) = p.outcome_unit().cloned() else { return vec![] };
                let (outcome, grade) = outcome_of(c);
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
                _ => vec![],
            },
            Command::Undo => vec![Effect::Undo(parcel)],
            Command::Sign if matches!(p.prompt, Prompt::Unit) => {
                let found = p.view.discrepancies();
                // Every unit needs its outcome first; then a unit whose outcome needs a photo is
                // selected, so that the next picture goes to it.
                let lacking = self.policy.photos.lacking(&p.view);
                if !lacking.is_empty() && signable(&found) != Signable::Blocked {
                    if let Some(p) = self.parcel_mut() {
                        p.select_seq(lacking[0]);
                    }
                    return self.error(say::photo_needed(lang, &lacking));
                }
                match signable(&found) {
                    Signable::Blocked => self.cannot_sign(&found),
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
                Prompt::Sign { found } => {
                    vec![Effect::Sign { parcel, confirmed: true, shown: found.clone(), rest: Rest::Awaited }]
                }
                _ => vec![],
            },
            Command::Confirm => match &p.prompt {
                Prompt::Sign { found } => {
                    vec![Effect::Sign { parcel, confirmed: true, shown: found.clone(), rest: Rest::Missing }]
                }
                _ => vec![],
            },
            Command::RefuseParcel => {
                let photos = p.view.photos + p.view.units.iter().map(|u| u.photos).sum::<i64>();
                if self.policy.photos.refuse_parcel && photos == 0 {
                    return self.error(say::photo_needed(lang, &[]));
                }
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
            Command::Unidentified | Command::Reprint | Command::Photo => vec![],
        }
    }

    /// Signing refused while units have no outcome: the first of them is named and selected,
    /// so that the next outcome goes to it.
    pub(crate) fn cannot_sign(&mut self, found: &[Discrepancy]) -> Vec<Effect> {
        let lang = self.lang;
        let open: Vec<i64> = found
            .iter()
            .filter_map(|d| match d {
                Discrepancy::Uninspected { seq } => Some(*seq),
                _ => None,
            })
            .collect();
        let Some(p) = self.parcel_mut() else { return vec![] };
        let Some(first) = open.iter().min().copied() else {
            return self.error(say::cannot_sign(lang, 0));
        };
        p.select_seq(first);
        let sku = on_screen(&p.sku_of(first));
        self.error(say::cannot_sign_unit(lang, first, &sku, open.len()))
    }
}

/// The outcome (and grade) an outcome command gives.
pub fn outcome_of(c: Command) -> (Outcome, Option<Grade>) {
    match c {
        Command::Accept => (Outcome::Accept, Some(Grade::A)),
        Command::SecondHand(g) => (Outcome::SecondHand, Some(g)),
        Command::Scrap => (Outcome::Scrap, None),
        Command::ReturnToSupplier => (Outcome::ReturnToSupplier, None),
        _ => (Outcome::Refuse, None),
    }
}

/// The customer's stated reason for the unit's return.
fn customer_reason<'a>(view: &'a ParcelView, unit: Option<&UnitRecord>) -> Option<&'a str> {
    let rid = unit.and_then(|u| u.line).map(|l| l.0);
    view.returns.iter().find(|r| Some(r.id) == rid).or(view.returns.first()).and_then(|r| r.reason.as_deref())
}

/// The inspection a unit has, to change one part of it.
pub fn inspection_of(u: &UnitRecord) -> Option<Inspection> {
    Some(Inspection {
        outcome: u.outcome?,
        grade: u.grade,
        reason: u.reason,
        cause: u.cause.unwrap_or(Cause::ChangedMind),
        note: u.note.clone(),
        // The unit's cause stays as it is; one it has not got yet is decided by the store.
        cause_chosen: u.cause.is_some(),
    })
}
