//! A PostgreSQL server for the tests that need one: the one `RETURNS_DOCK_TEST_PG` names
//! (`.ci/run` starts one), else a private one started with `.ci/pg-server` (initdb into a
//! temporary folder, a free loopback port), stopped when the tests end. Shared by the test
//! crates through `#[path]`.
#![allow(dead_code)]

use postgres::{Client, NoTls};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The server's address (its `postgres` database, for administration).
pub fn server() -> &'static str {
    static SERVER: OnceLock<String> = OnceLock::new();
    SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var("RETURNS_DOCK_TEST_PG") {
            return url;
        }
        let dir = tempfile::Builder::new().prefix("returns-dock-pg").tempdir_in("/tmp").unwrap().keep();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/pg-server");
        let out = std::process::Command::new(script).arg("start").arg(&dir).output().unwrap();
        assert!(
            out.status.success(),
            "a private PostgreSQL server for the tests (install Debian's postgresql, or set RETURNS_DOCK_TEST_PG): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        STARTED.set(dir).unwrap();
        extern "C" fn stop() {
            if let Some(dir) = STARTED.get() {
                let script = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/pg-server");
                let _ = std::process::Command::new(script).arg("stop").arg(dir).output();
                let _ = std::fs::remove_dir_all(dir);
            }
        }
        // SAFETY: registering a plain function to run at exit; it only runs a command.
        unsafe { libc::atexit(stop) };
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
}

/// The folder of the server these tests started, if they started one.
static STARTED: OnceLock<std::path::PathBuf> = OnceLock::new();

/// A fresh database of its own for one test: its address.
pub fn fresh_database() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!("t{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
    let admin = server();
    let mut c = Client::connect(admin, NoTls).unwrap();
    c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

/// A server of its own for one test that stops or restarts it: its folder and address (its
/// `postgres` database). Stopped when the value is dropped.
pub struct Private {
    pub dir: tempfile::TempDir,
    pub url: String,
}

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/pg-server");

impl Private {
    pub fn start() -> Private {
        let dir = tempfile::Builder::new().prefix("returns-dock-pg").tempdir_in("/tmp").unwrap();
        let out = std::process::Command::new(SCRIPT).arg("start").arg(dir.path()).output().unwrap();
        assert!(
            out.status.success(),
            "a private PostgreSQL server: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8(out.stdout).unwrap().trim().to_string();
        Private { dir, url }
    }

    /// A fresh database on this server: its address.
    pub fn database(&self, name: &str) -> String {
        Client::connect(&self.url, NoTls).unwrap().batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        format!("{}/{name}", self.url.rsplit_once('/').unwrap().0)
    }

    /// Restarts the server: every connection to it is cut.
    pub fn restart(&self) {
        let out = std::process::Command::new(SCRIPT).arg("restart").arg(self.dir.path()).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        let _ = std::process::Command::new(SCRIPT).arg("stop").arg(self.dir.path()).output();
    }
}
