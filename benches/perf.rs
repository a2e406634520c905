//! The figures behind README's performance table. Run: `cargo bench --bench perf` (all), or
//! `cargo bench --bench perf -- import [LINES]`.
//!
//! Each figure is printed as `name: value unit (goal: ...)`. Data comes from `gen`, so every
//! run measures the same bytes.

use returns_dock::gen::{self, GenOptions};
use returns_dock::import::{self, ImportOptions, Source};
use returns_dock::store::Store;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

// The same allocator as the program, so the figures are the program's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let which = args.first().map(String::as_str).unwrap_or("all");
    let dir = tempfile::tempdir().expect("a temporary directory");
    println!("machine: {} cores, {}", cores(), cpu_model());
    if matches!(which, "all" | "import") {
        let lines = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
        import_bench(dir.path(), lines);
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn import_bench(dir: &Path, lines: u64) {
    let returns_csv = dir.join("returns.csv");
    let catalog_csv = dir.join("returns.catalog.csv");
    let t = Instant::now();
    let summary = {
        let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&returns_csv).unwrap());
        let mut cat = BufWriter::with_capacity(1 << 20, std::fs::File::create(&catalog_csv).unwrap());
        let s = gen::generate(
            &GenOptions { returns: lines, seed: 1, max_lines: Some(lines) },
            &mut out,
            &mut cat,
        )
        .unwrap();
        out.flush().unwrap();
        cat.flush().unwrap();
        // On disk before the clock starts: the import is timed, not the write-back of gen's output.
        out.get_ref().sync_all().unwrap();
        s
    };
    let csv_mb = std::fs::metadata(&returns_csv).unwrap().len() as f64 / 1e6;
    println!(
        "gen: {} returns, {} lines, {csv_mb:.1} MB of CSV in {:.2} s",
        summary.returns,
        summary.lines,
        t.elapsed().as_secs_f64()
    );

    let opts = ImportOptions::new(chrono::Local::now().fixed_offset());
    // Peak memory of a tenth of the file, for comparison: an import should stay flat.
    let tenth = dir.join("tenth.csv");
    {
        use std::io::BufRead;
        let input = std::io::BufReader::new(std::fs::File::open(&returns_csv).unwrap());
        let mut out = BufWriter::new(std::fs::File::create(&tenth).unwrap());
        for line in input.lines().take((summary.lines / 10) as usize + 1) {
            writeln!(out, "{}", line.unwrap()).unwrap();
        }
        out.flush().unwrap();
        out.get_ref().sync_all().unwrap();
    }
    let small_db = dir.join("tenth.db");
    let mut store = Store::open(&small_db).unwrap();
    reset_peak_memory();
    import::returns::import(&mut store, &[Source::File(tenth)], &opts).unwrap();
    let small_peak = peak_memory_mb();
    drop(store);

    let db = dir.join("bench.db");
    let mut store = Store::open(&db).unwrap();
    reset_peak_memory();
    let t = Instant::now();
    let report = import::returns::import(&mut store, &[Source::File(returns_csv.clone())], &opts).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let peak = peak_memory_mb();
    assert!(report.errors.is_empty(), "gen output must import cleanly: {:?}", report.errors.first());
    drop(store);
    let rate = summary.lines as f64 / secs;
    let db_mb = file_mb(&db) + file_mb(&dir.join("bench.db-wal"));
    println!("import returns: {} lines in {secs:.2} s = {rate:.0} lines/s (goal: >= 200000)", summary.lines);
    println!(
        "import peak memory: {peak:.0} MB for {} lines, {small_peak:.0} MB for a tenth of them ({:.1}x; goal: <= 2x)",
        summary.lines,
        peak / small_peak
    );
    println!(
        "database size: {db_mb:.1} MB for {} returns ({:.0} bytes a line)",
        summary.returns,
        db_mb * 1e6 / summary.lines as f64
    );

    let mut store = Store::open(&db).unwrap();
    let t = Instant::now();
    let again = import::returns::import(&mut store, &[Source::File(returns_csv.clone())], &opts).unwrap();
    println!(
        "re-import, unchanged: {} lines in {:.2} s ({} unchanged)",
        summary.lines,
        t.elapsed().as_secs_f64(),
        again.files[0].unchanged
    );

    match sqlite3_import(dir, &returns_csv) {
        Some(bare) => println!(
            "sqlite3 .import into a bare table: {bare:.2} s; returns-dock takes {:.2}x that (goal: <= 3x)",
            secs / bare
        ),
        None => println!("sqlite3 .import: skipped (no sqlite3 on PATH)"),
    }
}

/// Resets the kernel's record of this process's peak resident memory (Linux).
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident memory since the last reset, in MB (VmHWM).
fn peak_memory_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.to_string()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

fn file_mb(p: &Path) -> f64 {
    std::fs::metadata(p).map(|m| m.len() as f64 / 1e6).unwrap_or(0.0)
}

/// The time the sqlite3 shell takes to load the same CSV into a table with no constraints.
fn sqlite3_import(dir: &Path, csv: &Path) -> Option<f64> {
    let bare = dir.join("bare.db");
    let script = format!(".mode csv\n.import '{}' bare\n", csv.display());
    let t = Instant::now();
    let mut child = Command::new("sqlite3")
        .arg(&bare)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(script.as_bytes()).ok()?;
    let status = child.wait().ok()?;
    status.success().then(|| t.elapsed().as_secs_f64())
}
