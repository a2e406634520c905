//! Drawing the station from its state alone: `render(&App, frame)` decides nothing.
//!
//! Top to bottom: a header (station, user, parcel), the feedback band (symbol, word, colour,
//! full width), the screen's body, the prompt with what is being typed, and a footer of keys
//! taken from the key table. Words are never told apart by colour alone.

use super::app::{
    outcome_words, App, Band, DashboardScreen, Offer, ParcelScreen, Prompt, ReviewScreen, Screen, Tone,
};
use super::keys::{binding, Action, BINDINGS};
use super::text::{flag_words, say, t, Lang, T};
use crate::domain::codes::{Cause, Coded, Reason};
use crate::domain::parcel::Discrepancy;
use crate::domain::scan::Command;
use crate::domain::text::{mask_name, on_screen};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

pub fn render(app: &App, f: &mut Frame) {
    let area = f.area();
    let [header, band, body, prompt, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(2),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(app, f, header);
    draw_band(app, f, band);
    match &app.screen {
        Screen::SignIn => match &app.demo_badges {
            // The demo's own badges, so that a newcomer can sign in at once.
            Some(badges) => draw_centered_lines(
                f,
                body,
                t(app.lang, T::SignInPrompt),
                &[t(app.lang, T::SignInHint), "", badges],
            ),
            None => draw_centered(f, body, t(app.lang, T::SignInPrompt), t(app.lang, T::SignInHint)),
        },
        Screen::Dock { offer } => draw_dock(app, f, body, offer.as_ref()),
        Screen::Parcel(p) => draw_parcel(app, p, f, body),
        Screen::Review(r) => draw_review(app, r, f, body),
        Screen::Dashboard(d) => draw_dashboard(app, d, f, body),
        Screen::Pin { then, .. } => {
            draw_centered(f, body, t(app.lang, T::PinPrompt), &say::pin_for(app.lang, *then))
        }
    }
    draw_prompt(app, f, prompt);
    draw_footer(app, f, footer);
    if app.help {
        draw_help(app, f, area);
    }
}

fn draw_header(app: &App, f: &mut Frame, area: Rect) {
    let user = app.user.as_ref().map(|u| on_screen(&u.name)).unwrap_or_else(|| "-".into());
    let parcel = match &app.screen {
        Screen::Parcel(p) => format!(" · P{}", p.view.id),
        _ => String::new(),
    };
    let lang = match app.lang {
        Lang::En => "EN",
        Lang::Zh => "中文",
    };
    let text = format!(" {} · {} · {}{} · {}", t(app.lang, T::Title), app.station, user, parcel, lang);
    let reversed = Style::new().add_modifier(Modifier::REVERSED);
    // A broken audit log, else the printer's trouble, takes the right of the header (most of it
    // on a narrow screen), for as long as it lasts.
    let (warning, style) = match (&app.log_broken, &app.printer_trouble) {
        (true, _) => (say::log_broken_short(app.lang), Style::new().bg(Color::Red).fg(Color::White)),
        (false, Some((error, waiting))) => {
            (say::printer_trouble(app.lang, error, *waiting), Style::new().bg(Color::Yellow).fg(Color::Black))
        }
        (false, None) => {
            f.render_widget(Paragraph::new(text).style(reversed), area);
            return;
        }
    };
    let warning = format!(" {warning} ");
    let width = (Span::raw(&warning).width() as u16).min(area.width.saturating_sub(20));
    let [left, right] = Layout::horizontal([Constraint::Min(0), Constraint::Length(width)]).areas(area);
    f.render_widget(Paragraph::new(text).style(reversed), left);
    f.render_widget(Paragraph::new(warning).style(style.add_modifier(Modifier::BOLD)), right);
}

fn draw_band(app: &App, f: &mut Frame, area: Rect) {
    let Some(Band { tone, text }) = &app.band else { return };
    let (symbol, word, style) = match tone {
        Tone::Ok => ("✔", t(app.lang, T::Ok), Style::new().bg(Color::Green).fg(Color::Black)),
        Tone::Warn => ("⚠", t(app.lang, T::Warning), Style::new().bg(Color::Yellow).fg(Color::Black)),
        Tone::Error => ("✖", t(app.lang, T::Error), Style::new().bg(Color::Red).fg(Color::White)),
    };
    let line = Line::from(vec![
        Span::styled(format!(" {symbol} {word} "), style.add_modifier(Modifier::BOLD)),
        Span::styled(format!(" {text}"), style),
    ]);
    let p = Paragraph::new(vec![line]).style(style).wrap(Wrap { trim: true });
    f.render_widget(p, area);
}

fn draw_centered(f: &mut Frame, area: Rect, big: &str, small: &str) {
    draw_centered_lines(f, area, big, &[small]);
}

fn draw_centered_lines(f: &mut Frame, area: Rect, big: &str, small: &[&str]) {
    let mut lines = vec![
        Line::default(),
        Line::styled(big.to_string(), Style::new().add_modifier(Modifier::BOLD)).centered(),
    ];
    lines.extend(small.iter().map(|s| Line::from(s.to_string()).centered()));
    f.render_widget(Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true }), area);
}

