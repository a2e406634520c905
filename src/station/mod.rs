//! The scanning station: the terminal screen an operator works at all day.
//!
//! - [`input`]: terminal events into messages (scans, typed characters, commands);
//! - [`app`]: the state machine, `update(msg) -> effects`, pure; [`messages`]: its messages and
//!   effects;
//! - [`exec`]: effects carried out against the database, answered with messages;
//! - [`screen`]: one module per screen: what its keys and scans do, the keys it takes now, its
//!   drawing;
//! - [`view`]: the frame every screen shares (header, band, prompt, footer, help);
//! - [`keys`] and [`text`]: the key table and every word, in English and Chinese.
//!
//! The loop is generic over the terminal backend, so tests type into the real loop.

pub mod app;
pub mod big;
pub mod exec;
pub mod input;
pub mod keys;
pub mod messages;
pub mod screen;
pub mod text;
pub mod view;

use app::{App, Msg};
use exec::{After, Executor};
use ratatui::backend::Backend;
use ratatui::crossterm::event::{self, Event};
use ratatui::Terminal;
use std::collections::VecDeque;
use std::io::{self, Write};
use std::time::Duration;

/// Runs messages through the state machine and their effects through the executor until
/// nothing is left to do. Returns true when the station should stop.
pub fn dispatch(app: &mut App, exec: &mut Executor, msg: Msg, bell: &mut dyn FnMut()) -> bool {
    let mut queue = VecDeque::from([msg]);
    while let Some(m) = queue.pop_front() {
        for effect in app.update(m) {
            let user = app.user.as_ref().map(|u| u.id.clone());
            match exec.run(user.as_deref(), effect) {
                After::Answer(answer) => queue.push_back(*answer),
                After::Bell => bell(),
                After::Quit => return true,
                After::Nothing => {}
            }
        }
    }
    false
}

/// Events that arrived together (a scan usually comes in one read) and when, on the
/// station's monotonic clock (what the double-read check compares).
pub struct Batch {
    pub events: Vec<Event>,
    pub at: Duration,
}

/// The loop: draw, take a batch of events, handle them, draw again. `next_events` gives the
/// next batch, or None to stop.
pub fn run_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    exec: &mut Executor,
    next_events: &mut dyn FnMut() -> io::Result<Option<Batch>>,
    bell: &mut dyn FnMut(),
) -> io::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    terminal.draw(|f| view::render(app, f)).map_err(io::Error::other)?;
    while let Some(Batch { events, at }) = next_events()? {
        app.arrived = at;
        app.end_idle_session();
        app.batch_begins();
        for msg in exec.finished() {
            if dispatch(app, exec, msg, bell) {
                return Ok(());
            }
        }
        // Before this batch's scans move on to another unit: a picture already in the
        // camera's folder belongs to what is current now.
        let user = app.user.as_ref().map(|u| u.id.clone());
        if let Some(msg) = exec.look_at_photos(user.as_deref(), app.photo_target()) {
            if dispatch(app, exec, msg, bell) {
                return Ok(());
            }
        }
        for ev in &events {
            for msg in input::translate(app, ev) {
                if dispatch(app, exec, msg, bell) {
                    return Ok(());
                }
            }
        }
        if app.batch_ends() {
            bell();
        }
        terminal.draw(|f| view::render(app, f)).map_err(io::Error::other)?;
    }
    Ok(())
}

/// Everything that has arrived: the first event waits (at most a moment, so that background
/// work is collected even when nobody types), the rest are taken while they are there.
///
/// A batch scanner uploading its memory sends kilobytes in one write, and the terminal is
/// read 1,024 bytes at a time. crossterm's default event source waits on an edge-triggered
/// epoll, which does not wake again for bytes left unread after the first piece, so the rest
/// of a burst stayed unread until another key arrived. The program builds crossterm with
/// `use-dev-tty`, whose source polls level-triggered; that source reads nothing for a zero
/// timeout, so the drain asks with a millisecond and stops at the first quiet millisecond.
fn read_batch(start: std::time::Instant) -> io::Result<Option<Batch>> {
    if !event::poll(Duration::from_millis(200))? {
        return Ok(Some(Batch { events: vec![], at: start.elapsed() }));
    }
    let at = start.elapsed();
    let mut events = vec![event::read()?];
    while events.len() < 4096 && event::poll(Duration::from_millis(1))? {
        events.push(event::read()?);
    }
    Ok(Some(Batch { events, at }))
}

/// Runs the station on the real terminal. The terminal is restored on exit and on panic.
pub fn run(app: &mut App, exec: &mut Executor) -> io::Result<()> {
    let mut terminal = ratatui::init();
    let mut bell = || {
        let mut out = io::stdout();
        let _ = out.write_all(b"\x07");
        let _ = out.flush();
    };
    let start = std::time::Instant::now();
    let result = run_loop(&mut terminal, app, exec, &mut || read_batch(start), &mut bell);
    ratatui::restore();
    result
}
