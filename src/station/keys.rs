//! The keyboard: one table of keys, read by the input (what a key does), the footer and the
//! help overlay (what they say a key does), so a hint cannot lie. Function keys carry the
//! commands because letters and digits belong to typed codes.

use super::text::Lang;
use crate::domain::codes::Grade;
use crate::domain::scan::Command;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key (or a command barcode) asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Command(Command),
    Help,
    /// Change the cause of the last inspected unit.
    Cause,
    /// Add a note to the last inspected unit.
    Note,
    /// The supervisor's review queue.
    Review,
    /// The supervisor's dashboard: why goods came back, today and this week.
    Dashboard,
    /// Export to after-sales what changed since the last export, in the background.
    Export,
    /// Select the previous or next entry of a list.
    Up,
    Down,
    Quit,
}

pub struct Binding {
    pub code: KeyCode,
    pub ctrl: bool,
    pub label: &'static str,
    pub action: Action,
    pub en: &'static str,
    pub zh: &'static str,
    /// The words in the footer's compact form, for a narrow screen.
    pub short_en: &'static str,
    pub short_zh: &'static str,
}

impl Binding {
    pub fn words(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::Zh => self.zh,
        }
    }

    pub fn short(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.short_en,
            Lang::Zh => self.short_zh,
        }
    }
}

/// A key: its code, its label, its action, its words in English and Chinese, and the short
/// forms of those for a narrow footer.
const fn key(code: KeyCode, label: &'static str, action: Action, words: [&'static str; 4]) -> Binding {
    let [en, zh, short_en, short_zh] = words;
    Binding { code, ctrl: false, label, action, en, zh, short_en, short_zh }
}

const fn ctrl(c: char, label: &'static str, action: Action, words: [&'static str; 4]) -> Binding {
    let [en, zh, short_en, short_zh] = words;
    Binding { code: KeyCode::Char(c), ctrl: true, label, action, en, zh, short_en, short_zh }
}

use Action::Command as C;

pub const BINDINGS: &[Binding] = &[
    key(KeyCode::F(1), "F1", Action::Help, ["help", "帮助", "?", "?"]),
    key(KeyCode::F(2), "F2", C(Command::Accept), ["accept", "良品", "✔", "良品"]),
    key(KeyCode::F(3), "F3", C(Command::SecondHand(Grade::B)), ["second-hand B", "二手B", "B", "B"]),
    key(KeyCode::F(4), "F4", C(Command::SecondHand(Grade::C)), ["second-hand C", "二手C", "C", "C"]),
    key(KeyCode::F(5), "F5", C(Command::Scrap), ["scrap", "报废", "scrap", "报废"]),
    key(KeyCode::F(6), "F6", C(Command::ReturnToSupplier), ["to supplier", "退供应商", "RTV", "退供"]),
    key(KeyCode::F(7), "F7", C(Command::Refuse), ["refuse unit", "拒收商品", "✖", "拒收"]),
    key(KeyCode::F(8), "F8", C(Command::Sign), ["sign", "签收", "sign", "签收"]),
    key(KeyCode::F(9), "F9", C(Command::Undo), ["undo", "撤销", "undo", "撤销"]),
    key(KeyCode::F(10), "F10", C(Command::RefuseParcel), ["refuse parcel", "拒收包裹", "✖box", "拒包"]),
    key(KeyCode::F(11), "F11", C(Command::Unidentified), ["unidentified", "无主件", "unid.", "无主"]),
    key(KeyCode::F(12), "F12", C(Command::Confirm), ["confirm", "确认", "ok", "确认"]),
    key(KeyCode::Esc, "Esc", C(Command::Cancel), ["cancel", "取消", "back", "取消"]),
    ctrl('k', "^K", Action::Cause, ["cause", "原因归属", "cause", "归属"]),
    ctrl('n', "^N", Action::Note, ["note", "备注", "note", "备注"]),
    ctrl('r', "^R", Action::Review, ["review queue", "复核队列", "review", "复核"]),
    ctrl('d', "^D", Action::Dashboard, ["dashboard", "看板", "board", "看板"]),
    ctrl('e', "^E", Action::Export, ["export", "导出", "export", "导出"]),
    ctrl('p', "^P", C(Command::Reprint), ["reprint label", "补打标签", "reprint", "补打"]),
    ctrl('t', "^T", C(Command::Photo), ["attach photos", "附上照片", "photo", "照片"]),
    key(KeyCode::Up, "↑", Action::Up, ["previous", "上一条", "", ""]),
    key(KeyCode::Down, "↓", Action::Down, ["next", "下一条", "", ""]),
    ctrl('q', "^Q", Action::Quit, ["quit", "退出", "quit", "退出"]),
];

/// The action of a key, if it has one.
pub fn action_for(ev: &KeyEvent) -> Option<Action> {
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    BINDINGS.iter().find(|b| b.code == ev.code && b.ctrl == ctrl).map(|b| b.action)
}

/// The binding of an action, for hints.
pub fn binding(action: Action) -> Option<&'static Binding> {
    BINDINGS.iter().find(|b| b.action == action)
}
