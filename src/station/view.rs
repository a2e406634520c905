//! Drawing the station from its state alone: `render(&App, frame)` decides nothing.
//!
//! Top to bottom: a header (station, user, parcel), the feedback band (symbol, word, colour,
//! full width), the screen's body (each screen draws its own), the prompt with what is being
//! typed, and a footer of the keys the screen takes now. Words are never told apart by colour
//! alone.

use super::app::{App, Band, Screen, Tone};
use super::keys::{binding, Action, Binding, BINDINGS};
use super::screen::{dashboard, dock, parcel, parcel_view, pin, review, sign_in};
use super::text::{say, t, Lang, T};
use crate::domain::codes::{Coded, Reason};
use crate::domain::text::on_screen;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
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
        Screen::SignIn => sign_in::draw(app, f, body),
        Screen::Dock { offer } => dock::draw(app, f, body, offer.as_ref()),
        Screen::Parcel(p) => parcel_view::draw(app, p, f, body),
        Screen::Review(r) => review::draw(app, r, f, body),
        Screen::Dashboard(d) => dashboard::draw(app, d, f, body),
        Screen::Pin { then, .. } => pin::draw(app, *then, f, body),
    }
    draw_prompt(app, f, prompt);
    draw_footer(app, f, footer);
    if app.help {
        draw_help(app, f, area);
    }
}

fn draw_header(app: &App, f: &mut Frame, area: Rect) {
    let reversed = Style::new().add_modifier(Modifier::REVERSED);
    // A broken audit log, else the printer's trouble, takes the right of the header (most of it
    // on a narrow screen), for as long as it lasts.
    let warning = match (&app.log_broken, &app.printer_trouble) {
        (true, _) => Some((say::log_broken_short(app.lang), Style::new().bg(Color::Red).fg(Color::White))),
        (false, Some((error, waiting))) => Some((
            say::printer_trouble(app.lang, error, *waiting),
            Style::new().bg(Color::Yellow).fg(Color::Black),
        )),
        (false, None) => None,
    };
    let Some((warning, style)) = warning else {
        f.render_widget(Paragraph::new(header_line(app, area.width)).style(reversed), area);
        return;
    };
    let warning = format!(" {warning} ");
    let width = (Span::raw(&warning).width() as u16).min(area.width.saturating_sub(20));
    let [left, right] = Layout::horizontal([Constraint::Min(0), Constraint::Length(width)]).areas(area);
    f.render_widget(Paragraph::new(header_line(app, left.width)).style(reversed), left);
    f.render_widget(Paragraph::new(warning).style(style.add_modifier(Modifier::BOLD)), right);
}

/// The header's words in `width` columns: the title, the dock, the station, the user, the open
/// parcel and the language. A long dock name is cut first ("…"), so that the station, who is
/// signed in and the parcel stay in sight; what still does not fit ends in "…".
fn header_line(app: &App, width: u16) -> Line<'static> {
    let user = app.user.as_ref().map(|u| on_screen(&u.name)).unwrap_or_else(|| "-".into());
    let parcel = match &app.screen {
        Screen::Parcel(p) => format!(" · P{}", p.view.id),
        _ => String::new(),
    };
    let lang = match app.lang {
        Lang::En => "EN",
        Lang::Zh => "中文",
    };
    let title = t(app.lang, T::Title);
    let rest = format!("{} · {}{} · {}", app.station, user, parcel, lang);
    let dock = on_screen(&app.dock_name);
    if dock.is_empty() {
        return cut_line(Line::from(format!(" {title} · {rest}")), width);
    }
    let fixed = Span::raw(format!(" {title} ·  · {rest}")).width();
    let room = (width as usize).saturating_sub(fixed);
    let dock = if Span::raw(&dock).width() <= room {
        dock
    } else if room >= 2 {
        cut_line(Line::from(dock), room as u16).to_string()
    } else {
        return cut_line(Line::from(format!(" {title} · {rest}")), width);
    };
    cut_line(Line::from(format!(" {title} · {dock} · {rest}")), width)
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

pub fn draw_centered(f: &mut Frame, area: Rect, big: &str, small: &str) {
    draw_centered_lines(f, area, big, &[small]);
}

pub fn draw_centered_lines(f: &mut Frame, area: Rect, big: &str, small: &[&str]) {
    let mut lines = vec![
        Line::default(),
        Line::styled(big.to_string(), Style::new().add_modifier(Modifier::BOLD)).centered(),
    ];
    lines.extend(small.iter().map(|s| Line::from(s.to_string()).centered()));
    f.render_widget(Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true }), area);
}