fn draw_dock(app: &App, f: &mut Frame, area: Rect, offer: Option<&Offer>) {
    let lang = app.lang;
    let [top, rest] = Layout::vertical([Constraint::Length(3), Constraint::Min(0)]).areas(area);
    let hint = match offer {
        Some(Offer::Unidentified(_)) => t(lang, T::UnknownParcelHint),
        Some(Offer::TakeOver { .. }) => t(lang, T::TakeOverHint),
        Some(Offer::Order { .. }) => t(lang, T::OrderHint),
        None => t(lang, T::DockHint),
    };
    draw_centered(f, top, t(lang, T::DockPrompt), hint);
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
            .map(|(id, what, state, at)| {
                Line::from(format!(
                    "P{id} {} {} {}",
                    app.short_time(at),
                    state_word(lang, state),
                    on_screen(what)
                ))
            })
            .collect()
    };
    f.render_widget(
        Paragraph::new(last).block(Block::new().borders(Borders::TOP).title(t(lang, T::LastParcels))),
        right,
    );
}

fn state_word(lang: Lang, state: &str) -> &'static str {
    match (lang, state) {
        (Lang::En, "signed") => "✔ signed",
        (Lang::En, "refused") => "✖ refused",
        (Lang::En, _) => "○ open",
        (Lang::Zh, "signed") => "✔ 已签收",
        (Lang::Zh, "refused") => "✖ 已拒收",
        (Lang::Zh, _) => "○ 处理中",
    }
}

fn draw_parcel(app: &App, p: &ParcelScreen, f: &mut Frame, area: Rect) {
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
    draw_units(app, p, f, units_area);
    if let Some(panel) = panel {
        draw_panel(lang, p, f, panel);
    }
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
            let style = if marked { Style::new().add_modifier(Modifier::BOLD) } else { Style::new() };
            Row::new(vec![
                Cell::from(format!("{mark}{}", u.seq)),
                Cell::from(on_screen(u.sku.as_deref().unwrap_or("?"))),
                Cell::from(on_screen(u.serial.as_deref().unwrap_or(""))),
                Cell::from(format!("{status}{flag}")),
            ])
            .style(style)
        })
        .collect();
    let table = Table::new(
        rows,
        [Constraint::Length(4), Constraint::Length(10), Constraint::Length(14), Constraint::Min(10)],
    )
    .block(Block::new().borders(Borders::TOP).title(t(lang, T::Units)));
    // The marked unit stays in sight however long the list (the newest is at the top).
    let at = target.and_then(|id| p.view.units.iter().rev().position(|u| u.id == id));
    let mut state = ratatui::widgets::TableState::default().with_selected(at);
    f.render_stateful_widget(table, area, &mut state);
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
fn draw_panel(lang: Lang, p: &ParcelScreen, f: &mut Frame, area: Rect) {
    let numbered = |items: Vec<String>| -> Vec<Line> {
        items.into_iter().enumerate().map(|(i, s)| Line::from(format!("{:>2} {s}", i + 1))).collect()
    };
    let (title, lines): (String, Vec<Line>) = match &p.prompt {
        Prompt::Reason { .. } | Prompt::RefuseParcel => (
            t(lang, T::ReasonPrompt).into(),
            numbered(Reason::ALL.iter().map(|r| lang.code(*r).to_string()).collect()),
        ),
        Prompt::Cause { .. } => (
            t(lang, T::CausePrompt).into(),
            numbered(Cause::ALL.iter().map(|c| lang.code(*c).to_string()).collect()),
        ),
        Prompt::Note { .. } => (t(lang, T::NotePrompt).into(), vec![]),
        Prompt::Sign { found } => (t(lang, T::Discrepancies).into(), discrepancy_lines(lang, p, found)),
        Prompt::Unit | Prompt::Serial { .. } => return,
    };
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(title)).wrap(Wrap { trim: true }),
        area,
    );
}

