//! The parcel screen drawn: the returns in the box, the expected lines, the units scanned
//! (▶ marks the one the next outcome goes to) and, while a choice is asked for, its panel.

use super::parcel::{ParcelScreen, Prompt};
use crate::domain::codes::{Cause, Coded, Reason};
use crate::domain::parcel::Discrepancy;
use crate::domain::text::{mask_name, on_screen};
use crate::station::app::{outcome_words, App};
use crate::station::text::{flag_words, say, t, Lang, T};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

pub fn draw(app: &App, p: &ParcelScreen, f: &mut Frame, area: Rect) {
    let lang = app.lang;
    let v = &p.view;
    // The returns in the box, one line each; names masked, phones never shown.
    let mut head: Vec<Line> = v
        .returns
        .iter()
        .map(|r| {
            Line::from(format!(
                "{} · {} · {} · {} · {}",
                on_screen(&r.rma_no),
                on_screen(&r.order_no),
                mask_name(r.customer.as_deref().unwrap_or("")),
                on_screen(r.reason.as_deref().unwrap_or("")),
                crate::domain::codes::Resolution::from_code(&r.resolution)
                    .map_or(r.resolution.as_str(), |c| lang.code(c))
            ))
        })
        .collect();
    if v.unidentified && v.returns.is_empty() {
        head.push(Line::styled(format!("⚠ {}", on_screen(&v.scan)), Style::new().fg(Color::Yellow)));
    }
    let head_height = (head.len() as u16).min(3);
    let side = !matches!(p.prompt, Prompt::Unit | Prompt::Serial { .. });
    let [top, middle] = Layout::vertical([Constraint::Length(head_height), Constraint::Min(0)]).areas(area);
    f.render_widget(Paragraph::new(head), top);
    let (main, panel) = if side {
        let [a, b] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(middle);
        (a, Some(b))
    } else {
        (middle, None)
    };
    let [lines_area, units_area] =
        Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(main);
    draw_lines(app, p, f, lines_area);
    draw_destination(app, p, f, lines_area);
    draw_units(app, p, f, units_area);
    if let Some(panel) = panel {
        draw_panel(lang, p, f, panel);
    }
}

/// Where the unit last given an outcome goes, in large type under the expected lines, where
/// there is room for it (and its name has a large form): what the bench reads from a step away.
fn draw_destination(app: &App, p: &ParcelScreen, f: &mut Frame, area: Rect) {
    let Some(to) = app
        .last_inspected
        .and_then(|id| p.view.units.iter().find(|u| u.id == id && u.outcome.is_some()))
        .and_then(|u| u.destination.as_deref())
    else {
        return;
    };
    let free = area.height.saturating_sub(1 + p.view.lines.len() as u16);
    let Some(big) = crate::station::big::lines(to, area.width.saturating_sub(2)) else { return };
    if free < crate::station::big::ROWS + 1 {
        return;
    }
    let at = Rect {
        x: area.x + 1,
        y: area.y + area.height - crate::station::big::ROWS,
        width: area.width.saturating_sub(2),
        height: crate::station::big::ROWS,
    };
    let lines: Vec<Line> =
        big.into_iter().map(|l| Line::styled(l, Style::new().add_modifier(Modifier::BOLD))).collect();
    f.render_widget(Paragraph::new(lines), at);
}

fn draw_lines(app: &App, p: &ParcelScreen, f: &mut Frame, area: Rect) {
    let lang = app.lang;
    let v = &p.view;
    let rows: Vec<Row> = v
        .lines
        .iter()
        .map(|l| {
            let on_line: Vec<_> = v.units.iter().filter(|u| u.line == Some(l.line)).collect();
            let scanned = on_line.len() as i64;
            let inspected = on_line.iter().filter(|u| u.outcome.is_some()).count() as i64;
            let (mark, style) = if scanned == l.qty && inspected == scanned {
                ("✔", Style::new().fg(Color::Green))
            } else if scanned > l.qty {
                ("⚠", Style::new().fg(Color::Yellow))
            } else {
                ("○", Style::new())
            };
            let mut title = on_screen(l.title.as_deref().unwrap_or(""));
            if l.arrived_before > 0 {
                title = format!("{title} · {}", say::earlier_boxes(lang, l.arrived_before));
            }
            Row::new(vec![
                Cell::from(mark),
                Cell::from(on_screen(&l.sku)),
                Cell::from(title),
                Cell::from(format!("{}/{}/{}", l.qty, scanned, inspected)),
            ])
            .style(style)
        })
        .collect();
    let title = format!("{} / {} / {}", t(lang, T::Expected), t(lang, T::Scanned), t(lang, T::Inspected));
    let table = Table::new(
        rows,
        [Constraint::Length(1), Constraint::Length(10), Constraint::Min(10), Constraint::Length(8)],
    )
    .block(Block::new().borders(Borders::TOP).title(title));
    f.render_widget(table, area);
}

