//! The command line: parses the arguments, runs the command, maps the outcome to the contract's
//! exit codes (0 done, 1 input refused, 2 bad usage, 3 database or file unusable) and prints
//! errors to stderr one line each, `file:line: message`.

use crate::config::Config;
use crate::gen::{self, GenOptions};
use crate::import::{self, ImportOptions, ImportReport, Progress, Source};
use crate::store::{Store, StoreError};
use chrono::{DateTime, FixedOffset, Local};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "returns-dock",
    version,
    about = "The returns dock: receive, inspect and sign for returned parcels"
)]
pub struct Cli {
    /// The database file [default: returns-dock.db in the working directory]
    #[arg(long, global = true, env = "RETURNS_DOCK_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Station settings (TOML) [default: returns-dock.toml if present]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The scanning station (the default)
    Station {
        #[arg(long, value_name = "ID")]
        station: Option<String>,
        #[arg(long, value_enum)]
        lang: Option<Lang>,
    },
    /// A fresh demo database seeded from the sample data, then the station on it
    Demo {
        #[arg(long, value_enum)]
        lang: Option<Lang>,
    },
    /// Load expected returns, the catalog or users from files
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Operators and supervisors
    Users {
        #[command(subcommand)]
        action: UsersAction,
    },
    /// The results for after-sales: what changed since the last export (or --all, or a batch again)
    Export {
        /// Where to write [default: returns-export-<date>-<time>.csv|json here]
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// Every closed parcel, not only what changed since the last export
        #[arg(long, conflicts_with = "batch")]
        all: bool,
        /// Start the file with a BOM, so Excel shows Chinese correctly
        #[arg(long)]
        excel: bool,
        /// Produce an earlier batch again (its rows as they stand now)
        #[arg(long, value_name = "ID")]
        batch: Option<i64>,
    },
    /// The supervisor's queue: list it, decide an entry, link an unidentified parcel
    Review {
        #[command(subcommand)]
        action: ReviewAction,
    },
    /// Reports: `report feedback`, the weekly sheet of why goods come back
    Report {
        #[command(subcommand)]
        what: ReportWhat,
    },
    /// Labels: the command sheet, badges, unit labels
    Labels {
        #[command(subcommand)]
        what: LabelsWhat,
    },
    /// Deterministic synthetic expected returns and a matching catalog (FILE and FILE's
    /// stem + .catalog.csv)
    Gen {
        #[arg(long, value_name = "N")]
        returns: u64,
        #[arg(long, value_name = "S", default_value_t = 1)]
        seed: u64,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum ImportWhat {
    /// Expected returns (RMAs): CSV, TSV, JSON or JSON Lines; UTF-8 or GB18030
    Returns(ImportArgs),
    /// Products: SKU, name, barcodes, serialised, supplier, unit value
    Catalog(ImportArgs),
    /// Operators and supervisors: id, name, role, pin
    Users(ImportArgs),
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Validate and report; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Load the valid rows; write the refused ones with their reason to FILE.rejected.csv
    #[arg(long)]
    pub skip_invalid: bool,
}

#[derive(Subcommand, Debug)]
pub enum UsersAction {
    /// Add or update one user
    Add {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "operator")]
        role: String,
        /// Required for a supervisor: 4 to 12 digits, stored only as a salted hash
        #[arg(long)]
        pin: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReviewAction {
    /// Every undecided entry, oldest first
    List {
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
    },
    /// Confirm or overturn an entry (overturning needs a comment)
    Decide {
        /// The entry as `review list` prints it, `R12`, or `12`
        #[arg(value_parser = review_id)]
        id: i64,
        #[arg(value_enum)]
        decision: DecisionArg,
        /// The supervisor's user id
        #[arg(long)]
        by: String,
        #[arg(long, env = "RETURNS_DOCK_PIN", hide_env_values = true)]
        pin: String,
        #[arg(long)]
        comment: Option<String>,
        /// The unit's outcome when overturned
        #[arg(long, default_value = "accept")]
        outcome: String,
        /// The grade, with accept (A) or second-hand (B, the default, or C); other outcomes have none
        #[arg(long)]
        grade: Option<String>,
    },
    /// Link an unidentified parcel's entry to the expected return it belongs to
    Link {
        /// The entry as `review list` prints it, `R12`, or `12`
        #[arg(value_parser = review_id)]
        id: i64,
        rma: String,
        #[arg(long)]
        by: String,
        #[arg(long, env = "RETURNS_DOCK_PIN", hide_env_values = true)]
        pin: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReportWhat {
    /// Causes by department, top product-defect SKUs, turnaround, parcels waiting
    Feedback {
        /// First day [default: six days before --to]
        #[arg(long, value_name = "DATE")]
        from: Option<chrono::NaiveDate>,
        /// Last day [default: today]
        #[arg(long, value_name = "DATE")]
        to: Option<chrono::NaiveDate>,
        #[arg(long, value_enum, default_value = "text")]
        format: SheetFormat,
    },
}

#[derive(Subcommand, Debug)]
pub enum LabelsWhat {
    /// Every command and reason barcode on one A4 page (SVG or PNG, by the extension)
    Commands {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// A user's badge with the OP-<id> barcode (SVG or PNG, by the extension)
    Badge {
        user: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// A unit's label (ZPL for label printers, SVG or PNG for screens and office printers)
    Unit {
        /// The id on the label, e.g. U00000042
        unit_id: String,
        #[arg(long, value_enum, default_value = "zpl")]
        format: LabelFormat,
        #[arg(long, value_name = "FILE", conflicts_with = "print")]
        out: Option<PathBuf>,
        /// Send to the printer of the configuration
        #[arg(long)]
        print: bool,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelFormat {
    Zpl,
    Svg,
    Png,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SheetFormat {
    Text,
    Csv,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecisionArg {
    Confirm,
    Overturn,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

/// Exit codes of the contract.
pub mod exit {
    pub const OK: u8 = 0;
    pub const REFUSED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const UNUSABLE: u8 = 3;
}

/// What went wrong, by exit code.
#[derive(Debug)]
pub enum Failure {
    /// Input refused; the lines were printed already.
    Refused,
    Usage(String),
    Unusable(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Unusable(e.to_string())
    }
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::USAGE } else { exit::OK });
        }
    };
    let config = match Config::load(cli.config.as_deref()) {
        Ok((config, _)) => config,
        Err(m) => {
            eprintln!("{m}");
            return ExitCode::from(exit::UNUSABLE);
        }
    };
    // Nothing has been created and no thread started yet: see files.rs for why here.
    crate::files::create_with(crate::files::mode_for(config.files.group_readable));
    match run(cli, &config) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(Failure::Refused) => ExitCode::from(exit::REFUSED),
        Err(Failure::Usage(m)) => {
            eprintln!("returns-dock: {m}");
            ExitCode::from(exit::USAGE)
        }
        Err(Failure::Unusable(m)) => {
            eprintln!("{m}");
            ExitCode::from(exit::UNUSABLE)
        }
    }
}

fn now() -> DateTime<FixedOffset> {
    Local::now().fixed_offset()
}

fn db_path(cli: &Cli) -> PathBuf {
    cli.db.clone().unwrap_or_else(|| PathBuf::from("returns-dock.db"))
}

pub fn run(cli: Cli, config: &Config) -> Result<(), Failure> {
    let command = cli.command.as_ref();
    match command {
        None => station(config, &db_path(&cli), None, None),
        Some(Command::Station { station: id, lang }) => station(config, &db_path(&cli), id.as_deref(), *lang),
        Some(Command::Demo { lang }) => demo(&cli, config, *lang),
        Some(Command::Import { what }) => {
            let (args, kind) = match what {
                ImportWhat::Returns(a) => (a, Kind::Returns),
                ImportWhat::Catalog(a) => (a, Kind::Catalog),
                ImportWhat::Users(a) => (a, Kind::Users),
            };
            let mut store = Store::open(&db_path(&cli))?;
            let sources: Vec<Source> = args.files.iter().cloned().map(Source::File).collect();
            let opts = ImportOptions {
                dry_run: args.dry_run,
                skip_invalid: args.skip_invalid,
                now: now(),
                progress: Progress::on_terminal(),
            };
            let report = kind.import(&mut store, &sources, &opts)?;
            print_report(&report)
        }
        Some(Command::Users { action: UsersAction::Add { id, name, role, pin } }) => {
            let mut store = Store::open(&db_path(&cli))?;
            let opts = ImportOptions::new(now());
            match import::users::add(&mut store, id, name, role, pin.as_deref(), &opts)? {
                Ok(w) => {
                    println!("user {id}: {}", format!("{w:?}").to_lowercase());
                    Ok(())
                }
                Err(msgs) => {
                    for m in msgs {
                        eprintln!("users add: {m}");
                    }
                    Err(Failure::Refused)
                }
            }
        }
        Some(Command::Gen { returns, seed, out }) => gen_files(*returns, *seed, out),
        Some(Command::Review { action }) => review(&db_path(&cli), action),
        Some(Command::Labels { what }) => labels(&db_path(&cli), config, what),
        Some(Command::Report { what: ReportWhat::Feedback { from, to, format } }) => {
            use crate::export::feedback;
            let at = now();
            let to = to.unwrap_or_else(|| at.date_naive());
            let from = from.unwrap_or_else(|| to - chrono::Duration::days(6));
            if from > to {
                return Err(Failure::Usage(format!("--from {from} is after --to {to}")));
            }
            let store = Store::open_existing(&db_path(&cli))?;
            let sheet = feedback::feedback(store.conn(), from, to, config.policy.late_after_days, at)
                .map_err(|e| Failure::from(store_err(&db_path(&cli), e)))?;
            match format {
                SheetFormat::Text => print!("{}", feedback::text(&sheet)),
                SheetFormat::Csv => print!("{}", feedback::csv(&sheet)),
                SheetFormat::Json => println!("{}", serde_json::to_string_pretty(&sheet).unwrap_or_default()),
            }
            Ok(())
        }
        Some(Command::Export { out, format, all, excel, batch }) => {
            use crate::export::{Format, Span};
            let format = match format {
                ExportFormat::Csv => Format::Csv,
                ExportFormat::Json => Format::Json,
            };
            let at = now();
            let out =
                out.clone().unwrap_or_else(|| crate::export::fresh_name(Path::new(""), at, format.code()));
            let span = match (batch, all) {
                (Some(b), _) => Span::Batch(*b),
                (None, true) => Span::All,
                (None, false) => Span::SinceLast,
            };
            let mut store = Store::open_existing(&db_path(&cli))?;
            let db = db_path(&cli).display().to_string();
            let opts = crate::export::ExportOptions { format, span, excel: *excel, now: at, by: None };
            match crate::export::export(store.conn_mut(), &db, &out, &opts) {
                Ok(done) => {
                    println!(
                        "exported {} rows from {} parcels as batch {} to {}",
                        done.rows,
                        done.parcels,
                        done.batch,
                        done.path.display()
                    );
                    Ok(())
                }
                Err(crate::export::ExportError::NoSuchBatch(b)) => {
                    Err(Failure::Usage(format!("no export batch {b}")))
                }
                Err(e) => Err(Failure::Unusable(e.to_string())),
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Returns,
    Catalog,
    Users,
}

impl Kind {
    fn import(
        self,
        store: &mut Store,
        sources: &[Source],
        opts: &ImportOptions,
    ) -> Result<ImportReport, StoreError> {
        match self {
            Kind::Returns => import::returns::import(store, sources, opts),
            Kind::Catalog => import::catalog::import(store, sources, opts),
            Kind::Users => import::users::import(store, sources, opts),
        }
    }
}

/// Errors and warnings to stderr, details and the summary to stdout; exit 1 when anything
/// was refused.
fn print_report(report: &ImportReport) -> Result<(), Failure> {
    let mut err = std::io::stderr().lock();
    for p in &report.errors {
        let _ = writeln!(err, "{p}");
    }
    for p in &report.warnings {
        let _ = writeln!(err, "{p} (warning)");
    }
    let mut out = std::io::stdout().lock();
    for d in report.details() {
        let _ = writeln!(out, "{d}");
    }
    let _ = writeln!(out, "{}", report.summary());
    if let Some(p) = report.errors.iter().find(|p| p.unusable) {
        return Err(Failure::Unusable(format!("{}: nothing was imported", p.file)));
    }
    if report.errors.is_empty() || (report.committed && !report.dry_run) {
        Ok(())
    } else {
        Err(Failure::Refused)
    }
}

/// `FILE` and, beside it, `<stem>.catalog.csv`.
pub fn catalog_path_for(out: &Path) -> PathBuf {
    let stem = out.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| "returns".into());
    out.with_file_name(format!("{stem}.catalog.csv"))
}

fn gen_files(returns: u64, seed: u64, out: &Path) -> Result<(), Failure> {
    let catalog = catalog_path_for(out);
    let open = |p: &Path| {
        crate::files::create(p)
            .map(|f| std::io::BufWriter::with_capacity(1 << 20, f))
            .map_err(|e| Failure::Unusable(format!("{}: cannot write: {e}", p.display())))
    };
    let (mut o, mut c) = (open(out)?, open(&catalog)?);
    let summary = gen::generate(&GenOptions { returns, seed, max_lines: None }, &mut o, &mut c)
        .and_then(|s| o.flush().and(c.flush()).map(|_| s))
        .map_err(|e| Failure::Unusable(format!("{}: cannot write: {e}", out.display())))?;
    println!(
        "generated {} returns ({} lines) in {} and {} products in {} (seed {seed})",
        summary.returns,
        summary.lines,
        out.display(),
        summary.products,
        catalog.display()
    );
    Ok(())
}

/// The sample data built into the program, so `demo` works from any directory.
pub const DEMO_CATALOG: (&str, &[u8]) = ("data/catalog.csv", include_bytes!("../data/catalog.csv"));
pub const DEMO_USERS: (&str, &[u8]) = ("data/users.csv", include_bytes!("../data/users.csv"));
pub const DEMO_RETURNS: &[(&str, &[u8])] = &[
    ("data/returns-taobao.csv", include_bytes!("../data/returns-taobao.csv")),
    ("data/returns-amazon.tsv", include_bytes!("../data/returns-amazon.tsv")),
    ("data/returns-shop.json", include_bytes!("../data/returns-shop.json")),
];

/// Seeds a demo database from the built-in sample. An existing file is replaced only when it
/// is itself a demo database: a real one is never touched.
pub fn seed_demo(path: &Path) -> Result<Vec<ImportReport>, Failure> {
    if path.exists() {
        let mut store = Store::open(path)?;
        if store.meta("demo")?.as_deref() != Some("1") {
            return Err(Failure::Unusable(format!(
                "{}: exists and is not a demo database; it was left untouched (choose another --db)",
                path.display()
            )));
        }
        // Deleting the files under a running station would lose what it records from then on.
        if store.in_use_elsewhere()? {
            return Err(Failure::Unusable(format!(
                "{}: the demo database is in use (a station or a command has it open); it was left as it is: close that first, or choose another --db",
                path.display()
            )));
        }
        drop(store);
        for file in crate::files::database_files(path) {
            let _ = std::fs::remove_file(file);
        }
    }
    let mut store = Store::open(path)?;
    store.set_meta("demo", "1")?;
    let opts = ImportOptions::new(now());
    let embedded = |(name, bytes): (&'static str, &'static [u8])| Source::Bytes {
        name: name.to_string(),
        bytes: std::borrow::Cow::Borrowed(bytes),
    };
    let mut reports = vec![
        import::catalog::import(&mut store, &[embedded(DEMO_CATALOG)], &opts)?,
        import::users::import(&mut store, &[embedded(DEMO_USERS)], &opts)?,
    ];
    let returns: Vec<Source> = DEMO_RETURNS.iter().map(|r| embedded(*r)).collect();
    reports.push(import::returns::import(&mut store, &returns, &opts)?);
    for r in &reports {
        if !r.errors.is_empty() {
            for p in &r.errors {
                eprintln!("{p}");
            }
            return Err(Failure::Refused);
        }
    }
    Ok(reports)
}

fn demo(cli: &Cli, config: &Config, lang: Option<Lang>) -> Result<(), Failure> {
    let path = cli.db.clone().unwrap_or_else(|| PathBuf::from("returns-dock-demo.db"));
    let reports = seed_demo(&path)?;
    for r in &reports {
        println!("{}", r.summary());
    }
    println!("demo database ready: {} (badges: OP-DEMO, supervisor OP-SUP1 with PIN 2468)", path.display());
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        println!(
            "not a terminal: the station does not start; run it with: returns-dock --db {} station",
            path.display()
        );
        return Ok(());
    }
    station(config, &path, None, lang)
}

/// The scanning station on `db`, until the operator quits.
fn station(config: &Config, db: &Path, id: Option<&str>, lang: Option<Lang>) -> Result<(), Failure> {
    use crate::station::{app::App, exec::Executor, text};
    let id = id.unwrap_or(&config.station).to_string();
    let lang = match lang {
        Some(Lang::Zh) => text::Lang::Zh,
        Some(Lang::En) => text::Lang::En,
        None => text::Lang::parse(&config.language),
    };
    let store = Store::open(db)?;
    let policy = crate::store::station::Policy {
        refusal_above_cents: (config.policy.review_refusal_above * 100.0).round() as i64,
        refusals_per_parcel: config.policy.review_refusals_per_parcel as usize,
    };
    let mut app = App::new(&id, lang, config.scanner.bell, config.scanner.auto_accept_matched);
    app.policy = policy;
    app.double_read = std::time::Duration::from_millis(config.scanner.double_read_ms.into());
    app.zone = *chrono::Local::now().offset();
    let log = db.with_file_name("returns-dock.log");
    let mut exec = Executor::new(store, &id, Box::new(now)).with_log(log);
    exec.policy = policy;
    exec.late_after_days = config.policy.late_after_days;
    if let Some(printer) = crate::labels::printer::Printer::from_config(&config.printer) {
        let retry = std::time::Duration::from_secs(10);
        exec = exec.with_printer_within(printer, config.label.size(), retry, config.printer.timeout());
    }
    crate::station::run(&mut app, &mut exec).map_err(|e| Failure::Unusable(format!("terminal: {e}")))
}

fn review(db: &Path, action: &ReviewAction) -> Result<(), Failure> {
    use crate::domain::codes::{Coded, Grade, Outcome};
    use crate::store::review::{self as rv, Decision, Supervisor};
    let mut store = Store::open_existing(db)?;
    let e = |err| Failure::from(store_err(db, err));
    let done = |r: Result<(), rv::ReviewRefusal>, ok: String| match r {
        Ok(()) => {
            println!("{ok}");
            Ok(())
        }
        Err(refusal) => {
            eprintln!("review: {refusal}");
            Err(Failure::Refused)
        }
    };
    match action {
        ReviewAction::List { format } => {
            let items = rv::open_reviews(store.conn()).map_err(e)?;
            match format {
                ListFormat::Json => println!("{}", serde_json::to_string_pretty(&items).unwrap_or_default()),
                ListFormat::Text => {
                    for i in &items {
                        println!("{}", review_line(i));
                    }
                    println!("{} reviews waiting", items.len());
                }
            }
            Ok(())
        }
        ReviewAction::Decide { id, decision, by, pin, comment, outcome, grade } => {
            let decision = match decision {
                DecisionArg::Confirm => Decision::Confirm,
                DecisionArg::Overturn => Decision::Overturn {
                    outcome: Outcome::from_code(outcome)
                        .ok_or_else(|| Failure::Usage(format!("unknown outcome {outcome}")))?,
                    grade: match grade {
                        Some(g) => Some(
                            Grade::from_code(g)
                                .ok_or_else(|| Failure::Usage(format!("unknown grade {g}")))?,
                        ),
                        None => None,
                    },
                },
            };
            let sup = Supervisor { id: by, pin, station: None };
            let r =
                rv::decide(store.conn_mut(), sup, *id, &decision, comment.as_deref(), now()).map_err(e)?;
            let word = if decision == Decision::Confirm { "confirmed" } else { "overturned" };
            done(r, format!("review {id} {word} by {by}"))
        }
        ReviewAction::Link { id, rma, by, pin } => {
            let sup = Supervisor { id: by, pin, station: None };
            let r = rv::link(store.conn_mut(), sup, *id, rma, now()).map_err(e)?;
            done(r, format!("review {id}: parcel linked to {rma} by {by}"))
        }
    }
}

fn store_err(db: &Path, e: rusqlite::Error) -> StoreError {
    crate::store::classify(&db.display().to_string(), e)
}

/// One queue entry on one line, as a supervisor reads it in a terminal.
fn review_line(i: &crate::store::review::ReviewItem) -> String {
    use crate::domain::text::printable;
    let mut s = format!(
        "R{} {}{} {} P{} {} [{} {}]",
        i.id,
        i.kind,
        if i.mandatory { " (mandatory)" } else { "" },
        crate::station::app::short_time(&i.created_at, *chrono::Local::now().offset()),
        i.parcel_id,
        printable(if i.rmas.is_empty() { &i.scan } else { &i.rmas }),
        i.station,
        i.operator
    );
    if let Some(u) = &i.unit {
        s.push_str(&format!(" {u} {}", printable(i.sku.as_deref().unwrap_or("?"))));
        for part in [&i.serial, &i.outcome, &i.reason, &i.discrepancy].into_iter().flatten() {
            s.push_str(&format!(" {}", printable(part)));
        }
        if let Some(n) = &i.note {
            s.push_str(&format!(" \"{}\"", printable(n)));
        }
    }
    if let Some(r) = &i.parcel_refuse_reason {
        s.push_str(&format!(" refused: {r}"));
    }
    if let Some(r) = &i.customer_reason {
        s.push_str(&format!(" · customer: {}", printable(r)));
    }
    s
}

/// SVG or PNG, by the file's extension.
fn page_format(out: &Path) -> Result<LabelFormat, Failure> {
    match out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("svg") => Ok(LabelFormat::Svg),
        Some("png") => Ok(LabelFormat::Png),
        _ => Err(Failure::Usage(format!("{}: the file must end in .svg or .png", out.display()))),
    }
}

fn write_file(out: &Path, bytes: impl AsRef<[u8]>) -> Result<(), Failure> {
    crate::files::write(out, bytes.as_ref())
        .map_err(|e| Failure::Unusable(format!("{}: cannot write: {e}", out.display())))
}

fn labels(db: &Path, config: &Config, what: &LabelsWhat) -> Result<(), Failure> {
    use crate::domain::codes::{Coded, Role};
    use crate::labels::{layout, raster, svg, zpl};
    let barcode_err = |e: crate::labels::BarcodeError| Failure::Refused.log(e.to_string());
    let draw = |page: layout::Page, format: LabelFormat, ppm: f64| match format {
        LabelFormat::Png => raster::png(&page, ppm),
        _ => svg::render(&page).into_bytes(),
    };
    match what {
        LabelsWhat::Commands { out } => {
            let format = page_format(out)?;
            let page = layout::command_sheet().map_err(barcode_err)?;
            write_file(out, draw(page, format, raster::SHEET_PX_PER_MM))?;
            println!("command sheet written to {}", out.display());
            Ok(())
        }
        LabelsWhat::Badge { user, out } => {
            let format = page_format(out)?;
            let store = Store::open_existing(db)?;
            let found = crate::store::station::find_user(store.conn(), user)
                .map_err(|e| Failure::from(store_err(db, e)))?;
            let Some(u) = found else { return Err(Failure::Refused.log(format!("no user {user}"))) };
            let role = if u.role == Role::Supervisor { Role::Supervisor } else { Role::Operator };
            let page = layout::badge(&u.id, &u.name, role.en(), role.zh()).map_err(barcode_err)?;
            write_file(out, draw(page, format, raster::SHEET_PX_PER_MM))?;
            println!("badge of {} written to {}", u.id, out.display());
            Ok(())
        }
        LabelsWhat::Unit { unit_id, format, out, print } => {
            if *format == LabelFormat::Png && out.is_none() && !*print {
                return Err(Failure::Usage("a PNG label needs --out FILE".into()));
            }
            let id: i64 = unit_id
                .trim_start_matches(['U', 'u'])
                .parse()
                .map_err(|_| Failure::Usage(format!("{unit_id} is not a unit id (U and digits)")))?;
            let store = Store::open_existing(db)?;
            let facts = crate::store::station::unit_facts(store.conn(), id)
                .map_err(|e| Failure::from(store_err(db, e)))?;
            let Some(f) = facts else {
                return Err(Failure::Refused.log(format!("no unit {unit_id}")));
            };
            let label = zpl::UnitLabel::of(id, f);
            let size = config.label.size();
            let bytes = match format {
                LabelFormat::Zpl => zpl::unit_label(&label, size).into_bytes(),
                LabelFormat::Svg | LabelFormat::Png => {
                    let page =
                        layout::unit_label(&label, f64::from(size.width_mm), f64::from(size.height_mm))
                            .map_err(barcode_err)?;
                    draw(page, *format, f64::from(size.dpi) / 25.4)
                }
            };
            if *print {
                let printer =
                    crate::labels::printer::Printer::from_config(&config.printer).ok_or_else(|| {
                        Failure::Unusable(
                            "no printer in the configuration ([printer] address or command)".into(),
                        )
                    })?;
                printer.send_within(&bytes, config.printer.timeout()).map_err(Failure::Unusable)?;
                println!("label {} sent to the printer", label.unit_id);
            } else if let Some(out) = out {
                write_file(out, &bytes)?;
                println!("label {} written to {}", label.unit_id, out.display());
            } else {
                use std::io::Write;
                let _ = std::io::stdout().write_all(&bytes);
            }
            Ok(())
        }
    }
}

impl Failure {
    /// Prints `message` as the one error line, then stands for "input refused".
    fn log(self, message: String) -> Failure {
        eprintln!("{message}");
        self
    }
}

/// A review entry's id as printed (`R12`) or bare (`12`).
fn review_id(text: &str) -> Result<i64, String> {
    let digits = text.trim().strip_prefix(['R', 'r']).unwrap_or(text.trim());
    digits
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{text} is not a review id (R and digits, as `review list` prints it)"))
}
