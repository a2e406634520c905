//! The camera's folder (`[photos] inbox`): where a phone, a USB camera's software or a bench
//! camera saves its pictures. The station looks at it before it handles each batch of input
//! (at least five times a second), so a picture is given to what was current when it first
//! appeared there: the unit being inspected, not the one scanned after it. A picture is taken
//! once its size has held still for `settle` (a camera writes a file a piece at a time).

use crate::store::photos::Target;
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// A file of the folder, ready to be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    pub path: PathBuf,
    /// Its name, as the camera gave it.
    pub name: String,
    /// What was current when it appeared (None: no parcel was open; it waits for `CMD-PHOTO`).
    pub target: Option<Target>,
}

struct Seen {
    size: u64,
    modified: Option<SystemTime>,
    /// When its size and time were last seen to change.
    since: Instant,
    target: Option<Target>,
    /// Handed over, and left in the folder (refused, or waiting for a parcel): not again
    /// until it changes or `CMD-PHOTO` asks.
    told: bool,
    /// Handed over and found not whole yet: a slow camera still writing. Handed over again
    /// once it has held still for [`Inbox::patience`].
    unfinished: bool,
    /// Refused (not a picture, not readable): `CMD-PHOTO` passes it by until it changes.
    refused: bool,
}

pub struct Inbox {
    pub dir: PathBuf,
    settle: Duration,
    seen: HashMap<OsString, Seen>,
    /// The lock that says this station takes from the folder, held while it runs.
    _claim: Option<std::fs::File>,
}

/// The file in the folder whose lock a station holds (hidden: never taken for a photo).
const CLAIM: &str = ".returns-dock-station.lock";

/// Names a camera or a copy gives a file while it is still being written, and the desktop's
/// own files: never photos.
fn passing(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.')
        || name.starts_with('~')
        || name.ends_with('~')
        || [".tmp", ".part", ".partial", ".crdownload", ".download", ".swp"]
            .iter()
            .any(|e| lower.ends_with(e))
        || lower == "thumbs.db"
        || lower == "desktop.ini"
}

/// How many files one look hands over, so that a folder full of old pictures does not stop
/// the screen for long; the rest come at the next looks.
const AT_ONCE: usize = 16;

impl Inbox {
    pub fn new(dir: PathBuf, settle: Duration) -> Inbox {
        Inbox { dir, settle, seen: HashMap::new(), _claim: None }
    }