fn draw_units(app: &App, p: &ParcelScreen, f: &mut Frame, area: Rect) {
    let lang = app.lang;
    // ▶ marks the unit the next outcome goes to, so the operator sees it before scanning.
    let target = p.target().map(|u| u.id);
    let rows: Vec<Row> = p
        .view
        .units
        .iter()
        .rev()
        .map(|u| {
            let marked = target == Some(u.id);
            let mark = if marked { "▶" } else { " " };
            let status = match (u.outcome, u.flag) {
                (None, _) if u.incomplete() => {
                    let (have, of) = u.boxes.unwrap_or_default();
                    format!("◔ {}", say::box_of(lang, have, of))
                }
                (Some(o), _) => format!("{} {}", outcome_symbol(o), outcome_words(lang, o, u.grade)),
                (None, Some(fl)) => format!("⚠ {}", flag_words(lang, fl)),
                (None, None) => format!("○ {}", t(lang, T::Uninspected)),
            };
            let flag = u
                .flag
                .filter(|_| u.outcome.is_some())
                .map(|fl| format!(" ⚠ {}", flag_words(lang, fl)))
                .unwrap_or_default();
            // Then where it goes, as the band said when it got the outcome (a flag first: it
            // still needs a look).
            let to = u
                .destination
                .as_deref()
                .filter(|_| u.outcome.is_some())
                .map(|d| format!(" → {}", on_screen(d)))
                .unwrap_or_default();
            // And how many photos it has.
            let photos = if u.photos > 0 { format!(" 📷{}", u.photos) } else { String::new() };
            let style = if marked { Style::new().add_modifier(Modifier::BOLD) } else { Style::new() };
            Row::new(vec![
                Cell::from(format!("{mark}{}", u.seq)),
                Cell::from(on_screen(u.sku.as_deref().unwrap_or("?"))),
                Cell::from(on_screen(u.serial.as_deref().unwrap_or(""))),
                Cell::from(format!("{status}{flag}{to}{photos}")),
            ])
            .style(style)
        })
        .collect();
    let table = Table::new(
        rows,
        [Constraint::Length(4), Constraint::Length(10), Constraint::Length(14), Constraint::Min(10)],
    )
    .block(Block::new().borders(Borders::TOP).title(units_title(lang, p.view.photos)));
    // The marked unit stays in sight however long the list (the newest is at the top).
    let at = target.and_then(|id| p.view.units.iter().rev().position(|u| u.id == id));
    let mut state = ratatui::widgets::TableState::default().with_selected(at);
    f.render_stateful_widget(table, area, &mut state);
}

/// The units list's title, with the photos of the parcel itself when it has some.
fn units_title(lang: Lang, photos: i64) -> String {
    match photos {
        0 => t(lang, T::Units).to_string(),
        n => format!("{} · {}", t(lang, T::Units), say::parcel_photos(lang, n)),
    }
}

/// A symbol per outcome, so that the list reads without colour.
fn outcome_symbol(o: crate::domain::codes::Outcome) -> &'static str {
    use crate::domain::codes::Outcome::*;
    match o {
        Accept => "✔",
        SecondHand => "◐",
        Scrap => "✖",
        ReturnToSupplier => "↩",
        Refuse => "⛔",
    }
}

/// The side panel of a prompt that needs a choice: reasons, causes, or the discrepancies.
/// A list longer than the panel is high goes on in a second column, so every choice shows.
fn draw_panel(lang: Lang, p: &ParcelScreen, f: &mut Frame, area: Rect) {
    let (title, items, lines): (String, Vec<String>, Vec<Line>) = match &p.prompt {
        Prompt::Reason { .. } | Prompt::RefuseParcel => (
            t(lang, T::ReasonPrompt).into(),
            Reason::ALL.iter().map(|r| lang.code(*r).to_string()).collect(),
            vec![],
        ),
        Prompt::Cause { .. } => (
            t(lang, T::CausePrompt).into(),
            Cause::ALL.iter().map(|c| lang.code(*c).to_string()).collect(),
            vec![],
        ),
        Prompt::Note { .. } => (t(lang, T::NotePrompt).into(), vec![], vec![]),
        Prompt::Sign { found } => {
            (t(lang, T::Discrepancies).into(), vec![], discrepancy_lines(lang, p, found))
        }
        Prompt::Unit | Prompt::Serial { .. } => return,
    };
    f.render_widget(Clear, area);
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if items.is_empty() {
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
        return;
    }
    let numbered: Vec<Line> =
        items.into_iter().enumerate().map(|(i, s)| Line::from(format!("{:>2} {s}", i + 1))).collect();
    let rows = (inner.height as usize).max(1);
    if numbered.len() <= rows {
        f.render_widget(Paragraph::new(numbered), inner);
        return;
    }
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(inner);
    let second = numbered[rows.min(numbered.len())..].to_vec();
    f.render_widget(Paragraph::new(numbered[..rows].to_vec()), left);
    f.render_widget(Paragraph::new(second), right);
}

fn discrepancy_lines(lang: Lang, p: &ParcelScreen, found: &[Discrepancy]) -> Vec<Line<'static>> {
    if found.is_empty() {
        return vec![Line::from(t(lang, T::SignClean))];
    }
    found
        .iter()
        .map(|d| match d {
            Discrepancy::Missing { line, qty } => {
                let l = p.view.lines.iter().find(|x| x.line == *line);
                let (sku, rma) = l.map(|l| (on_screen(&l.sku), on_screen(&l.rma_no))).unwrap_or_default();
                Line::styled(
                    format!("✖ {}", say::missing_line(lang, *qty, &sku, &rma)),
                    Style::new().fg(Color::Red),
                )
            }
            Discrepancy::Unit { seq, flag } => {
                let sku = p.sku_of(*seq);
                Line::styled(
                    format!("⚠ {}", say::flagged_unit(lang, *seq, &on_screen(&sku), flag_words(lang, *flag))),
                    Style::new().fg(Color::Yellow),
                )
            }
            Discrepancy::Uninspected { seq } => {
                let sku = p.sku_of(*seq);
                Line::from(format!("○ {}", say::uninspected_unit(lang, *seq, &on_screen(&sku))))
            }
            Discrepancy::Incomplete { seq, have, of, .. } => {
                let sku = p.sku_of(*seq);
                Line::styled(
                    format!("◔ {}", say::incomplete_unit(lang, *seq, &on_screen(&sku), *have, *of)),
                    Style::new().fg(Color::Yellow),
                )
            }
        })
        .collect()
}