/// The SKU of unit `seq` of the parcel on screen.
fn sku_of(p: &ParcelScreen, seq: i64) -> String {
    p.view.units.iter().find(|u| u.seq == seq).and_then(|u| u.sku.clone()).unwrap_or_default()
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
                let sku = sku_of(p, *seq);
                Line::styled(
                    format!("⚠ {}", say::flagged_unit(lang, *seq, &on_screen(&sku), flag_words(lang, *flag))),
                    Style::new().fg(Color::Yellow),
                )
            }
            Discrepancy::Uninspected { seq } => {
                let sku = sku_of(p, *seq);
                Line::from(format!("○ {}", say::uninspected_unit(lang, *seq, &on_screen(&sku))))
            }
            Discrepancy::Incomplete { seq, have, of, .. } => {
                let sku = sku_of(p, *seq);
                Line::styled(
                    format!("◔ {}", say::incomplete_unit(lang, *seq, &on_screen(&sku), *have, *of)),
                    Style::new().fg(Color::Yellow),
                )
            }
        })
        .collect()
}

fn draw_prompt(app: &App, f: &mut Frame, area: Rect) {
    let lang = app.lang;
    let what = match &app.screen {
        Screen::SignIn => t(lang, T::SignInPrompt).to_string(),
        Screen::Dock { .. } => t(lang, T::DockPrompt).to_string(),
        Screen::Pin { .. } => t(lang, T::PinPrompt).to_string(),
        Screen::Review(r) => match r.overturn {
            Some((o, _)) => say::overturn_comment(lang, lang.code(o)),
            None if r.items.get(r.selected).is_some_and(|i| i.kind == "unidentified") => {
                t(lang, T::ReviewLinkHint).to_string()
            }
            None => t(lang, T::ReviewHint).to_string(),
        },
        Screen::Dashboard(_) => t(lang, T::DockPrompt).to_string(),
        Screen::Parcel(p) => match &p.prompt {
            Prompt::Unit if !p.view.units.is_empty() && p.target().is_none() => {
                t(lang, T::AllInspectedPrompt).to_string()
            }
            Prompt::Unit => t(lang, T::UnitPrompt).to_string(),
            Prompt::Serial { product, .. } => {
                format!("{}: {}", t(lang, T::SerialPrompt), on_screen(&product.name))
            }
            Prompt::Reason { outcome, .. } => {
                format!("{} → {}", lang.code(*outcome), t(lang, T::ReasonPrompt))
            }
            Prompt::Note { .. } => t(lang, T::NotePrompt).to_string(),
            Prompt::Cause { .. } => t(lang, T::CausePrompt).to_string(),
            Prompt::Sign { found } if found.is_empty() => t(lang, T::SignClean).to_string(),
            Prompt::Sign { found } => t(lang, crate::station::app::sign_prompt(found)).to_string(),
            Prompt::RefuseParcel => t(lang, T::RefuseParcelPrompt).to_string(),
        },
    };
    // A PIN being typed shows as stars.
    let typed_text = match &app.screen {
        Screen::Pin { .. } => "*".repeat(app.input.chars().count()),
        _ => on_screen(&app.input),
    };
    let typed = Line::from(vec![
        Span::raw("> "),
        Span::styled(typed_text, Style::new().add_modifier(Modifier::BOLD)),
        Span::raw("▏"),
    ]);
    f.render_widget(
        Paragraph::new(vec![
            Line::styled(format!("▶ {what}"), Style::new().add_modifier(Modifier::BOLD)),
            typed,
        ]),
        area,
    );
}

