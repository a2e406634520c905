//! The supervisor's review queue: every refusal and flagged parcel, oldest first, with what
//! happened; confirm it, overturn a unit's outcome (with a comment), or link an unidentified
//! parcel to its return.

use crate::domain::codes::{Coded, Grade, Outcome, ReviewKind};
use crate::domain::scan::{self, Command, ScanKind};
use crate::domain::text::{in_file, on_screen};
use crate::evidence::preview::Thumb;
use crate::station::app::{outcome_words, App, Effect, Screen};
use crate::station::keys::Action;
use crate::station::text::{say, t, Lang, T};
use crate::store::photos::PhotoInfo;
use crate::store::review::{Decision, ReviewItem, ReviewRefusal};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

#[derive(Debug, Clone, PartialEq)]
pub struct ReviewScreen {
    pub items: Vec<ReviewItem>,
    pub selected: usize,
    /// An overturn chosen, waiting for its comment.
    pub overturn: Option<(Outcome, Option<Grade>)>,
    /// The entry's photos on screen, and which one.
    pub preview: Option<Preview>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub photos: Vec<(PhotoInfo, Thumb)>,
    pub at: usize,
}

impl ReviewScreen {
    fn item(&self) -> Option<&ReviewItem> {
        self.items.get(self.selected)
    }
}

/// The actions the review screen takes now.
pub fn keys(app: &App, r: &ReviewScreen) -> Vec<Action> {
    let cmd = Action::Command;
    let mut keys = vec![Action::Help];
    if let Some(p) = &r.preview {
        // Through the photos; the desktop's viewer shows one larger.
        if p.photos.len() > 1 {
            keys.extend([Action::Up, Action::Down]);
        }
        if app.viewer_on {
            keys.push(cmd(Command::Photo));
        }
        keys.extend([cmd(Command::Cancel), Action::Quit]);
        return keys;
    }
    if r.overturn.is_some() {
        keys.push(cmd(Command::Cancel));
        keys.push(Action::Quit);
        return keys;
    }
    if r.items.len() > 1 {
        keys.extend([Action::Up, Action::Down]);
    }
    if let Some(item) = r.item() {
        keys.push(cmd(Command::Confirm));
        // Only a unit's outcome can be overturned.
        if item.unit.is_some() {
            keys.extend(Command::OUTCOMES.iter().map(|c| cmd(*c)));
        }
        if item.photos > 0 {
            keys.push(cmd(Command::Photo));
        }
    }
    keys.extend([cmd(Command::Cancel), Action::Export, Action::Quit]);
    keys
}

/// What the prompt line asks for.
pub fn prompt(lang: Lang, r: &ReviewScreen) -> String {
    match (r.overturn, r.item()) {
        (Some((o, g)), _) => say::overturn_comment(lang, &outcome_words(lang, o, g)),
        (None, None) => t(lang, T::ReviewEmptyHint).to_string(),
        (None, Some(i)) if i.kind == ReviewKind::Unidentified => t(lang, T::ReviewLinkHint).to_string(),
        (None, Some(i)) if i.unit.is_none() => t(lang, T::ReviewConfirmHint).to_string(),
        _ => t(lang, T::ReviewHint).to_string(),
    }
}

impl App {
    /// Typed or scanned on the review screen: an overturn's comment, or the RMA an
    /// unidentified parcel belongs to.
    pub(crate) fn review_typed(&mut self, raw: &str) -> Vec<Effect> {
        let Screen::Review(r) = &self.screen else { return vec![] };
        if let ScanKind::Command(c) = scan::parse(raw).kind {
            return self.on_action(Action::Command(c));
        }
        let typed = in_file(raw.trim()).into_owned();
        let Some(who) = self.proven() else { return vec![] };
        match (r.overturn, r.item()) {
            (Some(_), _) if typed.trim().is_empty() => self.error(say::comment_required(self.lang)),
            (Some((outcome, grade)), Some(item)) => vec![Effect::Decide {
                id: item.id,
                decision: Decision::Overturn { outcome, grade },
                comment: Some(typed),
                who,
            }],
            (None, Some(item)) if item.kind == ReviewKind::Unidentified && !typed.is_empty() => {
                vec![Effect::Link { id: item.id, rma: scan::parse(raw).text, who }]
            }
            (None, _) if typed.is_empty() => vec![],
            _ => self.error(prompt(self.lang, r)),
        }
    }

