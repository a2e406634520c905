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
        &["users", "add", "--id", "SUP9", "--name", "王主管", "--role", "supervisor", "--pin", "8642"],
    );
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let no_pin = dock(dir.path(), &["users", "add", "--id", "SUP8", "--name", "X", "--role", "supervisor"]);
    assert_eq!(no_pin.status.code(), Some(1));
    assert!(text(&no_pin.stderr).contains("supervisor SUP8 needs a pin"));
    let db = std::fs::read(dir.path().join("returns-dock.db")).unwrap();
    assert!(!db.windows(4).any(|w| w == b"8642"), "the PIN itself is never stored");
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
