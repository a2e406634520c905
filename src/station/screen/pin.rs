//! A supervisor function asks for the PIN first: typed (shown as stars) and ended with Enter.

use crate::domain::scan::{self, Command, ScanKind};
use crate::station::app::{is_pin_shaped, App, Band, Effect, Pending, Screen, Tone, Unlocked};
use crate::station::keys::Action;
use crate::station::text::{say, t, T};
use crate::store::auth::{PinRefusal, Proven};
use ratatui::layout::Rect;
use ratatui::Frame;

pub fn keys() -> Vec<Action> {
    vec![Action::Help, Action::Command(Command::Cancel), Action::Quit]
}

impl App {
    /// What is typed at the PIN prompt. A badge ends the wait (someone else signs in): None,
    /// to be handled as at any screen.
    pub(crate) fn pin_typed(&mut self, raw: &str) -> Option<Vec<Effect>> {
        Some(match scan::parse(raw).kind {
            ScanKind::Command(c) => self.on_action(Action::Command(c)),
            ScanKind::Badge(_) => return None,
            _ if raw.trim().is_empty() => vec![],
            // A product or parcel scanned by habit is not a guess: only what can be a PIN is
            // checked (and counted).
            _ if !is_pin_shaped(raw.trim()) => self.error(say::not_a_pin(self.lang)),
            _ => vec![Effect::CheckPin(raw.trim().to_string())],
        })
    }

    /// Esc at the PIN prompt goes back to where it was asked.
    pub(crate) fn pin_action(&mut self, action: Action) -> Vec<Effect> {
        if action == Action::Command(Command::Cancel) {
            self.leave_pin();
            self.band = None;
        }
        vec![]
    }

    fn leave_pin(&mut self) {
        if let Screen::Pin { back, .. } = std::mem::replace(&mut self.screen, Screen::SignIn) {
            self.screen = *back;
        }
    }

    pub(crate) fn pin_checked(&mut self, result: Result<Proven, PinRefusal>) -> Vec<Effect> {
        let Screen::Pin { then, .. } = self.screen else { return vec![] };
        match result {
            Ok(who) => {
                self.unlocked = Some(Unlocked { who, last: self.arrived });
                self.leave_pin();
                let text = say::session_open(self.lang, self.supervisor_idle);
                self.band = Some(Band { tone: Tone::Ok, text });
                self.perform(then)
            }
            Err(refusal) => {
                if matches!(refusal, PinRefusal::Locked { .. }) {
                    self.leave_pin();
                }
                let text = say::pin_refused(self.lang, &refusal, self.zone);
                self.error(text)
            }
        }
    }
}

pub fn draw(app: &App, then: Pending, f: &mut Frame, area: Rect) {
    crate::station::view::draw_centered(f, area, t(app.lang, T::PinPrompt), &say::pin_for(app.lang, then));
}
