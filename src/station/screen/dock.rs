//! The dock screen, between parcels: the shift's figures, the last parcels, and what a parcel
//! scan that could not simply open a parcel offers (book it in, take it over, choose a box).

use crate::domain::codes::Role;
use crate::domain::scan::Command;
use crate::domain::text::on_screen;
use crate::station::app::{App, Effect, Screen};
use crate::station::keys::Action;
use crate::station::text::{say, t, Lang, T};
use crate::store::station::{ParcelLookup, Product, ReturnSummary};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

/// What a parcel scan that could not simply open a parcel offers.
#[derive(Debug, Clone, PartialEq)]
pub enum Offer {
    /// It matched nothing: book it in as unidentified (CMD-UNIDENTIFIED).
    Unidentified(String),
    /// It is open at another station: a supervisor may take it over (CMD-CONFIRM).
    TakeOver { parcel: i64 },
    /// An order number whose open returns travel in separate boxes: the box's tracking number
    /// or RMA says which (scanned, or chosen with ↑/↓ and Enter).
    Order { order_no: String, returns: Vec<ReturnSummary>, selected: usize },
}

/// The actions the dock takes now.
pub fn keys(app: &App, offer: Option<&Offer>) -> Vec<Action> {
    let cmd = Action::Command;
    let mut keys = vec![Action::Help];
    match offer {
        Some(Offer::Unidentified(_)) => keys.extend([cmd(Command::Unidentified), cmd(Command::Cancel)]),
        Some(Offer::TakeOver { .. }) => keys.extend([cmd(Command::Confirm), cmd(Command::Cancel)]),
        Some(Offer::Order { .. }) => keys.extend([Action::Up, Action::Down, cmd(Command::Cancel)]),
        // Esc clears what the band says of the last scan.
        None if app.band.is_some() => keys.push(cmd(Command::Cancel)),
        None => {}
    }
    if app.user.as_ref().is_some_and(|u| u.role == Role::Supervisor) {
        keys.extend([Action::Review, Action::Dashboard, Action::Export]);
    }
    keys.push(Action::Quit);
    keys
}

/// Why the dock refuses an action, when there is more to say than "not here".
pub fn why_not(lang: Lang, action: Action) -> Option<String> {
    match action {
        Action::Command(
            Command::Accept
            | Command::SecondHand(_)
            | Command::Scrap
            | Command::ReturnToSupplier
            | Command::Refuse
            | Command::Sign
            | Command::Undo
            | Command::RefuseParcel,
        )
        | Action::Cause
        | Action::Note => Some(say::no_parcel_open(lang)),
        _ => None,
    }
}

impl App {
    /// A scan at the dock: a parcel to look up, or Enter on the order's list.
    pub(crate) fn dock_scan(&mut self, text: &str) -> Vec<Effect> {
        if text.is_empty() {
            // Enter on the order's list opens the return chosen with ↑/↓.
            if let Screen::Dock { offer: Some(Offer::Order { returns, selected, .. }) } = &self.screen {
                let rma = returns[*selected].rma_no.clone();
                self.screen = Screen::Dock { offer: None };
                self.band = None;
                return vec![Effect::LookupParcel(rma)];
            }
            return vec![];
        }
        self.screen = Screen::Dock { offer: None };
        self.band = None;
        vec![Effect::LookupParcel(text.to_string())]
    }

    /// A key or a command barcode the dock takes now.
    pub(crate) fn dock_action(&mut self, action: Action) -> Vec<Effect> {
        let Screen::Dock { offer } = &mut self.screen else { return vec![] };
        match (action, offer.clone()) {
            (Action::Up | Action::Down, Some(Offer::Order { .. })) => {
                if let Some(Offer::Order { returns, selected, .. }) = offer {
                    let n = returns.len();
                    *selected =
                        if action == Action::Up { (*selected + n - 1) % n } else { (*selected + 1) % n };
                }
                vec![]
            }
            (Action::Command(Command::Unidentified), Some(Offer::Unidentified(scan))) => {
                vec![Effect::OpenParcel { scan, returns: vec![] }]
            }
            (Action::Command(Command::Confirm), Some(Offer::TakeOver { parcel })) => {
                self.supervisor(crate::station::app::Pending::TakeOver(parcel))
            }
            (Action::Command(Command::Cancel), _) => {
                *offer = None;
                self.band = None;
                vec![]
            }
            _ => vec![],
        }
    }

