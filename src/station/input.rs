//! Keys into messages. A scanner is a keyboard that types fast and ends with Enter (or CR+LF,
//! or Tab); what it types collects in the input line until then. A second terminator with
//! nothing typed (the LF of CR+LF) is no scan. Function keys and a few Ctrl keys are commands.

use super::app::{App, Msg, Prompt, Screen};
use super::keys::{action_for, Action};
use crate::domain::scan::Command;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// The messages one terminal event makes.
pub fn translate(app: &App, ev: &Event) -> Vec<Msg> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => key(app, k),
        Event::Paste(text) => {
            // A pasted code ends where a line does.
            let mut out = Vec::new();
            let mut current = app.input.clone();
            for c in text.chars() {
                if matches!(c, '\r' | '\n' | '\t') {
                    if !current.is_empty() {
                        out.push(Msg::Scan(std::mem::take(&mut current)));
                    }
                } else {
                    out.push(Msg::Char(c));
                    current.push(c);
                }
            }
            out
        }
        _ => vec![],
    }
}

fn typing_note(app: &App) -> bool {
    matches!(&app.screen, Screen::Parcel(p) if matches!(p.prompt, Prompt::Note { .. }))
}

fn key(app: &App, k: &KeyEvent) -> Vec<Msg> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    match k.code {
        // The scan terminators: Enter (CR), Tab, and LF (Ctrl+J) of a CR+LF suffix.
        KeyCode::Enter | KeyCode::Tab => submit(app),
        KeyCode::Char('j') | KeyCode::Char('m') if ctrl => submit(app),
        // The GS1 group separator, as crossterm reports byte 0x1D.
        KeyCode::Char(']') | KeyCode::Char('5') if ctrl => vec![Msg::Char('\u{1d}')],
        KeyCode::Char('c') if ctrl => vec![Msg::Action(Action::Quit)],
        KeyCode::Backspace => vec![Msg::Backspace],
        KeyCode::Char('?') if app.input.is_empty() && !typing_note(app) => vec![Msg::Action(Action::Help)],
        KeyCode::Esc if !app.input.is_empty() => {
            // Esc first clears what was typed; a second Esc cancels.
            let n = app.input.chars().count();
            vec![Msg::Backspace; n]
        }
        KeyCode::Char(c) if !ctrl => vec![Msg::Char(c)],
        _ => match action_for(k) {
            Some(a) => vec![Msg::Action(a)],
            None => vec![],
        },
    }
}

fn submit(app: &App) -> Vec<Msg> {
    // Enter with nothing typed means something only where a list offers a choice, or where
    // text is asked for (a note, an overturn's comment), which is then refused out loud.
    let choosing =
        matches!(&app.screen, super::app::Screen::Dock { offer: Some(super::app::Offer::Order { .. }) });
    let asked = typing_note(app) || matches!(&app.screen, Screen::Review(r) if r.overturn.is_some());
    if app.input.is_empty() && !choosing && !asked {
        vec![]
    } else {
        vec![Msg::Scan(app.input.clone())]
    }
}

/// The command a key stands for, for tests and hints.
pub fn command_key(c: Command) -> Option<KeyCode> {
    super::keys::binding(Action::Command(c)).map(|b| b.code)
}