/// The keys that mean something on the current screen, from the key table.
fn footer_actions(app: &App) -> Vec<Action> {
    use Command as C;
    let cmd = Action::Command;
    match &app.screen {
        Screen::SignIn => vec![Action::Help, Action::Quit],
        Screen::Dock { offer: Some(Offer::Unidentified(_)) } => {
            vec![Action::Help, cmd(C::Unidentified), cmd(C::Cancel), Action::Quit]
        }
        Screen::Dock { offer: Some(Offer::Order { .. }) } => {
            vec![Action::Help, Action::Up, Action::Down, cmd(C::Cancel), Action::Quit]
        }
        Screen::Dock { offer: Some(Offer::TakeOver { .. }) } => {
            vec![Action::Help, cmd(C::Confirm), cmd(C::Cancel), Action::Quit]
        }
        Screen::Dock { .. }
            if app.user.as_ref().is_some_and(|u| u.role == crate::domain::codes::Role::Supervisor) =>
        {
            vec![Action::Help, Action::Review, Action::Dashboard, Action::Quit]
        }
        Screen::Dock { .. } => vec![Action::Help, Action::Quit],
        Screen::Review(_) => {
            vec![Action::Help, Action::Up, Action::Down, cmd(C::Confirm), cmd(C::Accept), cmd(C::Cancel)]
        }
        Screen::Dashboard(_) => vec![Action::Help, cmd(C::Cancel), Action::Quit],
        Screen::Pin { .. } => vec![Action::Help, cmd(C::Cancel), Action::Quit],
        Screen::Parcel(p) => match &p.prompt {
            // Most used first: what does not fit is still in the help (F1).
            Prompt::Unit => vec![
                Action::Help,
                cmd(C::Accept),
                cmd(C::Refuse),
                cmd(C::Sign),
                cmd(C::Undo),
                cmd(C::RefuseParcel),
                cmd(C::SecondHand(crate::domain::codes::Grade::B)),
                cmd(C::Scrap),
            ],
            Prompt::Sign { found } if crate::station::app::sign_prompt(found) == T::LastBoxPrompt => {
                vec![Action::Help, cmd(C::Confirm), cmd(C::Sign), cmd(C::Cancel)]
            }
            Prompt::Sign { .. } => vec![Action::Help, cmd(C::Confirm), cmd(C::Cancel)],
            _ => vec![Action::Help, cmd(C::Cancel)],
        },
    }
}

/// As many key hints as fit the width, in the table's order.
fn draw_footer(app: &App, f: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    let mut used = 0usize;
    for a in footer_actions(app) {
        let Some(b) = binding(a) else { continue };
        let words = format!(" {}  ", b.words(app.lang));
        let width = b.label.len() + ratatui::text::Span::raw(words.as_str()).width();
        if used + width > area.width as usize {
            break;
        }
        used += width;
        spans.push(Span::styled(b.label, Style::new().add_modifier(Modifier::REVERSED)));
        spans.push(Span::raw(words));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_help(app: &App, f: &mut Frame, area: Rect) {
    let lang = app.lang;
    let w = area.width.saturating_sub(2).min(78);
    let half = (w.saturating_sub(2) / 2) as usize;
    // Two keys a line: the key, its words, and its command barcode without the `CMD-` prefix.
    let entry = |b: &super::keys::Binding| {
        let scan = match b.action {
            Action::Command(c) => c.barcode().trim_start_matches("CMD-").to_string(),
            _ => String::new(),
        };
        let words = b.words(lang);
        let pad = 13usize.saturating_sub(Span::raw(words).width());
        let cell = format!("{:>4} {words}{} {scan}", b.label, " ".repeat(pad));
        let width = Span::raw(cell.as_str()).width();
        format!("{cell}{}", " ".repeat(half.saturating_sub(width)))
    };
    let mut lines: Vec<Line> = vec![Line::styled(
        match lang {
            Lang::En => "key  words         barcode (each is CMD-<word> on the command sheet)",
            Lang::Zh => "按键 说明           指令条码（指令单上为 CMD-<指令>）",
        },
        Style::new().add_modifier(Modifier::ITALIC),
    )];
    for pair in BINDINGS.chunks(2) {
        let left = entry(&pair[0]);
        let right = pair.get(1).map(entry).unwrap_or_default();
        lines.push(Line::from(format!("{left}{right}")));
    }
    lines.push(Line::from(format!(
        "REASON-<CODE>: {}",
        Reason::ALL.iter().map(|r| r.code()).collect::<Vec<_>>().join(" ")
    )));
    lines.push(Line::styled(t(lang, T::HelpClose).to_string(), Style::new().add_modifier(Modifier::ITALIC)));
    let h = (lines.len() as u16 + 4).min(area.height.saturating_sub(2));
    let popup = Rect { x: area.x + (area.width - w) / 2, y: area.y + 1, width: w, height: h };
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(t(lang, T::Help))).wrap(Wrap { trim: false }),
        popup,
    );
}

