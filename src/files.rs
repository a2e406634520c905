//! Who may read the files the program creates: the database (with its `-wal` and `-shm`), the
//! log, exports, reports, labels and rejected rows hold customers' names and the supervisors'
//! PIN hashes, so they are private to their user (0600), or readable by the group too (0640)
//! with `[files] group_readable = true`.
//!
//! The mode is enforced with the process's umask, set once by the command line before any
//! thread starts. Why a umask and not a mode on each open: SQLite creates the database, its
//! `-wal`, `-shm` and journal itself. It creates the database file with 0644 less the umask,
//! and the others with the database file's own bits (forced with `fchmod`, whatever the
//! umask), so the database file must be born private. Creating it first with `std::fs` is
//! ruled out (closing that descriptor would drop the POSIX locks of this process's own
//! connections; see `Store::open`), and a `chmod` after SQLite created it leaves a moment in
//! which another user can open it and keep the descriptor. The umask is process-wide and
//! changing it is not thread-safe, hence once, early, before any thread. Files that already
//! exist keep their inode, so they are tightened by path ([`tighten`]): a `chmod` opens no
//! descriptor.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The permission bits of every file this process creates.
static MODE: AtomicU32 = AtomicU32::new(0o600);

/// 0600, or 0640 when the group may read.
pub fn mode_for(group_readable: bool) -> u32 {
    if group_readable {
        0o640
    } else {
        0o600
    }
}

/// The mode files are created with (0600 until [`create_with`] says otherwise).
pub fn mode() -> u32 {
    MODE.load(Ordering::Relaxed)
}

/// Makes every file this process creates from now on get `mode` (0600 or 0640), whatever the
/// umask it was started with. Call it before any thread is started.
pub fn create_with(mode: u32) {
    MODE.store(mode, Ordering::Relaxed);
    // SAFETY: umask only swaps the process's file mode creation mask; it cannot fail.
    unsafe {
        libc::umask((!mode & 0o777) as libc::mode_t);
    }
}

/// Takes away the permission bits of `path` that the mode does not give (a file made before,
/// by an older version or another program). A missing file is fine; so is one that is already
/// tighter. By path: nothing is opened, so no lock of this process is dropped.
pub fn tighten(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else { return Ok(()) };
    let bits = meta.permissions().mode() & 0o7777;
    let wanted = bits & mode();
    if bits == wanted || !meta.is_file() {
        return Ok(());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(wanted))
}

/// The database file and the files SQLite keeps beside it.
pub fn database_files(db: &Path) -> impl Iterator<Item = PathBuf> + '_ {
    ["", "-wal", "-shm", "-journal"].into_iter().map(move |suffix| {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    })
}

/// Writes a whole output file (a label, a sheet), private even when it replaces an older file.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)?;
    tighten(path)
}

/// Creates (or truncates) an output file to be written, private even when it existed.
pub fn create(path: &Path) -> std::io::Result<std::fs::File> {
    let file = std::fs::File::create(path)?;
    tighten(path)?;
    Ok(file)
}

/// The mode of a folder the program makes: its files' mode with the right to enter it for
/// whoever may read them (0700, or 0750 when the group may read).
pub fn folder_mode() -> u32 {
    let m = mode();
    m | (m & 0o444) >> 2
}

/// Makes folder `path` (and the folders above it) private with [`folder_mode`]; a folder that
/// is there is given exactly that mode. The umask would take the right to enter away (it is
/// set for files), so the mode is set after it is made.
pub fn private_folder(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let wanted = folder_mode();
    // Each folder made here (the ones above too) gets the mode: made under the files' umask,
    // a folder above would have no right to enter it, and nothing under it could be reached.
    let mut missing: Vec<&Path> =
        path.ancestors().take_while(|p| !p.as_os_str().is_empty() && !p.exists()).collect();
    missing.reverse();
    for p in missing {
        match std::fs::create_dir(p) {
            Ok(()) => std::fs::set_permissions(p, std::fs::Permissions::from_mode(wanted))?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    if std::fs::metadata(path)?.permissions().mode() & 0o7777 != wanted {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(wanted))?;
    }
    Ok(())
}

/// Refuses a path that names a folder as the file to write (`--out reports/`): the file
/// would be written beside it and then fail to take its place.
pub fn not_a_folder(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "is a folder: name the file to write (such as a name inside it)",
        ));
    }
    Ok(())
}

/// Writes `path` whole or not at all: into a temporary name beside it, synced, renamed into
/// place, the folder synced, so that after a crash the file is either absent or complete.
pub fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    not_a_folder(path)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".partial-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let result = (|| {
        let mut f = create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn tighten_takes_bits_away_and_never_adds_any() {
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("open");
        std::fs::write(&open, "x").unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o666)).unwrap();
        tighten(&open).unwrap();
        assert_eq!(std::fs::metadata(&open).unwrap().permissions().mode() & 0o777, mode() & 0o666);
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o400)).unwrap();
        tighten(&open).unwrap();
        assert_eq!(std::fs::metadata(&open).unwrap().permissions().mode() & 0o777, 0o400);
        tighten(&dir.path().join("missing")).unwrap();
    }

    #[test]
    fn a_private_folder_can_be_entered_by_its_owner_and_nobody_else() {
        let dir = tempfile::tempdir().unwrap();
        let made = dir.path().join("a").join("photos");
        private_folder(&made).unwrap();
        assert_eq!(std::fs::metadata(&made).unwrap().permissions().mode() & 0o777, folder_mode());
        // Found: the folder above was made under the files' umask, with no right to enter it.
        let above = dir.path().join("a");
        assert_eq!(std::fs::metadata(&above).unwrap().permissions().mode() & 0o777, folder_mode());
        assert_eq!(folder_mode() & 0o700, 0o700, "its owner reads, writes and enters it");
        assert_eq!(folder_mode() & 0o007, 0, "others nothing");
        std::fs::set_permissions(&made, std::fs::Permissions::from_mode(0o777)).unwrap();
        private_folder(&made).unwrap();
        assert_eq!(std::fs::metadata(&made).unwrap().permissions().mode() & 0o777, folder_mode());
    }
}