    /// A key or a command barcode the review screen takes now.
    pub(crate) fn review_action(&mut self, action: Action) -> Vec<Effect> {
        let Some(who) = self.proven() else {
            self.screen = Screen::Dock { offer: None };
            return vec![];
        };
        let Screen::Review(r) = &mut self.screen else { return vec![] };
        if let Some(p) = &mut r.preview {
            let n = p.photos.len();
            match action {
                Action::Up if n > 0 => p.at = (p.at + n - 1) % n,
                Action::Down if n > 0 => p.at = (p.at + 1) % n,
                Action::Command(Command::Photo) => {
                    if let Some((info, _)) = p.photos.get(p.at) {
                        return vec![Effect::OpenPhoto(info.clone())];
                    }
                }
                Action::Command(Command::Cancel) => r.preview = None,
                _ => {}
            }
            return vec![];
        }
        let n = r.items.len();
        match action {
            Action::Up if n > 0 => r.selected = (r.selected + n - 1) % n,
            Action::Down if n > 0 => r.selected = (r.selected + 1) % n,
            Action::Command(Command::Cancel) => {
                if r.overturn.take().is_none() {
                    self.screen = Screen::Dock { offer: None };
                }
                self.band = None;
            }
            Action::Command(Command::Confirm) => {
                if let Some(id) = r.item().map(|i| i.id) {
                    return vec![Effect::Decide { id, decision: Decision::Confirm, comment: None, who }];
                }
            }
            Action::Command(c) if Command::OUTCOMES.contains(&c) => {
                r.overturn = Some(super::parcel::outcome_of(c));
                self.band = None;
            }
            Action::Command(Command::Photo) => {
                if let Some(it) = r.item() {
                    return vec![Effect::ShowPhotos { parcel: it.parcel_id, unit: it.unit_id }];
                }
            }
            _ => {}
        }
        vec![]
    }

    /// The entry's photos, loaded: shown in place of what happened, the first first.
    pub(crate) fn photos_shown(&mut self, shown: crate::station::messages::Shown) -> Vec<Effect> {
        let lang = self.lang;
        let Screen::Review(r) = &mut self.screen else { return vec![] };
        match shown {
            Ok((photos, _)) if photos.is_empty() => self.warn(say::no_photos_here(lang)),
            Ok((photos, trouble)) => {
                let n = photos.len();
                r.preview = Some(Preview { photos, at: 0 });
                match trouble.is_empty() {
                    true => self.ok(say::photos_shown(lang, n)),
                    false => self.warn(format!(
                        "{} · {}",
                        say::photos_shown(lang, n),
                        say::photos_not_shown(lang, &on_screen(&trouble.join(" · ")))
                    )),
                }
            }
            Err(e) => self.error(say::storage(lang, &on_screen(&e))),
        }
    }

    /// The review queue as it now stands, after a decision.
    fn review_items(&mut self, items: Vec<ReviewItem>) {
        if let Screen::Review(r) = &mut self.screen {
            r.overturn = None;
            r.selected = r.selected.min(items.len().saturating_sub(1));
            r.items = items;
        }
    }

    pub(crate) fn reviews_loaded(&mut self, items: Vec<ReviewItem>) -> Vec<Effect> {
        if !matches!(self.screen, Screen::Review(_)) {
            return vec![];
        }
        let n = items.len();
        self.review_items(items);
        self.ok(say::reviews_waiting(self.lang, n))
    }

    pub(crate) fn decided(
        &mut self,
        id: i64,
        result: Result<(), ReviewRefusal>,
        items: Vec<ReviewItem>,
    ) -> Vec<Effect> {
        self.review_items(items);
        match result {
            Ok(()) => self.ok(say::decided(self.lang, id)),
            Err(e) => self.error(say::review_refusal(self.lang, &e)),
        }
    }

    pub(crate) fn linked(
        &mut self,
        id: i64,
        rma: &str,
        result: Result<(), ReviewRefusal>,
        items: Vec<ReviewItem>,
    ) -> Vec<Effect> {
        self.review_items(items);
        match result {
            Ok(()) => self.ok(say::linked(self.lang, id, &on_screen(rma))),
            Err(e) => self.error(say::review_refusal(self.lang, &e)),
        }
    }
}

