//! The real binary, as after-sales staff and scripts run it: exit codes, one-line errors with
//! file and line, summaries, the demo, gen.

use std::path::Path;
use std::process::{Command, Output};

fn dock(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_returns-dock"))
        .args(args)
        .current_dir(dir)
        .env_remove("RETURNS_DOCK_DB")
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn demo_creates_a_database_and_can_be_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let out = dock(dir.path(), &["demo"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("imported 20 products"), "{stdout}");
    assert!(stdout.contains("imported 40 returns from 3 files"), "{stdout}");
    assert!(dir.path().join("returns-dock-demo.db").exists());
    let again = dock(dir.path(), &["demo"]);
    assert!(again.status.success(), "a demo database is replaced: {}", text(&again.stderr));
    assert!(text(&again.stdout).contains("40 created"));
}

#[test]
fn demo_never_replaces_a_real_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = dock(dir.path(), &["--db", "real.db", "import", "users", &users_file(dir.path())]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let before = std::fs::read(dir.path().join("real.db")).unwrap();
    let out = dock(dir.path(), &["--db", "real.db", "demo"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("real.db: exists and is not a demo database; it was left untouched"));
    assert_eq!(std::fs::read(dir.path().join("real.db")).unwrap(), before);
}

fn users_file(dir: &Path) -> String {
    std::fs::write(dir.join("users.csv"), "id,name,role,pin\nA1,Ann,operator,\nS1,Sam,supervisor,1234\n")
        .unwrap();
    "users.csv".into()
}

#[test]
fn refused_input_exits_1_with_one_line_per_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.csv"), "rma_no,order_no,sku,qty\nR1,O1,S1,1\nR2,O2,S2,0\nR3,,S3,x\n")
        .unwrap();
    let out = dock(dir.path(), &["import", "returns", "r.csv"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines,
        vec![
            "r.csv:3: quantity 0 must be at least 1",
            "r.csv:4: order_no is missing",
            "r.csv:4: quantity \"x\" is not a positive whole number"
        ]
    );
    let stdout = text(&out.stdout);
    assert!(stdout.lines().last().unwrap().starts_with("refused, nothing written: 3 returns"), "{stdout}");
    // Nothing was loaded: a dry run of a good file on the same database creates all of it.
    std::fs::write(dir.path().join("ok.csv"), "rma_no,order_no,sku\nR1,O1,S1\n").unwrap();
    let out = dock(dir.path(), &["import", "returns", "--dry-run", "ok.csv"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("dry run, nothing written: 1 returns from 1 file (1 rows): 1 created"));
}

#[test]
fn skip_invalid_exits_0_and_names_the_rejected_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.csv"), "rma_no,order_no,sku,qty\nR1,O1,S1,1\nR2,O2,S2,0\n").unwrap();
    let out = dock(dir.path(), &["import", "returns", "--skip-invalid", "r.csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("r.csv:3: quantity 0 must be at least 1"));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("r.csv: 1 refused rows written to r.csv.rejected.csv"), "{stdout}");
    assert!(stdout
        .contains("imported 2 returns from 1 file (2 rows): 1 created, 0 updated, 0 unchanged, 1 refused"));
    assert!(dir.path().join("r.csv.rejected.csv").exists());
    // Piped, so no progress line and no terminal control characters.
    assert!(!out.stderr.contains(&b'\r') && !out.stderr.contains(&0x1b));
}

#[test]
fn unusable_files_and_databases_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let out = dock(dir.path(), &["import", "returns", "missing.csv"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).starts_with("missing.csv: cannot open the file"), "{}", text(&out.stderr));

    std::fs::write(dir.path().join("notes.db"), "not a database").unwrap();
    let out = dock(dir.path(), &["--db", "notes.db", "import", "users", &users_file(dir.path())]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        text(&out.stderr).trim(),
        "notes.db: not a returns-dock database (not an SQLite file); it was left untouched"
    );
    assert_eq!(std::fs::read_to_string(dir.path().join("notes.db")).unwrap(), "not a database");

    std::fs::write(dir.path().join("bad.toml"), "station = \"A\"\nlangauge = \"zh\"\n").unwrap();
    let out = dock(dir.path(), &["--config", "bad.toml", "import", "users", "users.csv"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).starts_with("bad.toml:2: unknown field `langauge`"), "{}", text(&out.stderr));
}

#[test]
fn bad_usage_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(dock(dir.path(), &["frobnicate"]).status.code(), Some(2));
    assert_eq!(dock(dir.path(), &["import", "returns"]).status.code(), Some(2));
    assert_eq!(dock(dir.path(), &["gen", "--returns", "many", "--out", "x.csv"]).status.code(), Some(2));
    assert_eq!(dock(dir.path(), &["--help"]).status.code(), Some(0));
}

#[test]
fn the_database_comes_from_the_environment_when_not_given() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_returns-dock"))
        .args(["import", "users", &users_file(dir.path())])
        .current_dir(dir.path())
        .env("RETURNS_DOCK_DB", "from-env.db")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(dir.path().join("from-env.db").exists());
    assert!(!dir.path().join("returns-dock.db").exists());
}

#[test]
fn users_add_hashes_the_pin_and_checks_the_role() {
    let dir = tempfile::tempdir().unwrap();
    let ok = dock(
        dir.path(),
        // Twelve digits: four could turn up by chance in the log's hex hashes or a time's
        // fraction of a second (it did, once in a few hundred runs).
        &[
            "users",
            "add",
            "--id",
            "SUP9",
            "--name",
            "王主管",
            "--role",
            "supervisor",
            "--pin",
            "864297531086",
        ],
    );
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let no_pin = dock(dir.path(), &["users", "add", "--id", "SUP8", "--name", "X", "--role", "supervisor"]);
    assert_eq!(no_pin.status.code(), Some(1));
    assert!(text(&no_pin.stderr).contains("supervisor SUP8 needs a pin"));
    let db = std::fs::read(dir.path().join("returns-dock.db")).unwrap();
    assert!(!db.windows(12).any(|w| w == b"864297531086"), "the PIN itself is never stored");
}

#[test]
fn a_badge_text_and_a_bare_id_are_the_same_user() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("u.csv"),
        "id,name,role,pin\nOP-A1,Ann,operator,\nS1,Sam,supervisor,1234\n",
    )
    .unwrap();
    let out = dock(dir.path(), &["import", "users", "u.csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The badge text in the file named user A1, whose badge then reads OP-A1 (not OP-OP-A1).
    let badge = dock(dir.path(), &["labels", "badge", "OP-A1", "--out", "a1.svg"]);
    assert_eq!(text(&badge.stdout).trim(), "badge of A1 written to a1.svg", "{}", text(&badge.stderr));
    let same = dock(dir.path(), &["labels", "badge", "a1", "--out", "a1-again.svg"]);
    assert!(same.status.success());
    assert_eq!(
        std::fs::read(dir.path().join("a1.svg")).unwrap(),
        std::fs::read(dir.path().join("a1-again.svg")).unwrap()
    );
    // The supervisor by badge text, the user by bare id: one update, no second user.
    let add = dock(
        dir.path(),
        &["users", "add", "--id", "A1", "--name", "Ann Lee", "--by", "OP-S1", "--by-pin", "1234"],
    );
    assert_eq!(text(&add.stdout).trim(), "user A1: updated", "{}", text(&add.stderr));
    let add = dock(
        dir.path(),
        &["users", "add", "--id", "op-a1", "--name", "Ann Lee", "--by", "S1", "--by-pin", "1234"],
    );
    assert_eq!(text(&add.stdout).trim(), "user A1: unchanged", "{}", text(&add.stderr));
    let again = dock(dir.path(), &["import", "users", "u.csv", "--by", "OP-S1", "--pin", "1234"]);
    assert!(text(&again.stdout).contains("0 created, 1 updated, 1 unchanged"), "{}", text(&again.stdout));
    let db = rusqlite::Connection::open(dir.path().join("returns-dock.db")).unwrap();
    let ids: Vec<String> = db
        .prepare("SELECT id FROM users ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(ids, ["A1", "S1"]);
}

#[test]
fn imports_and_users_speak_the_configured_language_unless_told() {
    let dir = tempfile::tempdir().unwrap();
    users_file(dir.path());
    std::fs::write(dir.path().join("zh.toml"), "language = \"zh\"\n").unwrap();
    let out = dock(dir.path(), &["--config", "zh.toml", "import", "users", "users.csv"]);
    let said = text(&out.stdout);
    assert!(
        said.contains("已导入用户 2 条，来自 1 个文件（2 行）：新增 2，更新 0，未变 0，拒绝 0"),
        "{said}"
    );
    assert!(said.starts_with("users.csv：CSV UTF-8\n"), "{said}");
    assert!(!said.contains("imported") && !said.contains("created"), "{said}");
    let add = dock(
        dir.path(),
        &[
            "--config", "zh.toml", "users", "add", "--id", "OP-B2", "--name", "Bo", "--by", "S1", "--by-pin",
            "1234",
        ],
    );
    assert_eq!(text(&add.stdout).trim(), "用户 B2：已新增", "{}", text(&add.stderr));
    let en = dock(
        dir.path(),
        &[
            "--config", "zh.toml", "--lang", "en", "users", "add", "--id", "B2", "--name", "Bo", "--by",
            "S1", "--by-pin", "1234",
        ],
    );
    assert_eq!(text(&en.stdout).trim(), "user B2: unchanged");
    let generated = dock(dir.path(), &["--lang", "zh", "gen", "--returns", "3", "--out", "g.csv"]);
    assert!(text(&generated.stdout).starts_with("已生成 3 条售后单"), "{}", text(&generated.stdout));
}

#[test]
fn the_station_option_without_the_station_word_goes_with_no_other_command() {
    let dir = tempfile::tempdir().unwrap();
    users_file(dir.path());
    dock(dir.path(), &["import", "users", "users.csv"]);
    let out = dock(dir.path(), &["--station", "ST02", "review", "list"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--station goes with the station"), "{}", text(&out.stderr));
}

#[test]
fn gen_is_deterministic_and_its_output_imports() {
    let dir = tempfile::tempdir().unwrap();
    let a = dock(dir.path(), &["gen", "--returns", "300", "--seed", "9", "--out", "a.csv"]);
    assert!(a.status.success(), "{}", text(&a.stderr));
    assert!(text(&a.stdout).starts_with("generated 300 returns ("), "{}", text(&a.stdout));
    dock(dir.path(), &["gen", "--returns", "300", "--seed", "9", "--out", "b.csv"]);
    let read = |n: &str| std::fs::read(dir.path().join(n)).unwrap();
    assert_eq!(read("a.csv"), read("b.csv"));
    assert_eq!(read("a.catalog.csv"), read("b.catalog.csv"));
    let cat = dock(dir.path(), &["import", "catalog", "a.catalog.csv"]);
    assert!(cat.status.success(), "{}", text(&cat.stderr));
    let ret = dock(dir.path(), &["import", "returns", "a.csv"]);
    assert!(ret.status.success(), "{}", text(&ret.stderr));
    assert!(text(&ret.stdout).contains("imported 300 returns"));
}

/// Databases the program cannot use: each gives its one-line message and exit 3, and the
/// file is left as it was.
mod unusable {
    use super::{dock, text, users_file};
    use std::path::Path;
    use std::process::Command;

    const BIN: &str = env!("CARGO_BIN_EXE_returns-dock");

    fn bytes(p: &Path) -> Vec<u8> {
        std::fs::read(p).unwrap()
    }

    /// A database with the demo users, in a fresh directory.
    fn seeded() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let users = users_file(dir.path());
        let out = dock(dir.path(), &["--db", "dock.db", "import", "users", &users]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        (dir, std::path::PathBuf::from("dock.db"))
    }

    #[test]
    fn a_read_only_database_is_said_so_and_left_alone() {
        // Root writes anything, so the program runs as `nobody` on a file it may only read.
        let (dir, db) = seeded();
        let path = dir.path().join(&db);
        std::fs::write(dir.path().join("more.csv"), "id,name\nNEW1,New Operator\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        for (p, mode) in
            [(dir.path(), 0o755), (path.as_path(), 0o644), (dir.path().join("more.csv").as_path(), 0o644)]
        {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let before = bytes(&path);
        let out = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN, "--db"])
            .arg(&path)
            .args(["import", "users"])
            .arg(dir.path().join("more.csv"))
            .output()
            .expect("setpriv (util-linux) runs");
        assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(
            err.ends_with("dock.db: the database is read-only (attempt to write a readonly database)\n"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert_eq!(bytes(&path), before, "untouched");
    }

    #[test]
    fn a_locked_database_waits_its_timeout_then_says_so() {
        let (dir, db) = seeded();
        let path = dir.path().join(&db);
        let holder = rusqlite::Connection::open(&path).unwrap();
        holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
        std::fs::write(dir.path().join("more.csv"), "id,name\nNEW1,New Operator\n").unwrap();
        let started = std::time::Instant::now();
        // The timeout comes from the environment, so this test waits 0.3 s, not 10.
        let out = Command::new(BIN)
            .args(["--db", "dock.db", "import", "users", "more.csv", "--by", "S1"])
            .current_dir(dir.path())
            .env("RETURNS_DOCK_BUSY_TIMEOUT_MS", "300")
            .env("RETURNS_DOCK_PIN", "1234")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
        assert_eq!(
            text(&out.stderr).trim_end(),
            "dock.db: the database stayed locked for 0.3 s by another program"
        );
        assert!(started.elapsed() >= std::time::Duration::from_millis(300), "it waited for the lock first");
        holder.execute_batch("ROLLBACK").unwrap();
        let n: i64 =
            holder.query_row("SELECT count(*) FROM users WHERE id = 'NEW1'", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0, "nothing half-written");
    }

    #[test]
    fn a_newer_database_is_refused_untouched() {
        let (dir, db) = seeded();
        let path = dir.path().join(&db);
        rusqlite::Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        let before = bytes(&path);
        let out = dock(dir.path(), &["--db", "dock.db", "review", "list"]);
        assert_eq!(out.status.code(), Some(3));
        assert!(
            text(&out.stderr).starts_with("dock.db: made by a newer returns-dock (schema version 99;"),
            "{}",
            text(&out.stderr)
        );
        assert_eq!(bytes(&path), before);
    }

    #[test]
    fn a_full_disk_stops_the_import_and_keeps_the_database_whole() {
        // A 1 MB tmpfs in a private mount namespace (no privileges needed beyond user
        // namespaces): the import runs out of space part-way.
        let (dir, db) = seeded();
        let out = dock(dir.path(), &["gen", "--returns", "20000", "--seed", "1", "--out", "g.csv"]);
        assert!(out.status.success());
        std::fs::create_dir(dir.path().join("small")).unwrap();
        let script = format!(
            "set -e; mount -t tmpfs -o size=1m tmpfs small; cp {db} small/dock.db; \
             set +e; {BIN} --db small/dock.db import returns g.csv 2> import.err; echo $? > import.code; \
             {BIN} --db small/dock.db review list > after.out 2>&1; echo $? > after.code; \
             cp small/dock.db after.db; if [ -e small/dock.db-wal ]; then cp small/dock.db-wal after.db-wal; fi",
            db = db.display()
        );
        let out = Command::new("unshare")
            .args(["-rm", "sh", "-c", &script])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "unshare: {}", text(&out.stderr));
        let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert_eq!(read("import.code").trim(), "3");
        assert_eq!(
            read("import.err").lines().last().unwrap(),
            "small/dock.db: the disk is full; nothing more can be recorded until space is freed"
        );
        // The same database still opens and answers afterwards, on the same full disk.
        assert_eq!(read("after.code").trim(), "0", "{}", read("after.out"));
        assert_eq!(read("after.out").trim(), "0 reviews waiting");
        let after = rusqlite::Connection::open(dir.path().join("after.db")).unwrap();
        let check: String = after.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok");
        let users: i64 = after.query_row("SELECT count(*) FROM users", [], |r| r.get(0)).unwrap();
        assert_eq!(users, 2, "what was there stays");
        // The import writes in short transactions, each ending between two returns: what it
        // committed before the disk filled is whole returns, each with every line of the file.
        let mut lines_in_file = std::collections::HashMap::<String, i64>::new();
        for row in csv::Reader::from_path(dir.path().join("g.csv")).unwrap().records() {
            *lines_in_file.entry(row.unwrap()[0].to_string()).or_default() += 1;
        }
        let mut stmt = after
            .prepare("SELECT r.rma_no, count(l.line_no) FROM returns r LEFT JOIN return_lines l ON l.return_id = r.id GROUP BY r.id")
            .unwrap();
        let loaded: Vec<(String, i64)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
        assert!((loaded.len() as i64) < 20_000, "the disk filled before the end");
        for (rma, lines) in loaded {
            assert_eq!(Some(&lines), lines_in_file.get(&rma), "{rma} is whole");
        }
    }
}

/// Long commands and the write lock, with the real binary: a killed import is completed by
/// running it again, a writer kept waiting is told what holds the lock, and the database is
/// never taken for an input or an output.
mod long_work {
    use super::{dock, text};
    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    const BIN: &str = env!("CARGO_BIN_EXE_returns-dock");

    fn count(db: &Path, sql: &str) -> i64 {
        let c = rusqlite::Connection::open(db).unwrap();
        c.busy_timeout(Duration::from_secs(10)).unwrap();
        c.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Every return and line as stored, without what differs between runs (ids, times).
    fn dump(db: &Path) -> Vec<String> {
        let c = rusqlite::Connection::open(db).unwrap();
        let mut stmt = c
            .prepare(
                "SELECT r.rma_no, r.order_no, r.tracking_no, r.carrier, r.customer, r.phone, r.reason, r.resolution,
                        r.requested_at, r.content_hash, l.line_no, l.sku, l.barcode, l.title, l.qty, l.serials,
                        l.unit_value_cents
                 FROM returns r JOIN return_lines l ON l.return_id = r.id ORDER BY r.rma_no, l.line_no",
            )
            .unwrap();
        let rows = stmt
            .query_map([], |r| {
                let cells: Vec<String> = (0..17)
                    .map(|i| r.get::<_, rusqlite::types::Value>(i).map(|v| format!("{v:?}")))
                    .collect::<Result<_, _>>()?;
                Ok(cells.join("|"))
            })
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    fn generated(dir: &Path, returns: u64) {
        let out = dock(dir, &["gen", "--returns", &returns.to_string(), "--seed", "3", "--out", "g.csv"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    /// Starts `import returns g.csv` on `db` and waits until it has committed some returns.
    fn import_under_way(dir: &Path, db: &str) -> std::process::Child {
        let child = Command::new(BIN)
            .args(["--db", db, "import", "returns", "g.csv"])
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let path = dir.join(db);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !path.exists()
            || count(&path, "SELECT count(*) FROM sqlite_schema WHERE name = 'returns'") == 0
            || count(&path, "SELECT count(*) FROM returns") == 0
        {
            assert!(Instant::now() < deadline, "the import never wrote");
            std::thread::sleep(Duration::from_millis(5));
        }
        child
    }

    #[test]
    fn an_import_killed_midway_is_completed_by_running_it_again() {
        let dir = tempfile::tempdir().unwrap();
        generated(dir.path(), 40_000);
        let whole = dock(dir.path(), &["--db", "whole.db", "import", "returns", "g.csv"]);
        assert!(whole.status.success(), "{}", text(&whole.stderr));

        let mut child = import_under_way(dir.path(), "cut.db");
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let cut = dir.path().join("cut.db");
        let loaded = count(&cut, "SELECT count(*) FROM returns");
        assert!(loaded > 0 && loaded < 40_000, "killed midway: {loaded} returns loaded");
        assert_eq!(
            count(&cut, "SELECT count(*) FROM returns r WHERE NOT EXISTS (SELECT 1 FROM return_lines l WHERE l.return_id = r.id)"),
            0,
            "only whole returns were committed"
        );
        assert_eq!(count(&cut, "SELECT count(*) FROM imports WHERE finished_at IS NULL"), 1);

        let again = dock(dir.path(), &["--db", "cut.db", "import", "returns", "g.csv"]);
        assert!(again.status.success(), "{}", text(&again.stderr));
        let summary = text(&again.stdout);
        assert!(
            summary.contains(&format!("{} created, 0 updated, {loaded} unchanged", 40_000 - loaded)),
            "{summary}"
        );
        assert!(
            summary.contains("; resumed an import of g.csv interrupted after it started at "),
            "{summary}"
        );
        assert_eq!(
            dump(&cut),
            dump(&dir.path().join("whole.db")),
            "the same database as an import never interrupted"
        );
        // Said once: the interrupted run is marked resumed.
        let third = dock(dir.path(), &["--db", "cut.db", "import", "returns", "g.csv"]);
        assert!(!text(&third.stdout).contains("resumed"), "{}", text(&third.stdout));
        assert_eq!(count(&cut, "SELECT count(*) FROM running_work"), 0, "nothing left registered");
    }

    #[test]
    fn a_writer_kept_waiting_is_told_the_import_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        generated(dir.path(), 40_000);
        let child = import_under_way(dir.path(), "dock.db");
        let pid = child.id();
        // A writer that gives up after 1 ms falls on one of the import's 40 ms chunks soon.
        let mut message = None;
        for i in 0..50 {
            let out = Command::new(BIN)
                .args(["--db", "dock.db", "users", "add", "--id", &format!("U{i}"), "--name", "Probe"])
                .current_dir(dir.path())
                .env("RETURNS_DOCK_BUSY_TIMEOUT_MS", "1")
                .output()
                .unwrap();
            if out.status.code() == Some(3) {
                message = Some(text(&out.stderr));
                break;
            }
        }
        let finished = child.wait_with_output().unwrap();
        assert!(finished.status.success(), "{}", text(&finished.stderr));
        let message = message.expect("one write fell on a chunk of the import");
        let expected = format!(": import returns g.csv (pid {pid}, since ");
        assert!(message.starts_with("dock.db: the database stayed locked for "), "{message}");
        assert!(message.contains(&expected) && message.trim_end().ends_with(") holds it"), "{message}");
        assert_eq!(message.lines().count(), 1, "{message}");
        assert_eq!(count(&dir.path().join("dock.db"), "SELECT count(*) FROM running_work"), 0);
    }

    #[test]
    fn the_database_is_never_an_input_or_an_output() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("r.csv"), "rma_no,order_no,sku\nR1,O1,S1\n").unwrap();
        let out = dock(dir.path(), &["--db", "dock.db", "import", "returns", "r.csv"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let before = std::fs::read(dir.path().join("dock.db")).unwrap();
        // The same file under another name, too: it is compared by device and inode.
        std::fs::hard_link(dir.path().join("dock.db"), dir.path().join("alias.csv")).unwrap();
        for input in ["dock.db", "./dock.db", "alias.csv"] {
            let out = dock(dir.path(), &["--db", "dock.db", "import", "returns", input]);
            assert_eq!(out.status.code(), Some(3), "{input}");
            assert_eq!(
                text(&out.stderr),
                format!(
                    "{input}: this is the database dock.db (or its -wal or -shm file); nothing was done\n"
                )
            );
        }
        for target in ["dock.db", "alias.csv"] {
            let out = dock(dir.path(), &["--db", "dock.db", "export", "--all", "--out", target]);
            assert_eq!(out.status.code(), Some(3), "{target}");
            assert_eq!(
                text(&out.stderr),
                format!(
                    "{target}: this is the database dock.db (or its -wal or -shm file); nothing was done\n"
                )
            );
        }
        assert_eq!(std::fs::read(dir.path().join("dock.db")).unwrap(), before, "untouched");
        // While a connection is open the -wal and -shm files exist: they are refused as well.
        let open = rusqlite::Connection::open(dir.path().join("dock.db")).unwrap();
        open.execute_batch("INSERT INTO meta (key, value) VALUES ('x', 'y')").unwrap();
        for input in ["dock.db-wal", "dock.db-shm"] {
            let out = dock(dir.path(), &["--db", "dock.db", "import", "returns", input]);
            assert_eq!(out.status.code(), Some(3), "{input}: {}", text(&out.stderr));
        }
        drop(open);
        assert_eq!(count(&dir.path().join("dock.db"), "SELECT count(*) FROM returns"), 1);
    }
}

/// Only a supervisor changes users, and a supervisor's PIN is never needed on the command line.
mod authority {
    use super::*;

    fn with_pin(dir: &Path, pin: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_returns-dock"))
            .args(args)
            .current_dir(dir)
            .env_remove("RETURNS_DOCK_DB")
            .env("RETURNS_DOCK_PIN", pin)
            .output()
            .expect("the binary runs")
    }

    fn first_supervisor(dir: &Path) {
        let out = dock(
            dir,
            &["users", "add", "--id", "S1", "--name", "Sam", "--role", "supervisor", "--pin", "1234"],
        );
        assert!(out.status.success(), "the first supervisor needs nobody: {}", text(&out.stderr));
    }

    fn users(dir: &Path) -> i64 {
        rusqlite::Connection::open(dir.join("returns-dock.db"))
            .unwrap()
            .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
            .unwrap()
    }

    /// Found: `users add --id X --role supervisor --pin 1111` worked for anyone, and the log
    /// showed no actor.
    #[test]
    fn once_there_is_a_supervisor_only_a_supervisor_adds_users() {
        let dir = tempfile::tempdir().unwrap();
        first_supervisor(dir.path());
        let me = ["users", "add", "--id", "X", "--name", "Me", "--role", "supervisor", "--pin", "1111"];
        let out = dock(dir.path(), &me);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("needs a supervisor"), "{}", text(&out.stderr));
        let reset = dock(
            dir.path(),
            &["users", "add", "--id", "S1", "--name", "Sam", "--role", "supervisor", "--pin", "9999"],
        );
        assert_eq!(reset.status.code(), Some(1), "a supervisor's PIN is not reset by anyone");
        assert_eq!(users(dir.path()), 1);
        let wrong = with_pin(dir.path(), "4321", &[&me[..], &["--by", "S1"]].concat());
        assert_eq!(wrong.status.code(), Some(1), "a wrong supervisor PIN: {}", text(&wrong.stderr));
        assert_eq!(users(dir.path()), 1);
        let ok = with_pin(dir.path(), "1234", &[&me[..], &["--by", "OP-S1"]].concat());
        assert!(ok.status.success(), "{}", text(&ok.stderr));
        assert!(text(&ok.stderr).is_empty(), "no warning with RETURNS_DOCK_PIN: {}", text(&ok.stderr));
        let actor: String = rusqlite::Connection::open(dir.path().join("returns-dock.db"))
            .unwrap()
            .query_row("SELECT actor FROM audit_log WHERE action = 'user' AND subject = 'X'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(actor, "S1", "the log records who");
        // A file of users is the same change.
        std::fs::write(dir.path().join("more.csv"), "id,name,role,pin\nY,Why,supervisor,5555\n").unwrap();
        let file = dock(dir.path(), &["import", "users", "more.csv"]);
        assert_eq!(file.status.code(), Some(1), "{}", text(&file.stderr));
        assert!(
            text(&file.stderr).contains("more.csv: changing users needs a supervisor"),
            "{}",
            text(&file.stderr)
        );
        let file = with_pin(dir.path(), "1234", &["import", "users", "more.csv", "--by", "S1"]);
        assert!(file.status.success(), "{}", text(&file.stderr));
        assert_eq!(users(dir.path()), 3);
    }

    /// Found by an outside pass: a supervisor demoted themself with `users add` (whose role
    /// defaulted to operator), the database then had no supervisor, and anyone added one.
    #[test]
    fn the_last_supervisor_stays_and_a_role_left_out_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        first_supervisor(dir.path());
        let role = |id: &str| -> String {
            rusqlite::Connection::open(dir.path().join("returns-dock.db"))
                .unwrap()
                .query_row("SELECT role FROM users WHERE id = ?1", [id], |r| r.get(0))
                .unwrap()
        };
        // The same user again without --role keeps the role.
        let same =
            with_pin(dir.path(), "1234", &["users", "add", "--id", "S1", "--name", "Sam S", "--by", "S1"]);
        assert!(same.status.success(), "{}", text(&same.stderr));
        assert_eq!(role("S1"), "supervisor");
        let own = with_pin(
            dir.path(),
            "1234",
            &["users", "add", "--id", "S1", "--name", "Sam", "--role", "operator", "--by", "S1"],
        );
        assert_eq!(own.status.code(), Some(1), "{}", text(&own.stderr));
        assert!(
            text(&own.stderr).contains("cannot take away their own supervisor role"),
            "{}",
            text(&own.stderr)
        );
        std::fs::write(dir.path().join("off.csv"), "id,name,role,active\nS1,Sam,supervisor,no\n").unwrap();
        let off = with_pin(dir.path(), "1234", &["import", "users", "off.csv", "--by", "S1"]);
        assert_eq!(off.status.code(), Some(1), "{}", text(&off.stderr));
        assert_eq!(role("S1"), "supervisor");
        // A second supervisor may demote the first; the first is then not the last.
        let add = with_pin(
            dir.path(),
            "1234",
            &[
                "users",
                "add",
                "--id",
                "S2",
                "--name",
                "Sue",
                "--role",
                "supervisor",
                "--pin",
                "5678",
                "--by",
                "S1",
            ],
        );
        assert!(add.status.success(), "{}", text(&add.stderr));
        let demote = with_pin(
            dir.path(),
            "5678",
            &["users", "add", "--id", "S1", "--name", "Sam", "--role", "operator", "--by", "S2"],
        );
        assert!(demote.status.success(), "{}", text(&demote.stderr));
        let last = with_pin(
            dir.path(),
            "1234",
            &["users", "add", "--id", "S2", "--name", "Sue", "--role", "operator", "--by", "S2"],
        );
        assert_eq!(last.status.code(), Some(1), "{}", text(&last.stderr));
        // An old users file without the role column does not demote anyone.
        std::fs::write(dir.path().join("old.csv"), "id,name\nS2,Sue\n").unwrap();
        let old = with_pin(dir.path(), "5678", &["import", "users", "old.csv", "--by", "S2"]);
        assert!(old.status.success(), "{}", text(&old.stderr));
        assert_eq!(role("S2"), "supervisor");
        let eve = dock(
            dir.path(),
            &["users", "add", "--id", "EVE", "--name", "Eve", "--role", "supervisor", "--pin", "1111"],
        );
        assert_eq!(eve.status.code(), Some(1), "still nobody adds users without a supervisor");
    }

    /// `--pin` still works, but says that others can see it; without a PIN and without a
    /// terminal, the command says how to give one.
    #[test]
    fn a_pin_on_the_command_line_warns_and_a_missing_one_is_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        first_supervisor(dir.path());
        let out = dock(dir.path(), &["review", "decide", "R1", "confirm", "--by", "S1", "--pin", "1234"]);
        assert!(text(&out.stderr).contains("visible to other users"), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("no review 1"), "the PIN was taken: {}", text(&out.stderr));
        let out = dock(dir.path(), &["review", "decide", "R1", "confirm", "--by", "S1"]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("set RETURNS_DOCK_PIN"), "{}", text(&out.stderr));
    }
}

/// Every file the program creates is private to its user, whatever the umask it was started
/// with; `[files] group_readable = true` lets the group read them.
mod private_files {
    use super::text;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;
    use std::process::{Command, Output};

    /// The binary started by a shell with this umask, as a login shell or a cron job would.
    pub fn dock_with_umask(dir: &Path, umask: &str, args: &[&str]) -> Output {
        Command::new("sh")
            .arg("-c")
            .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_returns-dock"))
            .args(args)
            .current_dir(dir)
            .env_remove("RETURNS_DOCK_DB")
            .output()
            .expect("the binary runs")
    }

    pub fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode()
            & 0o777
    }

    const INPUTS: &[&str] = &["users.csv", "r.csv", "files.toml"];

    /// Imports (with rejected rows), an export, a sheet, a badge, a unit label and gen output,
    /// all under `umask`; returns each file made and its mode.
    fn files_made(umask: &str, config: Option<&str>) -> Vec<(String, u32)> {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("users.csv"), "id,name,role,pin\nA1,Ann,operator,\nS1,Sam,supervisor,1234\n")
            .unwrap();
        std::fs::write(
            d.join("r.csv"),
            "rma_no,order_no,sku,phone,qty\nR1,O1,S1,13812345678,1\nR2,O2,S2,,0\n",
        )
        .unwrap();
        let mut global = vec!["--db", "dock.db"];
        if let Some(c) = config {
            std::fs::write(d.join("files.toml"), c).unwrap();
            global.extend(["--config", "files.toml"]);
        }
        let run = |args: &[&str]| {
            let all: Vec<&str> = global.iter().chain(args).copied().collect();
            let out = dock_with_umask(d, umask, &all);
            assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        };
        run(&["import", "users", "users.csv"]);
        run(&["import", "returns", "--skip-invalid", "r.csv"]);
        run(&["export", "--all", "--out", "out.csv"]);
        run(&["labels", "commands", "--out", "sheet.svg"]);
        run(&["labels", "badge", "A1", "--out", "badge.png"]);
        run(&["gen", "--returns", "3", "--out", "gen.csv"]);
        let mut made: Vec<(String, u32)> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !INPUTS.contains(&n.as_str()))
            .map(|n| {
                let m = mode(&d.join(&n));
                (n, m)
            })
            .collect();
        made.sort();
        made
    }

    #[test]
    fn every_file_the_commands_create_is_0600_whatever_the_umask() {
        for umask in ["000", "022"] {
            let made = files_made(umask, None);
            let names: Vec<&str> = made.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(
                names,
                [
                    "badge.png",
                    "dock.db",
                    "gen.catalog.csv",
                    "gen.csv",
                    "out.csv",
                    "r.csv.rejected.csv",
                    "sheet.svg"
                ],
                "umask {umask}"
            );
            for (name, m) in &made {
                assert_eq!(*m, 0o600, "{name} under umask {umask}: {m:o}");
            }
        }
    }

    #[test]
    fn phone_numbers_are_kept_masked_only() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("r.csv"),
            "rma_no,order_no,sku,phone,qty\nR1,O1,S1,+86 139-1234-5678,1\nR2,O2,S2,13987654321,0\n",
        )
        .unwrap();
        let out =
            dock_with_umask(d, "022", &["--db", "dock.db", "import", "returns", "--skip-invalid", "r.csv"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let conn = rusqlite::Connection::open(d.join("dock.db")).unwrap();
        let phone: String = conn.query_row("SELECT phone FROM returns", [], |r| r.get(0)).unwrap();
        assert_eq!(phone, "139****5678");
        drop(conn);
        let rejected = std::fs::read_to_string(d.join("r.csv.rejected.csv")).unwrap();
        assert!(rejected.contains("139****4321") && !rejected.contains("13987654321"), "{rejected}");
        let out = dock_with_umask(
            d,
            "022",
            &["--db", "dock.db", "export", "--all", "--format", "json", "--out", "e.json"],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let export = std::fs::read_to_string(d.join("e.json")).unwrap();
        assert!(!export.contains("5678") && !export.contains("phone"), "{export}");
    }

    #[test]
    fn group_readable_gives_0640() {
        let made = files_made("000", Some("[files]\ngroup_readable = true\n"));
        assert!(made.len() >= 7, "{made:?}");
        for (name, m) in &made {
            assert_eq!(*m, 0o640, "{name}: {m:o}");
        }
    }

    #[test]
    fn an_older_database_left_open_to_others_is_tightened_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("users.csv"), "id,name,role,pin\nA1,Ann,operator,\n").unwrap();
        let out = dock_with_umask(d, "022", &["--db", "old.db", "import", "users", "users.csv"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        // As an earlier version left it, with the bits of a 022 umask.
        std::fs::set_permissions(d.join("old.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = dock_with_umask(d, "022", &["--db", "old.db", "review", "list"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(mode(&d.join("old.db")), 0o600);
    }

    #[test]
    fn an_output_file_that_existed_is_made_private_too() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("sheet.svg"), "old").unwrap();
        std::fs::set_permissions(d.join("sheet.svg"), std::fs::Permissions::from_mode(0o666)).unwrap();
        let out = dock_with_umask(d, "000", &["labels", "commands", "--out", "sheet.svg"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(mode(&d.join("sheet.svg")), 0o600);
    }
}

/// Every nonsense value of the configuration is refused with its file and line, before anything
/// is done (exit 3: the configuration file cannot be used, as for an unknown key).
#[test]
fn each_bad_configuration_value_is_refused_with_its_line() {
    let cases: &[(&str, &str)] = &[
        ("[label]\ndpi = 0\n", "c.toml:2: label.dpi: 0 must be 150 to 600"),
        ("# big\n\n[label]\n\ndpi = 100000\n", "c.toml:5: label.dpi: 100000 must be 150 to 600"),
        ("label = { width_mm = 5 }\n", "c.toml:1: label.width_mm: 5 must be 10 to 300"),
        ("[label]\nwidth_mm = 60\nheight_mm = 1000\n", "c.toml:3: label.height_mm: 1000 must be 10 to 300"),
        (
            "[printer]\nlanguage = \"tspl\"\n",
            "c.toml:2: printer.language: \"tspl\" is not spoken; known: zpl",
        ),
        ("[printer]\ncommand = \"lp\"\ntimeout_s = 0\n", "c.toml:3: printer.timeout_s: 0 must be 1 to 300"),
        ("[printer]\naddress = \"zebra\"\n", "c.toml:2: printer.address: \"zebra\" must be host:port"),
        ("[printer]\naddress = \"zebra:9100\"\ncommand = \"lp\"\n", "c.toml:3: printer.command: give the"),
        ("[printer]\ncommand = \" \"\n", "c.toml:2: printer.command: is empty"),
        ("language = \"fr\"\n", "c.toml:1: language: \"fr\" must be en or zh"),
        ("station = \"\"\n", "c.toml:1: station: must be 1 to 32 characters"),
        ("[scanner]\ndouble_read_ms = 60000\n", "c.toml:2: scanner.double_read_ms: must be 0 to 1000"),
        (
            "[policy]\nreview_refusal_above = -1.0\n",
            "c.toml:2: policy.review_refusal_above: -1 must be an amount",
        ),
        (
            "[policy]\nreview_refusal_above = nan\n",
            "c.toml:2: policy.review_refusal_above: NaN must be an amount",
        ),
        (
            "[policy]\nreview_refusal_above = inf\n",
            "c.toml:2: policy.review_refusal_above: inf must be an amount",
        ),
        ("[policy]\nlate_after_days = 0\n", "c.toml:2: policy.late_after_days: 0 must be 1 to 365"),
        ("[policy]\nlate_after_days = -3\n", "c.toml:2: "),
        (
            "[policy]\nreview_refusals_per_parcel = 5000\n",
            "c.toml:2: policy.review_refusals_per_parcel: must be 0 to 1000",
        ),
        ("[files]\ngroup_readable = \"yes\"\n", "c.toml:2: "),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (toml, said) in cases {
        std::fs::write(dir.path().join("c.toml"), toml).unwrap();
        let out = dock(dir.path(), &["--config", "c.toml", "gen", "--returns", "1", "--out", "g.csv"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{toml:?} was taken: {stderr}");
        assert!(stderr.starts_with(said), "{toml:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(!dir.path().join("g.csv").exists(), "nothing done with {toml:?}");
    }
    // The values a dock uses are taken.
    std::fs::write(
        dir.path().join("c.toml"),
        "[label]\nwidth_mm = 100\nheight_mm = 150\ndpi = 300\n[printer]\naddress = \"127.0.0.1:9100\"\ntimeout_s = 3\n",
    )
    .unwrap();
    let out = dock(dir.path(), &["--config", "c.toml", "gen", "--returns", "1", "--out", "g.csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Commands that only read (and export, which records its batch) never create a database: a
/// mistyped path is said, and nothing appears, not even a -wal or -shm.
#[test]
fn commands_that_read_refuse_a_missing_database_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let commands: &[&[&str]] = &[
        &["review", "list"],
        &["review", "decide", "R1", "confirm", "--by", "S1", "--pin", "1234"],
        &["export", "--out", "e.csv"],
        &["export", "--all", "--format", "json", "--out", "e.json"],
        &["report", "feedback"],
        &["labels", "badge", "A1", "--out", "b.svg"],
        &["labels", "unit", "U1"],
    ];
    for args in commands {
        let all: Vec<&str> = ["--db", "missing.db"].iter().chain(args.iter()).copied().collect();
        let out = dock(dir.path(), &all);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert_eq!(
            stderr,
            "missing.db: no database there (import, users and the station create one); nothing was created\n",
            "{args:?}"
        );
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "{args:?} left {left:?}");
    }
    // The default path too.
    let out = dock(dir.path(), &["review", "list"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).starts_with("returns-dock.db: no database there"), "{}", text(&out.stderr));
    assert!(!dir.path().join("returns-dock.db").exists());
}

/// Found by an outside pass: an empty file was made into a database by a command that only
/// reads, and a station id could carry a reordering character onto every record.
#[test]
fn an_empty_file_is_not_a_database_and_a_station_id_hides_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.db"), "").unwrap();
    let out = dock(dir.path(), &["--db", "empty.db", "review", "list"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("the file is empty"), "{}", text(&out.stderr));
    assert_eq!(std::fs::metadata(dir.path().join("empty.db")).unwrap().len(), 0, "left as it was");
    let out = dock(dir.path(), &["--db", "d.db", "station", "--station", "ST\u{202e}1"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--station: must be 1 to 32 characters"), "{}", text(&out.stderr));
    std::fs::write(dir.path().join("c.toml"), "station = \"ST\u{2066}1\"\n").unwrap();
    let out = dock(dir.path(), &["--config", "c.toml", "review", "list"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).starts_with("c.toml:1: station:"), "{}", text(&out.stderr));
}