    /// The folder for this station alone: a lock on a file in it, held until the station
    /// stops (the kernel lets it go however the process ends). Refused while another station
    /// holds it.
    pub fn claimed(mut self) -> std::io::Result<Inbox> {
        use std::os::fd::AsRawFd;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(CLAIM))?;
        // SAFETY: flock on a descriptor this function owns; it neither reads nor keeps memory.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                return Err(std::io::Error::other("another running station takes from this folder"));
            }
            return Err(e);
        }
        self._claim = Some(file);
        Ok(self)
    }

    /// The files in the folder now, by name (oldest name first): regular files only.
    fn files(&self) -> std::io::Result<Vec<(OsString, u64, Option<SystemTime>)>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            if passing(&name.to_string_lossy()) {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            out.push((name, meta.len(), meta.modified().ok()));
        }
        out.sort();
        Ok(out)
    }

    /// Looks at the folder: new files are given `current`; files whose size held still for
    /// the settling time are handed over (each once, until it changes).
    pub fn look(&mut self, now: Instant, current: Option<Target>) -> std::io::Result<Vec<Ready>> {
        let files = self.files()?;
        let present: std::collections::HashSet<&OsString> = files.iter().map(|f| &f.0).collect();
        self.seen.retain(|name, _| present.contains(name));
        let mut ready = Vec::new();
        let patience = self.patience();
        for (name, size, modified) in &files {
            let seen = self.seen.entry(name.clone()).or_insert(Seen {
                size: *size,
                modified: *modified,
                since: now,
                target: current,
                told: false,
                unfinished: false,
                refused: false,
            });
            if seen.size != *size || seen.modified != *modified {
                // A file handed over before and now changed is a new picture under the same
                // name (a camera that reuses `latest.jpg`): it goes to what is current now.
                // One still being written keeps what was current when it first appeared.
                if seen.told {
                    seen.target = current;
                }
                (seen.size, seen.modified, seen.since, seen.told) = (*size, *modified, now, false);
                // Written to again: it settles as any file does, its patience spent or not.
                (seen.unfinished, seen.refused) = (false, false);
                continue;
            }
            let still = now.duration_since(seen.since);
            if seen.told || *size == 0 && still < self.settle * 4 || seen.unfinished && still < patience {
                continue;
            }
            if still >= self.settle && ready.len() < AT_ONCE {
                ready.push(Ready {
                    path: self.dir.join(name),
                    name: name.to_string_lossy().into_owned(),
                    target: seen.target,
                });
            }
        }
        Ok(ready)
    }

    /// What is in the folder now, for `target` (`CMD-PHOTO`), settled or not: at most
    /// [`AT_ONCE`] files (oldest names first), and how many more there are.
    pub fn take_all(&mut self, now: Instant, target: Target) -> std::io::Result<(Vec<Ready>, usize)> {
        // Files refused before and not changed since are passed by: each press gets on.
        let files: Vec<_> = self
            .files()?
            .into_iter()
            .filter(|(name, size, modified)| {
                !self.seen.get(name).is_some_and(|s| s.refused && s.size == *size && s.modified == *modified)
            })
            .collect();
        let more = files.len().saturating_sub(AT_ONCE);
        let taken = files
            .into_iter()
            .take(AT_ONCE)
            .map(|(name, size, modified)| {
                self.seen.insert(
                    name.clone(),
                    Seen {
                        size,
                        modified,
                        since: now,
                        target: Some(target),
                        told: false,
                        unfinished: false,
                        refused: false,
                    },
                );
                Ready {
                    path: self.dir.join(&name),
                    name: name.to_string_lossy().into_owned(),
                    target: Some(target),
                }
            })
            .collect();
        Ok((taken, more))
    }

    /// How long a file found not whole must hold still before it is taken for cut short: a
    /// slow camera writes in pieces with pauses.
    pub fn patience(&self) -> Duration {
        (self.settle * 10).max(Duration::from_secs(5))
    }

    /// `name` was found not whole: true the first time (it is given [`Inbox::patience`] before
    /// it is handed over again), false when it was given that already.
    pub fn unfinished(&mut self, name: &str) -> bool {
        match self.seen.get_mut(&OsString::from(name)) {
            Some(s) if !s.unfinished => {
                s.unfinished = true;
                true
            }
            _ => false,
        }
    }

    /// `name` was handed over and stays in the folder: not handed over again until it changes.
    pub fn refused(&mut self, name: &str) {
        if let Some(s) = self.seen.get_mut(&OsString::from(name)) {
            (s.told, s.refused) = (true, true);
        }
    }

    /// `name` was handed over and stays in the folder: not handed over again until it changes.
    pub fn told(&mut self, name: &str) {
        if let Some(s) = self.seen.get_mut(&OsString::from(name)) {
            s.told = true;
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(u: i64) -> Option<Target> {
        Some(Target { parcel: 1, unit: Some(u) })
    }

    #[test]
    fn a_file_goes_to_what_was_current_when_it_appeared_once_it_holds_still() {
        let dir = tempfile::tempdir().unwrap();
        let mut inbox = Inbox::new(dir.path().to_path_buf(), Duration::from_millis(300));
        let t0 = Instant::now();
        std::fs::write(dir.path().join("IMG_0001.jpg"), b"part").unwrap();
        assert_eq!(inbox.look(t0, unit(3)).unwrap(), vec![]);
        // Still being written when the next unit is scanned: it stays unit 3's.
        std::fs::write(dir.path().join("IMG_0001.jpg"), b"part and the rest").unwrap();
        assert_eq!(inbox.look(t0 + Duration::from_millis(200), unit(4)).unwrap(), vec![]);
        assert_eq!(inbox.look(t0 + Duration::from_millis(400), unit(4)).unwrap(), vec![]);
        let ready = inbox.look(t0 + Duration::from_millis(600), unit(4)).unwrap();
        assert_eq!(ready.len(), 1);
        assert_eq!((ready[0].name.as_str(), ready[0].target), ("IMG_0001.jpg", unit(3)));
        // Handed over once: left in the folder (refused), it is not handed over again...
        inbox.told("IMG_0001.jpg");
        assert_eq!(inbox.look(t0 + Duration::from_millis(900), unit(4)).unwrap(), vec![]);
        // ...until CMD-PHOTO asks for everything there, for what is current then.
        let (all, more) =
            inbox.take_all(t0 + Duration::from_secs(1), Target { parcel: 1, unit: None }).unwrap();
        assert_eq!(more, 0);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].target, Some(Target { parcel: 1, unit: None }));
    }

    #[test]
    fn temporary_and_hidden_files_and_folders_are_not_photos() {
        let dir = tempfile::tempdir().unwrap();
        for name in [".IMG.jpg.swp", "IMG_2.jpg.part", "IMG_3.JPG.crdownload", "~IMG_4.jpg", "Thumbs.db"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        std::fs::create_dir(dir.path().join("DCIM")).unwrap();
        let mut inbox = Inbox::new(dir.path().to_path_buf(), Duration::ZERO);
        let now = Instant::now();
        assert_eq!(inbox.look(now, unit(1)).unwrap(), vec![]);
        assert_eq!(inbox.take_all(now, Target { parcel: 1, unit: None }).unwrap(), (vec![], 0));
    }

    /// Found: a camera that saves every shot as `latest.jpg` had its second shot given to the
    /// unit current at the first (or kept waiting for a parcel that was open by then).
    #[test]
    fn a_file_handed_over_and_then_written_again_is_a_new_picture_for_what_is_current_now() {
        let dir = tempfile::tempdir().unwrap();
        let mut inbox = Inbox::new(dir.path().to_path_buf(), Duration::ZERO);
        let t0 = Instant::now();
        std::fs::write(dir.path().join("latest.jpg"), b"first shot").unwrap();
        assert_eq!(inbox.look(t0, None).unwrap()[0].target, None);
        inbox.told("latest.jpg");
        std::fs::write(dir.path().join("latest.jpg"), b"the second shot, longer").unwrap();
        assert_eq!(inbox.look(t0 + Duration::from_millis(10), unit(2)).unwrap(), vec![]);
        let ready = inbox.look(t0 + Duration::from_millis(20), unit(3)).unwrap();
        assert_eq!(ready[0].target, unit(2), "what was current when the new picture appeared");
    }

    /// Found: a slow camera's file, not whole at the first look, was refused out loud (an
    /// error over the unit's own confirmation) before it was taken a moment later.
    #[test]
    fn a_file_not_whole_yet_is_given_time_before_it_is_handed_over_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut inbox = Inbox::new(dir.path().to_path_buf(), Duration::from_millis(100));
        let t0 = Instant::now();
        std::fs::write(dir.path().join("SLOW.jpg"), b"a first piece").unwrap();
        inbox.look(t0, unit(1)).unwrap();
        assert_eq!(inbox.look(t0 + Duration::from_millis(150), unit(1)).unwrap().len(), 1);
        assert!(inbox.unfinished("SLOW.jpg"), "the first time: wait");
        assert_eq!(inbox.look(t0 + Duration::from_secs(2), unit(1)).unwrap(), vec![]);
        assert_eq!(inbox.look(t0 + Duration::from_secs(6), unit(1)).unwrap().len(), 1);
        assert!(!inbox.unfinished("SLOW.jpg"), "the second time: cut short, said");
    }

    /// Found: CMD-PHOTO took the same sixteen refused files at every press, and the pictures
    /// behind them were never taken.
    #[test]
    fn cmd_photo_passes_by_what_it_refused_until_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..20 {
            std::fs::write(dir.path().join(format!("A{i:02}.aae")), b"x").unwrap();
        }
        std::fs::write(dir.path().join("IMG_1.jpg"), b"y").unwrap();
        let mut inbox = Inbox::new(dir.path().to_path_buf(), Duration::ZERO);
        let all = Target { parcel: 1, unit: None };
        let (first, more) = inbox.take_all(Instant::now(), all).unwrap();
        assert_eq!((first.len(), more), (AT_ONCE, 21 - AT_ONCE));
        for r in &first {
            inbox.refused(&r.name);
        }
        let (second, more) = inbox.take_all(Instant::now(), all).unwrap();
        assert_eq!((second.len(), more), (5, 0));
        assert!(second.iter().any(|r| r.name == "IMG_1.jpg"));
    }

    #[test]
    fn one_folder_is_claimed_by_one_station_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let first = Inbox::new(dir.path().to_path_buf(), Duration::ZERO).claimed().unwrap();
        let second = Inbox::new(dir.path().to_path_buf(), Duration::ZERO).claimed();
        assert!(second.is_err_and(|e| e.to_string().contains("another running station")));
        drop(first);
        assert!(Inbox::new(dir.path().to_path_buf(), Duration::ZERO).claimed().is_ok(), "free once it stops");
    }

    #[test]
    fn cmd_photo_takes_a_handful_at_a_time_and_says_how_many_are_left() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..40 {
            std::fs::write(dir.path().join(format!("IMG_{i:04}.jpg")), b"x").unwrap();
        }
        let mut inbox = Inbox::new(dir.path().to_path_buf(), Duration::ZERO);
        let (taken, more) = inbox.take_all(Instant::now(), Target { parcel: 1, unit: None }).unwrap();
        assert_eq!((taken.len(), more), (AT_ONCE, 40 - AT_ONCE));
        assert_eq!(taken[0].name, "IMG_0000.jpg");
    }
}
