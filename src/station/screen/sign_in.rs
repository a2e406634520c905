//! Signing in: a badge scanned, or a user id typed and ended with Enter.

use crate::domain::codes::Role;
use crate::domain::text::on_screen;
use crate::station::app::{App, Effect, Screen};
use crate::station::keys::Action;
use crate::station::text::{say, t, T};
use crate::store::station::{DockInfo, ParcelView, User};
use ratatui::layout::Rect;
use ratatui::Frame;

/// Before anyone signs in only help and quit work.
pub fn keys() -> Vec<Action> {
    vec![Action::Help, Action::Quit]
}

impl App {
    pub(crate) fn signed_in(
        &mut self,
        id: &str,
        user: Option<User>,
        resume: Option<ParcelView>,
        dock: DockInfo,
    ) -> Vec<Effect> {
        let lang = self.lang;
        let Some(user) = user.filter(|u| u.active) else {
            // A database nobody has been imported into yet: say how to get users.
            if dock.no_users {
                return self.error(say::no_users_yet(lang, &on_screen(id)));
            }
            return self.error(say::unknown_user(lang, &on_screen(id)));
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
}

pub fn draw(app: &App, f: &mut Frame, area: Rect) {
    let (big, hint) = (t(app.lang, T::SignInPrompt), t(app.lang, T::SignInHint));
    match &app.demo_badges {
        // The demo's own badges, so that a newcomer can sign in at once.
        Some(badges) => crate::station::view::draw_centered_lines(f, area, big, &[hint, "", badges]),
        None => crate::station::view::draw_centered(f, area, big, hint),
    }
}