    /// What the lookup of a parcel scan found.
    pub(crate) fn looked(
        &mut self,
        scan: String,
        found: ParcelLookup,
        product: Option<Product>,
    ) -> Vec<Effect> {
        let lang = self.lang;
        match found {
            ParcelLookup::Expected(rs) => {
                vec![Effect::OpenParcel { scan, returns: rs.iter().map(|r| r.id).collect() }]
            }
            ParcelLookup::Resume(id) => vec![Effect::ResumeParcel(id)],
            ParcelLookup::OrderReturns { order_no, returns } => {
                let text = say::order_in_boxes(lang, &on_screen(&order_no), returns.len());
                self.screen = Screen::Dock { offer: Some(Offer::Order { order_no, returns, selected: 0 }) };
                self.warn(text)
            }
            ParcelLookup::OpenElsewhere(p) => {
                let station =
                    on_screen(&say::station_at(lang, &p.station, p.dock.as_deref(), &self.dock_name));
                if self.user.as_ref().is_some_and(|u| u.role == Role::Supervisor) {
                    self.screen = Screen::Dock { offer: Some(Offer::TakeOver { parcel: p.parcel_id }) };
                    self.warn(say::take_over_offer(lang, &station, &p.operator))
                } else {
                    self.error(say::open_elsewhere(lang, &station, &p.operator))
                }
            }
            ParcelLookup::Duplicate(p) => {
                let at = p.closed_at.as_deref().unwrap_or(&p.received_at);
                let state = lang.code(p.state);
                let station =
                    on_screen(&say::station_at(lang, &p.station, p.dock.as_deref(), &self.dock_name));
                let text = say::duplicate(lang, state, &self.short_time(at), &station, &p.operator);
                match &p.rma_awaiting {
                    Some(rma) => self.error(format!("{text} · {}", say::another_box(lang, &on_screen(rma)))),
                    None => self.error(text),
                }
            }
            // A product's barcode where the parcel's label was expected: said as such, and
            // nothing is booked in under it.
            ParcelLookup::NotFound if product.is_some() => {
                let p = product.unwrap_or_else(|| unreachable!());
                self.error(say::product_not_parcel(lang, &on_screen(&p.sku), &on_screen(&p.name)))
            }
            ParcelLookup::NotFound => {
                self.screen = Screen::Dock { offer: Some(Offer::Unidentified(scan.clone())) };
                self.error(say::parcel_not_found(lang, &on_screen(&scan)))
            }
        }
    }
}

pub fn draw(app: &App, f: &mut Frame, area: Rect, offer: Option<&Offer>) {
    let lang = app.lang;
    let [top, rest] = Layout::vertical([Constraint::Length(3), Constraint::Min(0)]).areas(area);
    let hint = match offer {
        Some(Offer::Unidentified(_)) => t(lang, T::UnknownParcelHint),
        Some(Offer::TakeOver { .. }) => t(lang, T::TakeOverHint),
        Some(Offer::Order { .. }) => t(lang, T::OrderHint),
        None => t(lang, T::DockHint),
    };
    crate::station::view::draw_centered(f, top, t(lang, T::DockPrompt), hint);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(rest);
    let d = &app.dock;
    let mut counts = vec![
        Line::from(say::shift_counts(lang, d.parcels, d.units, d.refused)),
        Line::default(),
        Line::styled(t(lang, T::Queues).to_string(), Style::new().add_modifier(Modifier::BOLD)),
        Line::from(say::queues(lang, d.review, d.unidentified)),
    ];
    // The demo's returns still to come, with what to scan: something to try on day one.
    if !d.demo_waiting.is_empty() {
        counts.push(Line::default());
        counts.push(Line::styled(t(lang, T::DemoTry).to_string(), Style::new().add_modifier(Modifier::BOLD)));
        for (rma, codes) in &d.demo_waiting {
            counts.push(Line::from(on_screen(rma)));
            for (code, qty, serialised) in codes {
                let serial = if *serialised { t(lang, T::DemoSerial) } else { "" };
                counts.push(Line::from(format!("  {} ×{qty}{serial}", on_screen(code))));
            }
        }
    }
    f.render_widget(
        Paragraph::new(counts).block(Block::new().borders(Borders::TOP).title(t(lang, T::ShiftCounts))),
        left,
    );
    // The order's returns take the place of the last parcels while one must be chosen.
    if let Some(Offer::Order { returns, selected, .. }) = offer {
        let lines: Vec<Line> = returns
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mark = if i == *selected { "▶ " } else { "  " };
                let tracking = r.tracking_no.as_deref().map(on_screen).unwrap_or_else(|| "-".into());
                let line = Line::from(format!("{mark}{} · {tracking}", on_screen(&r.rma_no)));
                if i == *selected {
                    line.style(Style::new().add_modifier(Modifier::BOLD))
                } else {
                    line
                }
            })
            .collect();
        let title = t(lang, T::OrderReturns);
        f.render_widget(Paragraph::new(lines).block(Block::new().borders(Borders::TOP).title(title)), right);
        return;
    }
    let last: Vec<Line> = if d.last.is_empty() {
        vec![Line::from(t(lang, T::NothingYet))]
    } else {
        d.last
            .iter()
            .map(|l| {
                let line = Line::from(format!(
                    "P{} {} {} {}",
                    l.id,
                    app.short_time(&l.at),
                    say::last_parcel_state(lang, l.state, l.discrepancies),
                    on_screen(&l.what)
                ));
                crate::station::view::cut_line(line, right.width)
            })
            .collect()
    };
    f.render_widget(
        Paragraph::new(last).block(Block::new().borders(Borders::TOP).title(t(lang, T::LastParcels))),
        right,
    );
}
