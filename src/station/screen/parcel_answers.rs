//! The database's answers to what the parcel screen asked: a product found, a unit recorded
//! or inspected, an undo, a signature. Each says what happened in the band, naming the unit.

use super::parcel::{ParcelScreen, Prompt};
use crate::domain::codes::{Cause, Outcome};
use crate::domain::parcel::{signable, Placement, Signable};
use crate::domain::text::on_screen;
use crate::station::app::{outcome_words, App, Effect, Screen};
use crate::station::text::{flag_words, say, t, T};
use crate::store::station::{
    DockInfo, Inspected, Inspection, NewUnit, ParcelView, Product, Refusal, SignedBox, Undone,
};

impl App {
    /// A parcel opened (or resumed): which returns, which box of them, or unidentified.
    pub(crate) fn open(&mut self, view: ParcelView, resumed: bool) -> Vec<Effect> {
        let lang = self.lang;
        let id = view.id;
        let rmas: Vec<String> = view.returns.iter().map(|r| on_screen(&r.rma_no)).collect();
        let unidentified = view.unidentified && view.units.is_empty() && !resumed;
        // A later box of a return: which box, and what it may still hold.
        let boxes: Vec<String> = view
            .returns
            .iter()
            .filter(|r| r.boxes > 0)
            .map(|r| {
                let awaited = view.lines.iter().filter(|l| l.line.0 == r.id).map(|l| l.qty).sum();
                say::later_box(lang, &on_screen(&r.rma_no), r.boxes + 1, awaited)
            })
            .collect();
        let current = view.units.last().map(|u| u.id);
        self.screen =
            Screen::Parcel(Box::new(ParcelScreen { view, prompt: Prompt::Unit, current, picked: false }));
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

    pub(crate) fn product_found(
        &mut self,
        code: &str,
        expected_check: Option<u8>,
        mut unit: NewUnit,
        product: Option<Product>,
    ) -> Vec<Effect> {
        let lang = self.lang;
        let Some(product) = product else {
            return match expected_check {
                Some(e) => self.error(say::bad_check_digit(lang, &on_screen(code), e)),
                None => self.error(say::unknown_product(lang, &on_screen(code))),
            };
        };
        unit.sku = Some(product.sku.clone());
        unit.boxes = Some(product.boxes);
        let Some(p) = self.parcel_mut() else { return vec![] };
        if product.serialised && unit.serial.is_none() {
            p.prompt = Prompt::Serial { product, unit: Box::new(unit) };
            self.band = None;
            return vec![];
        }
        vec![Effect::RecordUnit { parcel: p.view.id, unit }]
    }

    pub(crate) fn unit_recorded(
        &mut self,
        result: Result<(i64, Placement), Refusal>,
        view: ParcelView,
        serial: Option<String>,
    ) -> Vec<Effect> {
        let lang = self.lang;
        let auto_accept = self.auto_accept;
        let parcel = view.id;
        let Some(p) = self.parcel_mut() else { return vec![] };
        p.view = view;
        p.prompt = Prompt::Unit;
        let serial = on_screen(serial.as_deref().unwrap_or(""));
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
                match (flag, boxes) {
                    (Some(f), _) => {
                        self.warn(say::unit_flagged(lang, seq, &on_screen(&sku), flag_words(lang, f)))
                    }
                    // The first box of a product in several: the others come next.
                    (None, Some((have, of))) => {
                        self.ok(say::box_added(lang, seq, &on_screen(&sku), have, of))
                    }
                    (None, None) if auto_accept => {
                        let inspection = Inspection::new(Outcome::Accept, None, None, Cause::ChangedMind);
                        vec![Effect::Inspect { parcel, unit_id: id, inspection }]
                    }
                    (None, None) => self.ok(say::unit_ok(lang, seq, &on_screen(&sku), &on_screen(&rma))),
                }
            }
            Ok((_, Placement::SerialAlreadyScanned { seq })) => {
                self.error(say::serial_twice(lang, &serial, seq))
            }
            Ok((id, Placement::BoxAdded { seq, have, of })) => {
                p.current = Some(id);
                p.picked = false;
                let sku = p.view.units.iter().find(|u| u.id == id).and_then(|u| u.sku.clone());
                self.ok(say::box_added(lang, seq, &on_screen(&sku.unwrap_or_default()), have, of))
            }
            Ok((_, Placement::SerialInEarlierBox { parcel })) => {
                self.error(say::serial_in_earlier_box(lang, &serial, parcel))
            }
            Err(r) => self.refusal(r),
        }
    }

    pub(crate) fn inspected(
        &mut self,
        result: Result<Inspected, Refusal>,
        unit_id: i64,
        view: ParcelView,
    ) -> Vec<Effect> {
        let lang = self.lang;
        let policy = self.policy;
        let Some(p) = self.parcel_mut() else { return vec![] };
        let asked = std::mem::replace(&mut p.prompt, Prompt::Unit);
        p.view = view;
        let done = match result {
            Ok(done) => done,
            Err(r) => return self.refusal(r),
        };
        self.last_inspected = Some(unit_id);
        let Some(p) = self.parcel_mut() else { return vec![] };
        // The unit just given an outcome is current; the next outcome goes to the latest unit
        // still without one.
        p.current = Some(unit_id);
        p.picked = false;
        let Some(u) = p.view.units.iter().find(|u| u.id == unit_id).cloned() else {
            return self.ok(t(lang, T::Saved).to_string());
        };
        let mandatory = policy.mandatory(&p.view, &u);
        // The outcome, and where the unit goes now right after it.
        let outcome = u.outcome.map(|o| outcome_words(lang, o, u.grade)).unwrap_or_default();
        let outcome = match u.destination.as_deref() {
            Some(to) => format!("{outcome} → {}", on_screen(to)),
            None => outcome,
        };
        // The same outcome again is a change of its cause or note, not a correction of it.
        let mut text = match (&asked, done.correction) {
            (_, Some((was, g))) if (Some(was), g) != (u.outcome, u.grade) => {
                say::corrected(lang, u.seq, &outcome_words(lang, was, g), &outcome)
            }
            _ => say::inspected(lang, u.seq, &outcome),
        };
        let reason = u.reason.map(|r| lang.code(r));
        if let Some(r) = reason {
            text.push_str(&format!(" · {r}"));
        }
        // A cause worded as the reason (transit damage) is said once.
        if let Some(c) = u.cause.map(|c| lang.code(c)).filter(|c| Some(*c) != reason) {
            text.push_str(&format!(" · {c}"));
        }
        // A note typed is confirmed with its first words, so a wrong one is seen at once.
        if let (Prompt::Note { .. }, Some(note)) = (&asked, u.note.as_deref()) {
            text.push_str(&format!(" · {}", say::note_saved(lang, &on_screen(note))));
        }
        match mandatory {
            Some(m) => self.warn(format!("{text} · {}", say::mandatory_review(lang, m))),
            None => self.ok(text),
        }
    }

    pub(crate) fn undone(&mut self, result: Result<Undone, Refusal>, view: ParcelView) -> Vec<Effect> {
        let lang = self.lang;
        let last = self.last_inspected;
        let Some(p) = self.parcel_mut() else { return vec![] };
        let was_here = last.is_some_and(|id| p.view.units.iter().any(|u| u.id == id));
        p.view = view;
        p.prompt = Prompt::Unit;
        p.current = p.view.units.last().map(|u| u.id);
        p.picked = false;
        // The last unit given an outcome here, taken off or without its outcome now, has no
        // label to print again.
        let still = last.is_some_and(|id| p.view.units.iter().any(|u| u.id == id && u.outcome.is_some()));
        if was_here && !still {
            self.last_inspected = None;
        }
        let sku = |s: Option<String>| on_screen(s.as_deref().unwrap_or("?"));
        match result {
            Ok(Undone::Unit { seq, sku: s }) => self.ok(say::undone_unit(lang, seq, &sku(s))),
            Ok(Undone::Box { seq, sku: s }) => self.ok(say::undone_box(lang, seq, &sku(s))),
            Ok(Undone::Inspection { seq, sku: s, taken, restored }) => {
                // The unit whose outcome was taken back is the one the next outcome goes to.
                if let Some(p) = self.parcel_mut() {
                    p.current = p.view.units.iter().find(|u| u.seq == seq).map(|u| u.id);
                }
                let taken = taken.map(|(o, g)| outcome_words(lang, o, g)).unwrap_or_default();
                // The outcome it has again, and where that sends it (as recorded then).
                let to = self
                    .parcel()
                    .and_then(|p| p.view.units.iter().find(|u| u.seq == seq))
                    .and_then(|u| u.destination.as_deref())
                    .map(|d| format!(" → {}", on_screen(d)))
                    .unwrap_or_default();
                let now = restored.map(|(o, g)| format!("{}{to}", outcome_words(lang, o, g)));
                self.ok(say::undone_outcome(lang, seq, &sku(s), &taken, now.as_deref()))
            }
            Err(r) => self.refusal(r),
        }
    }

    pub(crate) fn signed(
        &mut self,
        result: Result<SignedBox, Refusal>,
        parcel: i64,
        dock: DockInfo,
        view: Option<ParcelView>,
    ) -> Vec<Effect> {
        let lang = self.lang;
        let (found, settled) = match (result, view) {
            (Ok(SignedBox { found, settled }), _) => (found, settled),
            (Err(Refusal::Changed(found)), Some(view)) => {
                // What stands now is shown before anything is signed.
                let Some(p) = self.parcel_mut() else { return vec![] };
                p.view = view;
                p.prompt = match signable(&found) {
                    Signable::Blocked => Prompt::Unit,
                    _ => Prompt::Sign { found },
                };
                return self.warn(say::parcel_changed(lang));
            }
            (Err(r), _) => return self.refusal(r),
        };
        let awaited: Vec<(String, i64)> = settled
            .iter()
            .filter(|s| s.closed.is_none() && s.awaited > 0)
            .map(|s| (on_screen(&s.rma_no), s.awaited))
            .collect();
        // A parcel that expects nothing goes to the supervisor as unidentified, even with
        // nothing in it: said so, not as a plain OK.
        let unidentified = self.parcel().is_some_and(|p| p.view.expects_nothing());
        self.dock = dock;
        self.screen = Screen::Dock { offer: None };
        if !awaited.is_empty() {
            let text = say::box_signed(lang, parcel, found.len(), &awaited, self.policy.await_boxes_days);
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

    pub(crate) fn parcel_refused(
        &mut self,
        result: Result<(), Refusal>,
        parcel: i64,
        dock: DockInfo,
    ) -> Vec<Effect> {
        match result {
            Ok(()) => {
                self.dock = dock;
                self.screen = Screen::Dock { offer: None };
                self.warn(say::refused_parcel(self.lang, parcel))
            }
            Err(r) => self.refusal(r),
        }
    }

    /// A step that was not saved changes nothing: a prompt it was part of (the serial of a
    /// unit, the reason of an outcome, a note, the sign confirmation) closes, so the next scan
    /// cannot land where this one was meant to.
    pub(crate) fn not_saved(&mut self, message: &str) -> Vec<Effect> {
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
        self.forget_last_scan();
        self.error(say::not_saved(self.lang, &on_screen(message), again))
    }
}