fn draw_prompt(app: &App, f: &mut Frame, area: Rect) {
    let lang = app.lang;
    let what = match &app.screen {
        Screen::SignIn => t(lang, T::SignInPrompt).to_string(),
        Screen::Dock { .. } | Screen::Dashboard(_) => t(lang, T::DockPrompt).to_string(),
        Screen::Pin { .. } => t(lang, T::PinPrompt).to_string(),
        Screen::Review(r) => review::prompt(lang, r),
        Screen::Parcel(p) => parcel::prompt(lang, p),
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
    let what = Line::styled(format!("▶ {what}"), Style::new().add_modifier(Modifier::BOLD));
    f.render_widget(Paragraph::new(vec![cut_line(what, area.width), typed]), area);
}

/// A line cut to `width` columns, ending in "…" when it was longer.
pub fn cut_line(line: Line<'static>, width: u16) -> Line<'static> {
    let width = width as usize;
    if line.width() <= width {
        return line;
    }
    let mut left = width.saturating_sub(1);
    let mut spans = Vec::new();
    for span in line.spans {
        if left == 0 {
            break;
        }
        let mut text = String::new();
        for c in span.content.chars() {
            let w = Span::raw(c.to_string()).width();
            if w > left {
                left = 0;
                break;
            }
            left -= w;
            text.push(c);
        }
        spans.push(Span::styled(text, span.style));
    }
    spans.push(Span::raw("…"));
    Line::from(spans).style(line.style)
}

/// The footer: the keys the screen takes now, in its order, each with its words where they
/// fit and its short word where they do not; what still does not fit is left to the help (F1).
fn draw_footer(app: &App, f: &mut Frame, area: Rect) {
    let keys: Vec<&Binding> = footer_bindings(app);
    let width = area.width as usize;
    let short = hints(app.lang, &keys, true);
    let long = hints(app.lang, &keys, false);
    let w = |(label, words): &(&str, String)| label.len() + Span::raw(words.as_str()).width();
    // Every key in its short form, then as many as fit in full words, in the screen's order.
    let mut chosen = short.clone();
    let mut used: usize = chosen.iter().map(w).sum();
    for (i, full) in long.iter().enumerate() {
        let grown = used - w(&chosen[i]) + w(full);
        if grown <= width {
            used = grown;
            chosen[i] = full.clone();
        }
    }
    let mut shown = Vec::new();
    let mut used = 0;
    for hint in chosen {
        if used + w(&hint) > width {
            break;
        }
        used += w(&hint);
        let (label, words) = hint;
        shown.push(Span::styled(label, Style::new().add_modifier(Modifier::REVERSED)));
        shown.push(Span::raw(words));
    }
    f.render_widget(Paragraph::new(Line::from(shown)), area);
}

/// The bindings of the actions the screen takes now; ↑ and ↓ share one hint.
pub fn footer_bindings(app: &App) -> Vec<&'static Binding> {
    let mut seen = Vec::new();
    for a in app.accepts() {
        if a == Action::Down && seen.iter().any(|b: &&Binding| b.action == Action::Up) {
            continue;
        }
        if let Some(b) = binding(a) {
            if !seen.iter().any(|s: &&Binding| s.action == b.action) {
                seen.push(b);
            }
        }
    }
    seen
}

fn hints(lang: Lang, keys: &[&Binding], short: bool) -> Vec<(&'static str, String)> {
    keys.iter()
        .map(|b| {
            let (label, words) = match (b.action, short) {
                (Action::Up, false) => ("↑↓", if lang == Lang::En { "choose" } else { "选择" }),
                (Action::Up, true) => ("↑↓", ""),
                (_, false) => (b.label, b.words(lang)),
                (_, true) => (b.label, b.short(lang)),
            };
            // One blank between hints, whatever their form: the reversed key marks each start.
            let words = if words.is_empty() { " ".to_string() } else { format!(" {words} ") };
            (label, words)
        })
        .collect()
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
    // The keys this screen takes now first, then those of other screens, dimmed and headed as
    // such (never told apart by colour alone).
    let now = footer_bindings(app);
    let now_ids: Vec<Action> = now.iter().map(|b| b.action).collect();
    let all_now = app.accepts();
    // Photos are no key at a station without a camera folder.
    let photo = Action::Command(crate::domain::scan::Command::Photo);
    let others: Vec<&Binding> = BINDINGS
        .iter()
        .filter(|b| !now_ids.contains(&b.action) && !all_now.contains(&b.action))
        .filter(|b| app.photos_on || b.action != photo)
        .collect();
    let now: Vec<&Binding> = BINDINGS.iter().filter(|b| all_now.contains(&b.action)).collect();
    for (title, keys, style) in
        [(T::HelpNow, now, Style::new()), (T::HelpElsewhere, others, Style::new().fg(Color::DarkGray))]
    {
        if keys.is_empty() {
            continue;
        }
        lines.push(Line::styled(t(lang, title).to_string(), Style::new().add_modifier(Modifier::BOLD)));
        for pair in keys.chunks(2) {
            let left = entry(pair[0]);
            let right = pair.get(1).map(|b| entry(b)).unwrap_or_default();
            lines.push(Line::styled(format!("{left}{right}"), style));
        }
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