fn draw_review(app: &App, r: &ReviewScreen, f: &mut Frame, area: Rect) {
    let lang = app.lang;
    if r.items.is_empty() {
        f.render_widget(
            Paragraph::new(t(lang, T::ReviewEmpty)).block(Block::new().borders(Borders::TOP)),
            area,
        );
        return;
    }
    let [list, detail] = Layout::vertical([Constraint::Min(3), Constraint::Length(5)]).areas(area);
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
                        it.outcome.as_deref().unwrap_or("")
                    )
                },
            );
            let style =
                if i == r.selected { Style::new().add_modifier(Modifier::REVERSED) } else { Style::new() };
            Row::new(vec![
                Cell::from(format!("{mark}{must}R{}", it.id)),
                Cell::from(it.kind.clone()),
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
            Constraint::Length(5),
            Constraint::Min(10),
        ],
    )
    .block(Block::new().borders(Borders::TOP).title(t(lang, T::Queues)));
    f.render_widget(table, list);
    if let Some(it) = r.items.get(r.selected) {
        let lines = vec![
            // Nearly all of it came from files, scans and typing: each line cleaned whole.
            Line::from({
                let mut head =
                    on_screen(&format!("{} · {} · {} {}", it.rmas, it.scan, it.station, it.operator));
                if it.boxes > 1 {
                    head = format!("{head} · {}", say::in_boxes(lang, it.boxes));
                }
                head
            }),
            Line::from(on_screen(&format!(
                "{} {} {} {}",
                it.serial.as_deref().unwrap_or(""),
                it.reason.as_deref().or(it.parcel_refuse_reason.as_deref()).unwrap_or(""),
                it.discrepancy.as_deref().unwrap_or(""),
                it.note.as_deref().unwrap_or("")
            ))),
            Line::from(
                it.customer_reason.as_deref().map(|r| format!("“{}”", on_screen(r))).unwrap_or_default(),
            ),
        ];
        f.render_widget(
            Paragraph::new(lines).block(Block::new().borders(Borders::TOP)).wrap(Wrap { trim: true }),
            detail,
        );
    }
}

fn draw_dashboard(app: &App, d: &DashboardScreen, f: &mut Frame, area: Rect) {
    use ratatui::widgets::{Bar, BarChart, BarGroup};
    let lang = app.lang;
    let [charts, facts] = Layout::vertical([Constraint::Min(6), Constraint::Length(4)]).areas(area);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(charts);
    for (sheet, title, place) in [(&d.today, T::Today, left), (&d.week, T::Week, right)] {
        let bars: Vec<Bar> = sheet
            .by_department
            .iter()
            .map(|c| {
                let dept = crate::domain::codes::Department::from_code(&c.code);
                let label = dept.map_or(c.label.clone(), |x| lang.code(x).to_string());
                Bar::default().value(c.count as u64).label(Line::from(label)).text_value(format!(
                    "{} {:.0}%",
                    c.count,
                    c.share * 100.0
                ))
            })
            .collect();
        let chart = BarChart::default()
            .block(Block::new().borders(Borders::TOP).title(format!("{} · {}", t(lang, title), sheet.units)))
            .direction(ratatui::layout::Direction::Horizontal)
            .bar_width(1)
            .bar_gap(0)
            .data(BarGroup::default().bars(&bars));
        f.render_widget(chart, place);
    }
    let h = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.1} h"));
    let w = &d.week;
    let lines = vec![
        Line::from(format!(
            "{}: median {} · p90 {}",
            t(lang, T::Turnaround),
            h(w.turnaround_median_hours),
            h(w.turnaround_p90_hours)
        )),
        Line::from(format!(
            "{} {} d: {} {}",
            t(lang, T::Late),
            w.late_after_days,
            w.waiting.len(),
            w.waiting.iter().map(|x| format!("P{}", x.parcel_id)).collect::<Vec<_>>().join(" ")
        )),
    ];
    f.render_widget(Paragraph::new(lines).block(Block::new().borders(Borders::TOP)), facts);
}