pub fn draw(app: &App, r: &ReviewScreen, f: &mut Frame, area: Rect) {
    let lang = app.lang;
    if r.items.is_empty() {
        f.render_widget(
            Paragraph::new(t(lang, T::ReviewEmpty)).block(Block::new().borders(Borders::TOP)),
            area,
        );
        return;
    }
    // The list above, what happened in the entry selected below: the larger part of the screen.
    let [list, detail] =
        Layout::vertical([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(area);
    let rows: Vec<Row> = r
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let mark = if i == r.selected { "▶" } else { " " };
            let must = if it.mandatory { "!" } else { " " };
            let what = it.unit.as_ref().map_or_else(
                || on_screen(&it.rmas),
                |u| {
                    format!(
                        "{u} {} {}",
                        on_screen(it.sku.as_deref().unwrap_or("")),
                        outcome_of_item(lang, it)
                    )
                },
            );
            let style =
                if i == r.selected { Style::new().add_modifier(Modifier::REVERSED) } else { Style::new() };
            Row::new(vec![
                Cell::from(format!("{mark}{must}R{}", it.id)),
                Cell::from(lang.code(it.kind)),
                Cell::from(app.short_time(&it.created_at)),
                Cell::from(format!("P{}", it.parcel_id)),
                Cell::from(what),
            ])
            .style(style)
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(7),
            Constraint::Length(14),
            Constraint::Length(11),
            Constraint::Length(6),
            Constraint::Min(10),
        ],
    )
    .block(Block::new().borders(Borders::TOP).title(t(lang, T::Queues)));
    let at = Some(r.selected);
    let mut state = ratatui::widgets::TableState::default().with_selected(at);
    f.render_stateful_widget(table, list, &mut state);
    if let Some(p) = &r.preview {
        draw_preview(app, p, f, detail);
        return;
    }
    if let Some(it) = r.item() {
        f.render_widget(
            Paragraph::new(detail_lines(lang, it, app.zone, &app.dock_name))
                .block(Block::new().borders(Borders::TOP))
                .wrap(Wrap { trim: true }),
            detail,
        );
    }
}

/// The photo on screen: what it is of, who took it where and when, then the picture itself.
fn draw_preview(app: &App, p: &Preview, f: &mut Frame, area: Rect) {
    let Some((info, thumb)) = p.photos.get(p.at) else { return };
    let of = match info.unit_id {
        Some(u) => crate::export::unit_label(u),
        None => format!("P{}", info.parcel_id),
    };
    let head = format!(
        "{} · {of} · {} · {} {} · {}×{} · {}",
        say::photo_of(app.lang, p.at + 1, p.photos.len()),
        on_screen(&info.file_name),
        on_screen(info.station.as_deref().unwrap_or("")),
        on_screen(&info.operator),
        info.width,
        info.height,
        app.short_time(&info.attached_at)
    );
    let block = Block::new().borders(Borders::TOP).title(head);
    let inner = block.inner(area);
    f.render_widget(block, area);
    f.render_widget(Paragraph::new(thumb.lines(inner.width, inner.height)), inner);
}

/// The unit's outcome in words.
fn outcome_of_item(lang: Lang, it: &ReviewItem) -> String {
    let outcome = it.outcome.as_deref().and_then(Outcome::from_code);
    outcome.map(|o| lang.code(o).to_string()).unwrap_or_default()
}

/// What happened, for the entry selected: where (with the dock, when not this station's) and
/// by whom, the customer's own reason, then (as `review list` prints them) the units against
/// what was expected, what is missing, the notes and the value.
fn detail_lines(lang: Lang, it: &ReviewItem, zone: chrono::FixedOffset, here: &str) -> Vec<Line<'static>> {
    // Nearly all of it came from files, scans and typing: each part cleaned.
    let mut head = format!(
        "{} · {} · {} {}",
        on_screen(&it.rmas),
        on_screen(&it.scan),
        on_screen(&it.station),
        on_screen(&it.operator)
    );
    if let Some(dock) = it.dock.as_deref().filter(|d| *d != here) {
        head = format!("{head} · {}", say::at_dock(lang, &on_screen(dock)));
    }
    if it.photos > 0 {
        head = format!("{head} · {}", say::review_photos(lang, it.photos));
    }
    if it.boxes > 1 {
        head = format!("{head} · {}", say::in_boxes(lang, it.boxes));
    }
    if let Some(r) = it.customer_reason.as_deref() {
        head = format!("{head} · “{}”", on_screen(r));
    }
    let mut lines = vec![Line::from(head)];
    let listed = crate::cli::words::say::review_item(lang, it, zone);
    lines.extend(listed.into_iter().skip(1).map(|l| Line::from(l.trim_start().to_string())));
    lines
}
