//! The supervisor's figures: why goods came back today and in the last seven days, by the
//! department that must act, with the turnaround and the parcels waiting too long.

use crate::domain::codes::{Coded, Department};
use crate::domain::scan::Command;
use crate::export::feedback::Feedback;
use crate::station::app::App;
use crate::station::keys::Action;
use crate::station::text::{say, t, T};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Borders, Paragraph};
use ratatui::Frame;

#[derive(Debug, Clone, PartialEq)]
pub struct DashboardScreen {
    pub today: Feedback,
    pub week: Feedback,
}

/// A parcel scan also leaves the figures for the dock.
pub fn keys() -> Vec<Action> {
    vec![Action::Help, Action::Command(Command::Cancel), Action::Export, Action::Quit]
}

pub fn draw(app: &App, d: &DashboardScreen, f: &mut Frame, area: Rect) {
    let lang = app.lang;
    let [charts, facts] = Layout::vertical([Constraint::Min(6), Constraint::Length(4)]).areas(area);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(charts);
    for (sheet, title, place) in [(&d.today, T::Today, left), (&d.week, T::Week, right)] {
        let bars: Vec<Bar> = sheet
            .by_department
            .iter()
            .map(|c| {
                let dept = Department::from_code(&c.code);
                let label = dept.map_or(c.label.clone(), |x| lang.code(x).to_string());
                Bar::default().value(c.count as u64).label(Line::from(label)).text_value(format!(
                    "{} {:.0}%",
                    c.count,
                    c.share * 100.0
                ))
            })
            .collect();
        let chart = BarChart::default()
            .block(Block::new().borders(Borders::TOP).title(crate::station::view::cut_line(
                Line::from(match &sheet.dock {
                    Some(dock) => format!(
                        "{} · {} · {}",
                        t(lang, title),
                        say::units(lang, sheet.units),
                        say::at_dock(lang, dock)
                    ),
                    None => format!("{} · {}", t(lang, title), say::units(lang, sheet.units)),
                }),
                // A column left free before the next half's title.
                place.width.saturating_sub(1),
            )))
            .direction(ratatui::layout::Direction::Horizontal)
            .bar_width(1)
            .bar_gap(0)
            .data(BarGroup::default().bars(&bars));
        f.render_widget(chart, place);
    }
    let w = &d.week;
    let waiting = w.waiting.iter().map(|x| format!("P{}", x.parcel_id)).collect::<Vec<_>>().join(" ");
    let lines = vec![
        Line::from(format!(
            "{}: {}",
            t(lang, T::Turnaround),
            say::turnaround(lang, w.turnaround_median_hours, w.turnaround_p90_hours)
        )),
        Line::from(format!("{} {waiting}", say::late(lang, w.late_after_days, w.waiting.len()))),
    ];
    f.render_widget(Paragraph::new(lines).block(Block::new().borders(Borders::TOP)), facts);
}
