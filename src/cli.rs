//! The command line: parses the arguments, runs the command, maps the outcome to the contract's
//! exit codes (0 done, 1 input refused, 2 bad usage, 3 database or file unusable) and prints
//! errors to stderr one line each, `file:line: message`.

use crate::config::Config;
use crate::domain::ids;
use crate::domain::text::on_screen;
use crate::gen::{self, GenOptions};
use crate::import::{self, ImportOptions, ImportReport, Progress, Source};
use crate::store::{Store, StoreError};
use chrono::{DateTime, FixedOffset, Local};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub(crate) mod words;

use crate::domain::codes::{Coded, Grade, Outcome, Role};

#[derive(Parser, Debug)]
#[command(
    name = "returns-dock",
    version,
    about = "The returns dock: receive, inspect and sign for returned parcels",
    long_about = "The returns dock: receive, inspect and sign for returned parcels.\n\nWithout a command, \
                  the scanning station starts (`returns-dock --station ST02` is `returns-dock station --station ST02`)."
)]
pub struct Cli {
    /// The database: a dock's file, or a central database's address (postgresql://USER@HOST/DB)
    /// [default: returns-dock.db in the working directory]
    #[arg(long, global = true, env = "RETURNS_DOCK_DB", value_name = "PATH", display_order = 1)]
    pub db: Option<PathBuf>,
    /// Station settings (TOML) [default: returns-dock.toml if present]
    #[arg(long, global = true, value_name = "PATH", display_order = 2)]
    pub config: Option<PathBuf>,
    /// The language of the screens and of what commands print [default: the configuration's
    /// `language`, else en]
    #[arg(long, global = true, value_enum, display_order = 3)]
    pub lang: Option<Lang>,
    /// The station's id, when the station starts without the word `station` [default: the
    /// configuration's `station`]
    #[arg(long, value_name = "ID", display_order = 4)]
    pub station: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The scanning station (the default)
    Station {
        /// The station's id, as on its screen and in every record [default: the
        /// configuration's `station`]
        #[arg(long, value_name = "ID")]
        station: Option<String>,
    },
    /// A fresh demo database seeded from the sample data, then the station on it
    Demo,
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
        #[command(subcommand)]
        what: Option<ExportWhat>,
        /// Where to write [default: returns-export-b<batch>-<date>-<HHMM>.csv|json here]
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
        /// The file's format
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// Every closed parcel, not only what changed since the last export
        #[arg(long, conflicts_with = "batch")]
        all: bool,
        /// Start the file with a BOM, so Excel shows Chinese correctly
        #[arg(long)]
        excel: bool,
        /// Produce an earlier batch again (its rows as they stand now)
        #[arg(long, value_name = "ID", value_parser = batch_id)]
        batch: Option<i64>,
        /// Only the parcels received at this dock [default: every dock] (a batch made again
        /// keeps the dock it was made for)
        #[arg(long, value_name = "DOCK", conflicts_with = "batch", value_parser = dock_name)]
        dock: Option<String>,
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
    /// The database itself: move a dock's file into a central database
    Db {
        #[command(subcommand)]
        what: DbWhat,
    },
    /// The tamper-evident log: check it against the records, or print a record's history
    Audit {
        #[command(subcommand)]
        what: AuditWhat,
    },
    /// Deterministic synthetic expected returns and a matching catalog (FILE and FILE's
    /// stem + .catalog.csv)
    Gen {
        /// How many expected returns to write
        #[arg(long, value_name = "N")]
        returns: u64,
        /// The seed: the same N and S always give the same files
        #[arg(long, value_name = "S", default_value_t = 1)]
        seed: u64,
        /// The returns file to write (the catalog goes beside it)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum ExportWhat {
    /// One return's evidence for a marketplace dispute: its photos (each under 5 MB) and a
    /// summary (summary.json, summary.txt), zipped
    Evidence {
        /// The return's RMA number
        #[arg(long, value_name = "RMA")]
        rma: String,
        /// Where to write [default: evidence-<RMA>.zip here]
        #[arg(long, value_name = "FILE.zip")]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ImportWhat {
    /// Expected returns (RMAs): CSV, TSV, JSON, JSON Lines or a workbook; UTF-8 or GB18030
    Returns(ImportArgs),
    /// Products: SKU, name, barcodes, serialised, supplier, unit value
    Catalog(ImportArgs),
    /// Units shipped per SKU and day (sku, qty, date), for the return rate per product; a
    /// day's figure replaces what an earlier import said of it
    Shipments(ImportArgs),
    /// Operators and supervisors: id, name, role, pin (a supervisor's --by is needed once the
    /// database has a supervisor)
    Users {
        #[command(flatten)]
        args: ImportArgs,
        #[command(flatten)]
        by: ByArgs,
    },
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The files to load (CSV, TSV, JSON, JSON Lines or .xlsx)
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Validate and report; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Load the valid rows; write the refused ones with their reason to FILE.rejected.csv
    #[arg(long)]
    pub skip_invalid: bool,
    /// The sheet of a workbook to read [default: its first]
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
}

/// A supervisor's id and PIN, for what only a supervisor may do. The PIN is typed at a prompt
/// on a terminal, else taken from `RETURNS_DOCK_PIN`; `--pin` works but is visible to others.
#[derive(clap::Args, Debug, Clone)]
pub struct ByArgs {
    /// The supervisor's user id (`OP-X` or `X`)
    #[arg(long, value_name = "SUPERVISOR")]
    pub by: Option<String>,
    /// The PIN on the command line (visible to other users in `ps`: prefer the prompt or
    /// RETURNS_DOCK_PIN)
    #[arg(long, value_name = "PIN")]
    pub pin: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum UsersAction {
    /// Add or update one user
    Add {
        /// The user's id, printed on their badge as OP-<id> (`OP-X` or `X`)
        #[arg(long)]
        id: String,
        /// The name shown on the badge and the station
        #[arg(long)]
        name: String,
        /// The role [default: operator for a new user; a known user keeps theirs]
        #[arg(long, value_parser = words::CodeParser::<Role>::new(Role::parse))]
        role: Option<Role>,
        /// The new user's PIN, required for a supervisor: 4 to 12 digits, stored only as a
        /// salted hash (asked at a prompt when a supervisor is added on a terminal without it)
        #[arg(long)]
        pin: Option<String>,
        /// The supervisor making the change, `OP-X` or `X` (needed once the database has a
        /// supervisor)
        #[arg(long, value_name = "SUPERVISOR")]
        by: Option<String>,
        /// That supervisor's PIN on the command line (visible to other users in `ps`: prefer
        /// the prompt or RETURNS_DOCK_PIN)
        #[arg(long, value_name = "PIN")]
        by_pin: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReviewAction {
    /// Every undecided entry, oldest first, with what the parcel held and lacked
    List {
        /// Text for a terminal, or JSON for a program
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
        /// Only the parcels received at this dock [default: every dock]
        #[arg(long, value_name = "DOCK", value_parser = dock_name)]
        dock: Option<String>,
    },
    /// Confirm or overturn an entry (overturning needs a comment)
    Decide {
        /// The entry as `review list` prints it, `R12`, or `12`
        #[arg(value_parser = review_id)]
        id: i64,
        /// confirm: the operator's call stands; overturn: the unit gets --outcome instead
        #[arg(value_enum)]
        decision: DecisionArg,
        /// The supervisor's user id (`OP-X` or `X`)
        #[arg(long, value_name = "SUPERVISOR")]
        by: String,
        /// The PIN on the command line (visible to other users in `ps`: prefer the prompt or
        /// RETURNS_DOCK_PIN)
        #[arg(long)]
        pin: Option<String>,
        /// Why (required to overturn); goes to the export and the log
        #[arg(long)]
        comment: Option<String>,
        /// The unit's outcome when overturned (`-` or `_` alike, any case)
        #[arg(long, default_value = "accept", value_parser = words::CodeParser::<Outcome>::new(Outcome::from_code))]
        outcome: Outcome,
        /// The grade, with accept (A) or second-hand (B, the default, or C); other outcomes have none
        #[arg(long, value_parser = words::CodeParser::<Grade>::new(Grade::from_code))]
        grade: Option<Grade>,
    },
    /// Link an unidentified parcel's entry to the expected return it belongs to
    Link {
        /// The entry as `review list` prints it, `R12`, or `12`
        #[arg(value_parser = review_id)]
        id: i64,
        /// The expected return's RMA number (case, blanks and dashes aside)
        rma: String,
        /// The supervisor's user id (`OP-X` or `X`)
        #[arg(long, value_name = "SUPERVISOR")]
        by: String,
        /// The PIN on the command line (visible to other users in `ps`: prefer the prompt or
        /// RETURNS_DOCK_PIN)
        #[arg(long)]
        pin: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum DbWhat {
    /// Copies a dock's whole history (audit chain included) from its file into an empty central
    /// database, in one transaction, and checks the counts after
    Copy {
        /// The dock's database file
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// The central database: postgresql://USER@HOST:PORT/DATABASE
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// The grants for a role that runs the stations and commands on a central database it does
    /// not own: the records read and written, the history only added to. Printed as SQL, or
    /// given with --apply by the owner on --db
    Grants {
        /// The role (a PostgreSQL user) the stations connect as
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// Give them on the central database --db names (as its owner), instead of printing them
        #[arg(long)]
        apply: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditWhat {
    /// Checks the hash chain, and that units and reviews are what the log says: exit 0 with a
    /// summary, or 1 naming the first entry or record that disagrees
    Verify,
    /// A parcel's or a unit's history, oldest first
    Show {
        /// The parcel, `P12` or `12`
        #[arg(long, value_parser = parcel_id, conflicts_with = "unit", required_unless_present = "unit")]
        parcel: Option<i64>,
        /// The unit, `U00000004` or `4`
        #[arg(long, value_parser = unit_id)]
        unit: Option<i64>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReportWhat {
    /// Causes by department, top product-defect SKUs, turnaround, parcels waiting
    Feedback {
        /// First day, YYYY-MM-DD [default: six days before --to]
        #[arg(long, value_name = "DATE", value_parser = words::date)]
        from: Option<chrono::NaiveDate>,
        /// Last day, YYYY-MM-DD [default: today]
        #[arg(long, value_name = "DATE", value_parser = words::date)]
        to: Option<chrono::NaiveDate>,
        /// Text with bars for a terminal, CSV or JSON for others, a workbook with charts (needs --out)
        #[arg(long, value_enum, default_value = "text")]
        format: SheetFormat,
        /// Write it to this file [default: the terminal]
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Only the parcels received at this dock (a return counts at its last box's dock)
        /// [default: every dock]
        #[arg(long, value_name = "DOCK", value_parser = dock_name)]
        dock: Option<String>,
    },
    /// The return-to-supplier units not yet shipped, by supplier: the manifest for each
    /// supplier's box (--close records them as shipped, as the next RTV batch)
    Rtv(ManifestArgs),
    /// The scrapped units not yet written off: the write-off list for finance (--close records
    /// them as written off, as the next write-off batch)
    Scrap(ManifestArgs),
}

/// What `report rtv` and `report scrap` take.
#[derive(clap::Args, Debug)]
pub struct ManifestArgs {
    /// Only this supplier's units, as the catalog names it (any case); NO-SUPPLIER for products
    /// the catalog names no supplier for [default: every supplier]
    #[arg(long, value_name = "SUPPLIER", value_parser = supplier_name)]
    pub supplier: Option<String>,
    /// Only the units of parcels received at this dock [default: every dock]
    #[arg(long, value_name = "DOCK", value_parser = dock_name)]
    pub dock: Option<String>,
    /// Text for a terminal or a printer, CSV or JSON for others
    #[arg(long, value_enum, default_value = "text")]
    pub format: ManifestFormat,
    /// Where to write [default: stdout]
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Start the CSV with a BOM, so Excel shows Chinese correctly (with --format csv)
    #[arg(long)]
    pub excel: bool,
    /// Record the units listed (those not held back) as shipped / written off, in a numbered
    /// batch; they are never listed again
    #[arg(long)]
    pub close: bool,
}

#[derive(Subcommand, Debug)]
pub enum LabelsWhat {
    /// Every command and reason barcode on one A4 page (SVG or PNG, by the extension)
    Commands {
        /// The file to write, ending in .svg or .png
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// A user's badge with the OP-<id> barcode (SVG or PNG, by the extension)
    Badge {
        /// The user's id (`OP-X` or `X`)
        user: String,
        /// The file to write, ending in .svg or .png
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// The demo's badges and its parcels still to come as barcodes (RMA, products, serials), to
    /// try a real scanner on paper (SVG or PNG, by the extension)
    Demo {
        /// Where to write the sheet: FILE.svg or FILE.png
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// A unit's label (ZPL for label printers, SVG or PNG for screens and office printers)
    Unit {
        /// The id on the label, `U00000042`, or `42`
        unit_id: String,
        /// ZPL for a label printer, SVG or PNG for a screen or an office printer [default: by
        /// the extension of --out (.svg, .png), else zpl]
        #[arg(long, value_enum)]
        format: Option<LabelFormat>,
        /// The file to write [default: the label on stdout]
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
    Xlsx,
}

/// The forms of a manifest (`report rtv`, `report scrap`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManifestFormat {
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
    Xlsx,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// English
    En,
    /// 中文
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

/// A `--dock D` that no parcel on record names is refused (a typo, or another letter case,
/// would otherwise give an empty sheet or batch that looks like a quiet day), naming the docks
/// there are.
fn known_dock(store: &Store, dock: Option<&str>) -> Result<(), Failure> {
    let Some(dock) = dock else { return Ok(()) };
    let docks = store.docks().map_err(|e| Failure::from(store.err(e)))?;
    if docks.iter().any(|d| d == dock) {
        return Ok(());
    }
    let there = match docks.is_empty() {
        true => "no parcel on record names a dock".to_string(),
        false => format!(
            "the docks on record: {}",
            docks.iter().map(|d| on_screen(d)).collect::<Vec<_>>().join(", ")
        ),
    };
    eprintln!(
        "returns-dock: --dock {}: no parcel was received at that dock; {there} (a dock is named as its \
         stations' configuration names it, letter case included)",
        on_screen(dock)
    );
    Err(Failure::Refused)
}

/// The command line as parsed and as `--help` shows it: in every command's help the options
/// all commands share (`--db`, `--config`, `--lang`) come first, then the command's own.
pub fn command() -> clap::Command {
    fn own_args_after_shared(cmd: clap::Command) -> clap::Command {
        cmd.mut_args(|a| {
            let order = a.get_display_order();
            a.display_order(order.saturating_add(10))
        })
        .mut_subcommands(own_args_after_shared)
    }
    <Cli as clap::CommandFactory>::command().mut_subcommands(own_args_after_shared)
}

fn parse_args() -> Result<Cli, clap::Error> {
    let mut cmd = command();
    let matches = cmd.try_get_matches_from_mut(std::env::args_os())?;
    <Cli as clap::FromArgMatches>::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
}

pub fn main() -> ExitCode {
    let cli = match parse_args() {
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
    crate::store::set_disposition(config.disposition.clone());
    crate::export::set_refusal_ids(config.marketplace.refusal_ids.clone());
    match run(cli, &config) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(Failure::Refused) => ExitCode::from(exit::REFUSED),
        Err(Failure::Usage(m)) => {
            eprintln!("returns-dock: {}", on_screen(&m));
            ExitCode::from(exit::USAGE)
        }
        Err(Failure::Unusable(m)) => {
            eprintln!("{}", on_screen(&m));
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

/// The language of what the command prints: `--lang`, else the configuration's.
fn lang_of(cli: &Cli, config: &Config) -> crate::domain::codes::Lang {
    use crate::domain::codes::Lang as L;
    match cli.lang {
        Some(Lang::En) => L::En,
        Some(Lang::Zh) => L::Zh,
        None => L::parse(&config.language),
    }
}

pub fn run(cli: Cli, config: &Config) -> Result<(), Failure> {
    let lang = lang_of(&cli, config);
    let command = cli.command.as_ref();
    match command {
        None => station(config, &db_path(&cli), cli.station.as_deref(), cli.lang),
        Some(Command::Station { station: id }) => {
            let id = id.as_deref().or(cli.station.as_deref());
            station(config, &db_path(&cli), id, cli.lang)
        }
        Some(_) if cli.station.is_some() => Err(Failure::Usage(
            "--station goes with the station: returns-dock --station ID, or returns-dock station --station ID".into(),
        )),
        Some(Command::Demo) => demo(&cli, config, cli.lang),
        Some(Command::Import { what }) => {
            let (args, kind, by) = match what {
                ImportWhat::Returns(a) => (a, Kind::Returns, None),
                ImportWhat::Catalog(a) => (a, Kind::Catalog, None),
                ImportWhat::Shipments(a) => (a, Kind::Shipments, None),
                ImportWhat::Users { args, by } => (args, Kind::Users, Some(by)),
            };
            let mut store = Store::open(&db_path(&cli))?;
            let sources: Vec<Source> = args
                .files
                .iter()
                .map(|f| match crate::import::table::is_workbook(f) || args.sheet.is_some() {
                    true => Source::workbook(f, args.sheet.as_deref()),
                    false => Source::File(f.clone()),
                })
                .collect();
            let by = match by.and_then(|b| b.by.clone().map(|id| (id, b.pin.clone()))) {
                Some((id, pin)) => Some(prove(&mut store, config, &id, pin)?),
                None => None,
            };
            let opts = ImportOptions {
                dry_run: args.dry_run,
                skip_invalid: args.skip_invalid,
                now: now(),
                progress: Progress::on_terminal(),
                by,
            };
            let report = kind.import(&mut store, &sources, &opts)?;
            print_report(&report, lang)
        }
        Some(Command::Users { action: UsersAction::Add { id, name, role, pin, by, by_pin } }) => {
            let mut store = Store::open(&db_path(&cli))?;
            let mut opts = ImportOptions::new(now());
            if let Some(sup) = by {
                opts.by = Some(prove(&mut store, config, sup, by_pin.clone())?);
            }
            let id = &store.user_id_of(id).map_err(|e| Failure::from(store.err(e)))?;
            let new_pin = match pin {
                Some(p) => Some(p.clone()),
                None if *role == Some(Role::Supervisor) && std::io::stdin().is_terminal() => {
                    Some(read_hidden(&format!("New PIN for {id}: "))?)
                }
                None => None,
            };
            let role = role.map(crate::domain::codes::Coded::code).unwrap_or("");
            match import::users::add(&mut store, id, name, role, new_pin.as_deref(), &opts)? {
                Ok(w) => {
                    println!("{}", words::say::user_written(lang, id, &w));
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
        Some(Command::Gen { returns, seed, out }) => gen_files(*returns, *seed, out, lang),
        Some(Command::Review { action }) => review(&db_path(&cli), config, action, lang),
        Some(Command::Audit { what }) => audit(&db_path(&cli), what, lang),
        Some(Command::Db { what: DbWhat::Copy { from, to } }) => db_copy(from, to),
        Some(Command::Db { what: DbWhat::Grants { role, apply } }) => db_grants(cli.db.as_deref(), role, *apply),
        Some(Command::Labels { what: LabelsWhat::Demo { out } }) => demo_sheet(cli.db.as_deref(), out),
        Some(Command::Labels { what }) => labels(&db_path(&cli), config, what),
        Some(Command::Report { what: ReportWhat::Feedback { from, to, format, dock, out } }) => {
            use crate::export::feedback;
            if *format == SheetFormat::Xlsx && out.is_none() {
                return Err(Failure::Usage("--format xlsx writes a workbook: name it with --out FILE.xlsx".into()));
            }
            let at = now();
            let to = to.unwrap_or_else(|| at.date_naive());
            let from = from.unwrap_or_else(|| to - chrono::Duration::days(6));
            if from > to {
                return Err(Failure::Usage(format!("--from {from} is after --to {to}")));
            }
            let mut store = Store::open_existing(&db_path(&cli))?;
            if let Some(out) = out.as_deref().filter(|o| crate::store::is_database_file(o, store.path())) {
                return Err(Failure::from(StoreError::IsTheDatabase {
                    path: out.display().to_string(),
                    db: store.path().display().to_string(),
                }));
            }
            // Returns that waited too long for their other boxes close first, as for an export.
            store.close_overdue(at, config.policy.await_boxes_days).map_err(|e| Failure::from(store.err(e)))?;
            let dock = dock.as_deref();
            known_dock(&store, dock)?;
            let mut sheet = feedback::feedback_at(&mut store, from, to, config.policy.late_after_days, at, dock)
                .map_err(|e| Failure::from(store.err(e)))?;
            // With shipments on record, the return rate per product.
            let shipments = store.has_shipments().map_err(|e| Failure::from(store.err(e)))?;
            if shipments {
                let p = &config.policy;
                let rates = feedback::return_rates(&store, from, to, p.return_lag_days, p.return_rate_alert, at)
                    .map_err(|e| Failure::from(store.err(e)))?;
                sheet.return_rates = Some(rates);
            }
            let text = match format {
                SheetFormat::Text => feedback::text_in(&sheet, lang),
                SheetFormat::Csv => feedback::csv_in(&sheet, lang),
                SheetFormat::Json => format!("{}\n", serde_json::to_string_pretty(&sheet).unwrap_or_default()),
                SheetFormat::Xlsx => {
                    let bytes = crate::export::feedback_xlsx::workbook(&sheet, lang)
                        .map_err(|e| Failure::Unusable(format!("the workbook: {e}")))?;
                    let out = out.as_deref().unwrap_or(Path::new("feedback.xlsx"));
                    crate::files::write_durably(out, &bytes)
                        .map_err(|e| Failure::Unusable(format!("{}: {e}", out.display())))?;
                    println!("{}", words::say::feedback_written(lang, &out.display().to_string()));
                    return Ok(());
                }
            };
            match out {
                Some(out) => crate::files::write_durably(out, text.as_bytes())
                    .map_err(|e| Failure::Unusable(format!("{}: {e}", out.display())))?,
                None => print!("{text}"),
            }
            Ok(())
        }
        Some(Command::Report { what: ReportWhat::Rtv(args) }) => {
            manifest_report(&db_path(&cli), config, crate::export::manifest::Kind::Rtv, args, lang)
        }
        Some(Command::Report { what: ReportWhat::Scrap(args) }) => {
            manifest_report(&db_path(&cli), config, crate::export::manifest::Kind::Scrap, args, lang)
        }
                Some(Command::Export { what: Some(ExportWhat::Evidence { rma, out }), .. }) => {
            let store = Store::open_existing(&db_path(&cli))?;
            // A file name of the RMA's own characters only.
            let safe: String = rma.trim().chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
            let out = out.clone().unwrap_or_else(|| PathBuf::from(format!("evidence-{safe}.zip")));
            if crate::store::is_database_file(&out, store.path()) {
                return Err(Failure::from(StoreError::IsTheDatabase {
                    path: out.display().to_string(),
                    db: store.path().display().to_string(),
                }));
            }
            let made_at = now();
            let name = config.marketplace.name.as_str();
            match crate::evidence::bundle::write(&store, rma, &out, name, lang, made_at) {
                Ok(b) => {
                    println!("{}", words::say::evidence(lang, &b, &out.display().to_string()));
                    for (sha, why) in &b.missing {
                        eprintln!("photo {sha} left out of the evidence: {why}");
                    }
                    Ok(())
                }
                Err(
                    e @ (crate::evidence::bundle::BundleError::NoSuchReturn(_)
                    | crate::evidence::bundle::BundleError::NotReceived(_)),
                ) => {
                    eprintln!("{e}");
                    Err(Failure::Refused)
                }
                Err(e) => Err(Failure::Unusable(e.to_string())),
            }
        }
        Some(Command::Export { what: None, out, format, all, excel, batch, dock }) => {
            use crate::export::{Format, Span};
            let format = match format {
                ExportFormat::Csv => Format::Csv,
                ExportFormat::Json => Format::Json,
                ExportFormat::Xlsx => Format::Xlsx(lang),
            };
            let at = now();
            let span = match (batch, all) {
                (Some(b), _) => Span::Batch(*b),
                (None, true) => Span::All,
                (None, false) => Span::SinceLast,
            };
            let mut store = Store::open_existing(&db_path(&cli))?;
            known_dock(&store, dock.as_deref())?;
            let dock = dock.clone();
            let opts = crate::export::ExportOptions { format, span, excel: *excel, now: at, by: None, dock };
            // Returns that waited too long for their other boxes close first, so their missing
            // units are in this export (a batch made again is left exactly as it was).
            if !matches!(span, Span::Batch(_)) {
                store.close_overdue(at, config.policy.await_boxes_days).map_err(|e| Failure::from(store.err(e)))?;
            }
            let done = match out {
                // A folder (a share the after-sales team reads): a fresh name in it, as here.
                Some(dir) if dir.is_dir() => crate::export::export_fresh(&mut store, dir, &opts),
                Some(out) => crate::export::export(&mut store, out, &opts),
                None => crate::export::export_fresh(&mut store, Path::new(""), &opts),
            };
            match done {
                Ok(done) => {
                    let path = done.path.display().to_string();
                    println!("{}", words::say::exported(lang, done.rows, done.parcels, done.batch, &path));
                    Ok(())
                }
                Err(crate::export::ExportError::NothingNew { last }) => {
                    println!("{}", words::say::nothing_new(lang, last));
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

/// `report rtv` and `report scrap`: the manifest as it stands, or closed as the next batch.
fn manifest_report(
    db: &Path,
    config: &Config,
    kind: crate::export::manifest::Kind,
    args: &ManifestArgs,
    lang: crate::domain::codes::Lang,
) -> Result<(), Failure> {
    use crate::export::manifest as mf;
    use crate::store::manifest::{same_supplier, CloseFailed, Filter};
    if args.excel && args.format != ManifestFormat::Csv {
        return Err(Failure::Usage("--excel goes with --format csv (it puts a BOM before the CSV)".into()));
    }
    let at = now();
    let mut store = Store::open_existing(db)?;
    let e = |err| Failure::from(store_err(db, err));
    if let Some(out) = &args.out {
        crate::export::not_the_database(&store, out)?;
    }
    known_dock(&store, args.dock.as_deref())?;
    if let Some(s) = args.supplier.as_deref() {
        let known = store.suppliers().map_err(e)?;
        let shown =
            |list: &[String]| list.iter().take(10).map(|x| on_screen(x)).collect::<Vec<_>>().join(", ");
        if !same_supplier(s, crate::domain::disposition::NO_SUPPLIER)
            && !known.iter().any(|k| same_supplier(s, k))
        {
            eprintln!(
                "returns-dock: --supplier {}: the catalog names no such supplier ({}{}; NO-SUPPLIER for products without one)",
                on_screen(s),
                if known.is_empty() { "it names none".to_string() } else { format!("it names {}", shown(&known)) },
                if known.len() > 10 { format!(" and {} more", known.len() - 10) } else { String::new() },
            );
            return Err(Failure::Refused);
        }
    }
    // Returns that waited too long for their other boxes close first (their units' outcomes
    // are settled then), as for an export.
    store.close_overdue(at, config.policy.await_boxes_days).map_err(|err| Failure::from(store.err(err)))?;
    let filter = Filter { supplier: args.supplier.clone(), dock: args.dock.clone() };
    let render = |m: &mf::Manifest| -> Vec<u8> {
        match args.format {
            ManifestFormat::Text => mf::text_in(m, lang).into_bytes(),
            ManifestFormat::Csv => {
                let mut bytes = if args.excel { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
                bytes.extend(mf::csv_bytes(m).unwrap_or_default());
                bytes
            }
            ManifestFormat::Json => {
                let mut json = serde_json::to_string_pretty(m).unwrap_or_default();
                json.push('\n');
                json.into_bytes()
            }
        }
    };
    let write_err = |out: &Path, err: std::io::Error| {
        Failure::Unusable(format!("{}: cannot write: {err}", out.display()))
    };
    // The file under its temporary name, synced (renamed into place by the caller).
    let partial = |out: &Path, bytes: &[u8]| {
        crate::export::write_partial::<crate::export::ExportError>(out, false, |w| {
            w.write_all(bytes).map_err(|source| crate::export::ExportError::Write {
                path: out.display().to_string(),
                source,
            })
        })
    };
    let (supplier, dock) = (args.supplier.as_deref(), args.dock.as_deref());
    if !args.close {
        let listed = store.manifest(kind, &filter).map_err(e)?;
        let m = mf::manifest(kind, &listed, supplier, dock, None);
        let bytes = render(&m);
        match &args.out {
            None => {
                let _ = std::io::stdout().write_all(&bytes);
            }
            Some(out) => {
                let tmp = partial(out, &bytes).map_err(|err| Failure::Unusable(err.to_string()))?;
                std::fs::rename(&tmp, out).map_err(|err| write_err(out, err))?;
                println!(
                    "{}",
                    words::say::manifest_written(
                        lang,
                        m.count,
                        m.value_cents,
                        m.held,
                        &out.display().to_string()
                    )
                );
            }
        }
        return Ok(());
    }
    let mut written: Option<PathBuf> = None;
    let closed = store.close_manifest(kind, &filter, None, at, &mut |c| {
        if let Some(out) = &args.out {
            let m = mf::manifest(kind, &c.listed, supplier, dock, Some(c.batch));
            let tmp = partial(out, &render(&m)).map_err(|err| match err {
                crate::export::ExportError::Write { source, .. } => source,
                other => std::io::Error::other(other.to_string()),
            })?;
            written = Some(tmp);
        }
        Ok(())
    });
    let closed = match closed {
        Ok(c) => c,
        Err(CloseFailed::Before(err)) => {
            return Err(write_err(args.out.as_deref().unwrap_or(Path::new("")), err));
        }
        Err(CloseFailed::Db(err)) => {
            if let Some(tmp) = written.take() {
                let _ = std::fs::remove_file(tmp);
            }
            return Err(e(err));
        }
    };
    let m = mf::manifest(kind, &closed.listed, supplier, dock, Some(closed.batch));
    match (&args.out, written) {
        (Some(out), Some(tmp)) => {
            std::fs::rename(&tmp, out).map_err(|err| write_err(out, err))?;
            println!(
                "{} ({})",
                mf::closed_line(&m, lang),
                words::say::written_to(lang, &out.display().to_string())
            );
        }
        (Some(_), None) => println!("{}", mf::closed_line(&m, lang)),
        (None, _) => {
            let _ = std::io::stdout().write_all(&render(&m));
            // A program reads CSV and JSON from stdout: what the close did is said beside it.
            if args.format != ManifestFormat::Text {
                eprintln!("{}", mf::closed_line(&m, lang));
            }
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Kind {
    Returns,
    Catalog,
    Users,
    Shipments,
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
            Kind::Shipments => import::shipments::import(store, sources, opts),
        }
    }
}

/// Errors and warnings to stderr, details and the summary to stdout; exit 1 when anything
/// was refused. Each line in its screen form: the messages quote the files.
fn print_report(report: &ImportReport, lang: crate::domain::codes::Lang) -> Result<(), Failure> {
    let mut err = std::io::stderr().lock();
    for p in &report.errors {
        let _ = writeln!(err, "{}", on_screen(&p.to_string()));
    }
    for p in &report.warnings {
        let _ = writeln!(err, "{} (warning)", on_screen(&p.to_string()));
    }
    let mut out = std::io::stdout().lock();
    for d in words::say::import_details(lang, report) {
        let _ = writeln!(out, "{}", on_screen(&d));
    }
    let _ = writeln!(out, "{}", on_screen(&words::say::import_summary(lang, report)));
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

fn gen_files(returns: u64, seed: u64, out: &Path, lang: crate::domain::codes::Lang) -> Result<(), Failure> {
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
    let (n, lines, products) = (summary.returns, summary.lines, summary.products);
    let (out, catalog) = (out.display(), catalog.display());
    println!(
        "{}",
        lang.pick(
            format!("generated {n} returns ({lines} lines) in {out} and {products} products in {catalog} (seed {seed})"),
            format!("已生成 {n} 条售后单（{lines} 行）于 {out}，{products} 个商品于 {catalog}（种子 {seed}）"),
        )
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
    seed_demo_into(&mut store)
}

/// The demo's sample data (catalog, users, returns) into `store`, marked a demo.
pub fn seed_demo_into(store: &mut Store) -> Result<Vec<ImportReport>, Failure> {
    store.set_meta("demo", "1")?;
    let opts = ImportOptions::new(now());
    let embedded = |(name, bytes): (&'static str, &'static [u8])| Source::Bytes {
        name: name.to_string(),
        bytes: std::borrow::Cow::Borrowed(bytes),
    };
    let mut reports = vec![
        import::catalog::import(store, &[embedded(DEMO_CATALOG)], &opts)?,
        import::users::import(store, &[embedded(DEMO_USERS)], &opts)?,
    ];
    let returns: Vec<Source> = DEMO_RETURNS.iter().map(|r| embedded(*r)).collect();
    reports.push(import::returns::import(store, &returns, &opts)?);
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
    let speak = lang_of(cli, config);
    for r in &reports {
        println!("{}", words::say::import_summary(speak, r));
    }
    let shown = crate::store::central::shown(&path.display().to_string());
    println!("{}", words::say::demo_ready(speak, &shown));
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        println!("{}", words::say::demo_not_a_terminal(speak, &shown));
        return Ok(());
    }
    station(config, &path, None, lang)?;
    // The same database stays for the command line.
    println!("{}", words::say::demo_stays(speak, &shown));
    Ok(())
}

/// The demo sheet (`labels demo`) from `--db` if given, else from the database `demo` leaves
/// here, else from a demo seeded for the purpose in a temporary directory and removed after:
/// the sample data is the same, so its barcodes are the ones the next `demo` expects.
fn demo_sheet(db: Option<&Path>, out: &Path) -> Result<(), Failure> {
    let format = page_format(out)?;
    let here = PathBuf::from("returns-dock-demo.db");
    let (path, scratch) = match db {
        Some(p) => (p.to_path_buf(), None),
        None if here.exists() => (here, None),
        None => {
            let dir = std::env::temp_dir().join(format!("returns-dock-demo-sheet-{}", std::process::id()));
            std::fs::create_dir_all(&dir)
                .map_err(|e| Failure::Unusable(format!("{}: cannot create: {e}", dir.display())))?;
            (dir.join("demo.db"), Some(dir))
        }
    };
    let made = (|| {
        if scratch.is_some() {
            seed_demo(&path)?;
        }
        let store = Store::open_existing(&path)?;
        let e = |err| Failure::from(store_err(&path, err));
        if !store.is_demo().map_err(e)? {
            return Err(Failure::Refused.log(format!(
                "{}: not a demo database (made by returns-dock demo); the demo sheet lists only a demo's parcels",
                path.display()
            )));
        }
        let waiting = store.demo_waiting(None).map_err(e)?;
        let badges = demo_badges(&store).map_err(e)?;
        crate::labels::layout::demo_sheet(&badges, &waiting)
            .map(|(page, shown)| (page, shown, waiting.len()))
            .map_err(|b| Failure::Refused.log(b.to_string()))
    })();
    if let Some(dir) = scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    let (page, shown, waiting) = made?;
    let bytes = match format {
        LabelFormat::Png => crate::labels::raster::png(&page, crate::labels::raster::SHEET_PX_PER_MM),
        _ => crate::labels::svg::render(&page).into_bytes(),
    };
    write_file(out, bytes)?;
    println!("demo sheet written to {}: {shown} of {waiting} parcels still to come", out.display());
    Ok(())
}

/// The demo's two badges, operator and supervisor, with the supervisor's PIN from the sample
/// users the demo was seeded with (the database keeps only its hash).
pub fn demo_badges(store: &Store) -> crate::store::DbResult<Vec<crate::labels::layout::SheetBadge>> {
    use crate::domain::codes::{Coded, Role};
    let mut pins = std::collections::HashMap::new();
    let mut users = csv::Reader::from_reader(DEMO_USERS.1);
    let headers = users.headers().cloned().unwrap_or_default();
    let at = |name: &str| headers.iter().position(|h| h == name);
    if let (Some(id), Some(pin)) = (at("id"), at("pin")) {
        for row in users.records().flatten() {
            if let (Some(i), Some(p)) = (row.get(id), row.get(pin).filter(|p| !p.is_empty())) {
                pins.insert(i.to_string(), p.to_string());
            }
        }
    }
    let mut out = Vec::new();
    for id in ["DEMO", "SUP1"] {
        if let Some(u) = store.find_user(id)? {
            let role = if u.role == Role::Supervisor { Role::Supervisor } else { Role::Operator };
            out.push(crate::labels::layout::SheetBadge {
                pin: pins.get(&u.id).filter(|_| role == Role::Supervisor).cloned(),
                id: u.id,
                name: u.name,
                role_en: role.en().to_string(),
                role_zh: role.zh().to_string(),
            });
        }
    }
    Ok(out)
}

/// How many of the newest audit entries the station checks at start.
const TAIL_CHECKED: i64 = 1000;

/// The scanning station on `db`, until the operator quits.
fn station(config: &Config, db: &Path, id: Option<&str>, lang: Option<Lang>) -> Result<(), Failure> {
    use crate::station::{app::App, exec::Executor, text};
    let id = id.unwrap_or(&config.station).trim().to_string();
    crate::config::check_station_id(&id).map_err(|m| Failure::Usage(format!("--station: {m}")))?;
    let lang = match lang {
        Some(Lang::Zh) => text::Lang::Zh,
        Some(Lang::En) => text::Lang::En,
        None => text::Lang::parse(&config.language),
    };
    let store = Store::open(db)?;
    let policy = crate::store::station::Policy {
        refusal_above_cents: (config.policy.review_refusal_above * 100.0).round() as i64,
        refusals_per_parcel: config.policy.review_refusals_per_parcel as usize,
        await_boxes_days: config.policy.await_boxes_days,
        photos: config.photos.required(),
    };
    let mut app = App::new(&id, lang, config.scanner.bell, config.scanner.auto_accept_matched);
    app.policy = policy;
    let dock = config.dock_name();
    app.dock_name = dock.clone();
    if store.meta("demo")?.as_deref() == Some("1") {
        app.demo_badges = Some(text::t(lang, text::T::DemoBadges).to_string());
    }
    app.double_read = std::time::Duration::from_millis(config.scanner.double_read_ms.into());
    app.zone = *chrono::Local::now().offset();
    // `RETURNS_DOCK_SUPERVISOR_IDLE_MS` shortens the idle time, in milliseconds (for tests); it
    // can never make a session last longer than the configuration says.
    let configured = std::time::Duration::from_secs(u64::from(config.security.supervisor_idle_minutes) * 60);
    app.supervisor_idle = std::env::var("RETURNS_DOCK_SUPERVISOR_IDLE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(std::time::Duration::from_millis)
        .map_or(configured, |shorter| shorter.min(configured));
    // The newest stretch of the audit log is checked at every start: an edit behind the program
    // is said on the first screen, not found months later.
    let tail = store.verify_audit_tail(TAIL_CHECKED).map_err(|e| Failure::from(store.err(e)))?;
    if let Some(problem) = &tail {
        app.log_broken = true;
        app.band = Some(crate::station::app::Band {
            tone: crate::station::app::Tone::Error,
            text: text::say::log_broken(lang, problem),
        });
    }
    let inbox = match &config.photos.inbox {
        // `{station}` in the folder's name: one configuration for several stations on a
        // machine, each with its own camera.
        Some(dir) => {
            let named = dir.to_string_lossy();
            if named.contains("{station}") && (id.contains(['/', '\\']) || id.starts_with('.')) {
                return Err(Failure::Usage(format!(
                    "--station {id}: a station whose id goes into the camera folder's path ([photos] inbox) \
                     may not hold / or \\ or begin with ."
                )));
            }
            let dir = &PathBuf::from(named.replace("{station}", &id));
            // A folder the camera's software has not made yet is made, private; one it made is
            // left as it is.
            if !dir.exists() {
                crate::files::private_folder(dir).map_err(|e| {
                    Failure::Unusable(format!(
                        "[photos] inbox {}: cannot make the folder: {e}",
                        dir.display()
                    ))
                })?;
            }
            // The camera's folder is the camera's: never where the database or its photos are
            // kept (what is taken from it is moved out of it).
            let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
                (Ok(a), Ok(b)) => a == b,
                _ => false,
            };
            let db_folder = match store.folder() {
                f if f.as_os_str().is_empty() => PathBuf::from("."),
                f => f,
            };
            let kept = store.photo_folder().filter(|f| same(dir, f)).is_some();
            if kept || !store.is_central() && same(dir, &db_folder) {
                return Err(Failure::Unusable(format!(
                    "[photos] inbox {}: that is where {} kept; give the camera a folder of its own",
                    dir.display(),
                    if kept { "the photos are" } else { "the database is" }
                )));
            }
            let settle = std::time::Duration::from_millis(config.photos.settle_ms.into());
            let inbox = crate::evidence::inbox::Inbox::new(dir.clone(), settle);
            // One camera folder, one station: two would each take what appears, for their own unit.
            let inbox = inbox.claimed().map_err(|e| {
                Failure::Unusable(format!(
                    "[photos] inbox {}: {e}; give each station its own folder (`{{station}}` in the path)",
                    dir.display()
                ))
            })?;
            Some(inbox)
        }
        None => None,
    };
    // One station id, one running station.
    let claim = store.claim_station(&id, now()).map_err(|e| Failure::from(store.err(e)))?;
    let claim = claim.map_err(|holder| {
        Failure::Unusable(format!(
            "station {id} is already running ({holder}): start this one with another --station, or quit that one"
        ))
    })?;
    let log = store.folder().join("returns-dock.log");
    let mut exec = Executor::new(store, &id, Box::new(now)).with_log(log);
    exec.dock = dock;
    if let Some(problem) = tail {
        exec.log_line(None, &format!("audit log check at start failed: {problem}"));
    }
    exec.pin_rules = config.security.pin_rules();
    exec.policy = policy;
    exec.late_after_days = config.policy.late_after_days;
    // Sounds of their own for an OK and for an error, as a dock's scanners often have.
    app.ok_sound = config.scanner.ok_sound.is_some();
    app.error_sound = config.scanner.error_sound.is_some();
    exec.zpl_font = config.label.zpl_font.clone();
    exec.sounds = crate::station::exec::Sounds {
        ok: config.scanner.ok_sound.clone(),
        error: config.scanner.error_sound.clone(),
    };
    exec.viewer = config.photos.viewer.clone();
    app.viewer_on = exec.viewer.is_some();
    if let Some(inbox) = inbox {
        app.photos_on = true;
        app.photos_dir = inbox.dir().display().to_string();
        exec.inbox = Some(inbox);
    }
    if let Some(printer) = crate::labels::printer::Printer::from_config(&config.printer) {
        let retry = std::time::Duration::from_secs(10);
        exec = exec.with_printer_within(printer, config.label.size(), retry, config.printer.timeout());
    }
    let ran =
        crate::station::run(&mut app, &mut exec).map_err(|e| Failure::Unusable(format!("terminal: {e}")));
    let _ = exec.store.finish_work(claim);
    ran
}

/// The PIN of supervisor `by`: `--pin` (with a warning: other users see it in `ps`), else
/// `RETURNS_DOCK_PIN`, else typed at a prompt without echo when on a terminal.
fn supervisor_pin(by: &str, given: Option<String>) -> Result<String, Failure> {
    if let Some(pin) = given {
        eprintln!(
            "returns-dock: warning: a PIN given on the command line is visible to other users of this \
             machine (ps); type it at the prompt or set RETURNS_DOCK_PIN"
        );
        return Ok(pin);
    }
    if let Some(pin) = std::env::var("RETURNS_DOCK_PIN").ok().filter(|p| !p.is_empty()) {
        return Ok(pin);
    }
    if std::io::stdin().is_terminal() {
        return read_hidden(&format!("PIN for {by}: "));
    }
    Err(Failure::Usage(format!("the PIN of {by} is needed: type it on a terminal, or set RETURNS_DOCK_PIN")))
}

/// A line typed on the terminal without echo (a PIN), the prompt on stderr.
fn read_hidden(prompt: &str) -> Result<String, Failure> {
    use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
    let mut err = std::io::stderr();
    let _ = write!(err, "{prompt}");
    let _ = err.flush();
    let fail = |e: std::io::Error| Failure::Unusable(format!("cannot read the PIN from the terminal: {e}"));
    crossterm::terminal::enable_raw_mode().map_err(fail)?;
    let mut typed = String::new();
    let result = loop {
        match event::read() {
            Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => match k.code {
                KeyCode::Enter => break Ok(typed),
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                    break Err(Failure::Usage("no PIN given".into()))
                }
                KeyCode::Esc => break Err(Failure::Usage("no PIN given".into())),
                KeyCode::Backspace => {
                    typed.pop();
                }
                KeyCode::Char(c) => typed.push(c),
                _ => {}
            },
            Ok(_) => {}
            Err(e) => break Err(fail(e)),
        }
    };
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = writeln!(err);
    result
}

/// Proves supervisor `by` with their PIN, counting a wrong one (see `store::auth`). A wrong or
/// locked PIN is a refusal (exit 1), said on stderr.
fn prove(
    store: &mut Store,
    config: &Config,
    by: &str,
    given: Option<String>,
) -> Result<crate::store::auth::Proven, Failure> {
    let id = store.user_id_of(by).map_err(|e| Failure::from(store.err(e)))?;
    let pin = supervisor_pin(&id, given)?;
    let rules = config.security.pin_rules();
    let checked = store
        .check_pin(&id, pin.trim(), Some("cli"), now(), &rules)
        .map_err(|e| Failure::from(store.err(e)))?;
    checked.map_err(|refusal| {
        eprintln!("returns-dock: {refusal}");
        Failure::Refused
    })
}

fn review(
    db: &Path,
    config: &Config,
    action: &ReviewAction,
    lang: crate::domain::codes::Lang,
) -> Result<(), Failure> {
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
        ReviewAction::List { format, dock } => {
            known_dock(&store, dock.as_deref())?;
            store.close_overdue(now(), config.policy.await_boxes_days).map_err(e)?;
            let items = store.open_reviews_at(dock.as_deref()).map_err(e)?;
            match format {
                ListFormat::Json => {
                    let mut json = serde_json::to_value(&items).unwrap_or_default();
                    crate::domain::text::json_in_file(&mut json);
                    println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default())
                }
                ListFormat::Text => {
                    let zone = *chrono::Local::now().offset();
                    let mut out = std::io::stdout().lock();
                    for i in &items {
                        for line in words::say::review_item(lang, i, zone) {
                            let _ = writeln!(out, "{line}");
                        }
                    }
                    let _ = writeln!(out, "{}", words::say::reviews_waiting(lang, items.len()));
                }
            }
            Ok(())
        }
        ReviewAction::Decide { id, decision, by, pin, comment, outcome, grade } => {
            let decision = match decision {
                DecisionArg::Confirm => Decision::Confirm,
                DecisionArg::Overturn => Decision::Overturn { outcome: *outcome, grade: *grade },
            };
            let who = prove(&mut store, config, by, pin.clone())?;
            let sup = Supervisor { who: &who, station: None };
            let r = store.decide(sup, *id, &decision, comment.as_deref(), now()).map_err(e)?;
            done(r, words::say::decided(lang, *id, decision == Decision::Confirm, who.id()))
        }
        ReviewAction::Link { id, rma, by, pin } => {
            let who = prove(&mut store, config, by, pin.clone())?;
            let sup = Supervisor { who: &who, station: None };
            let r = store.link(sup, *id, rma, now()).map_err(e)?;
            done(r, words::say::linked(lang, *id, rma, who.id()))
        }
    }
}

fn store_err(db: &Path, e: crate::store::DbError) -> StoreError {
    crate::store::classify_db(&crate::store::central::shown(&db.display().to_string()), e)
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
            let found = store.find_user(user).map_err(|e| Failure::from(store_err(db, e)))?;
            let Some(u) = found else { return Err(Failure::Refused.log(format!("no user {user}"))) };
            let role = if u.role == Role::Supervisor { Role::Supervisor } else { Role::Operator };
            let page = layout::badge(&u.id, &u.name, role.en(), role.zh()).map_err(barcode_err)?;
            write_file(out, draw(page, format, raster::SHEET_PX_PER_MM))?;
            println!("badge of {} written to {}", u.id, out.display());
            Ok(())
        }
        LabelsWhat::Demo { out } => demo_sheet(Some(db), out),
        LabelsWhat::Unit { unit_id, format, out, print } => {
            // The file's name says what it holds: a ZPL label is never written as `x.png`.
            let named = out.as_deref().and_then(|o| page_format(o).ok());
            let format = &match (*format, named) {
                (Some(f), Some(n)) if f != n => {
                    let o = out.as_deref().unwrap_or(Path::new("")).display();
                    return Err(Failure::Usage(format!(
                        "--out {o} is named for another format than --format gives"
                    )));
                }
                (Some(f), _) => f,
                (None, Some(n)) => n,
                (None, None) => LabelFormat::Zpl,
            };
            if *format == LabelFormat::Png && out.is_none() && !*print {
                return Err(Failure::Usage("a PNG label needs --out FILE".into()));
            }
            let id = unit_id.parse::<ids::UnitId>().map_err(Failure::Usage)?.0;
            let store = Store::open_existing(db)?;
            let facts = store.unit_facts(id).map_err(|e| Failure::from(store_err(db, e)))?;
            let Some(f) = facts else {
                return Err(Failure::Refused.log(format!("no unit {unit_id}")));
            };
            let label = zpl::UnitLabel::of(id, f);
            let size = config.label.size();
            let bytes = match format {
                LabelFormat::Zpl => {
                    zpl::unit_label_in(&label, size, config.label.zpl_font.as_deref()).into_bytes()
                }
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
/// `audit verify` and `audit show`.
/// `db copy`: the file's history into a central database, with each table's count said.
fn db_copy(from: &Path, to: &str) -> Result<(), Failure> {
    use crate::store::central::{self, Central};
    if !central::is_address(to) {
        return Err(Failure::Usage(format!("--to {to}: not a central database address (postgresql://…)")));
    }
    let store = Store::open_existing(from)?;
    let central = Central::open(to)?;
    let shown = central.address().to_string();
    let db = central.into_sql()?;
    let copied =
        crate::store::copy::copy(&store, &db, &shown).map_err(|e| Failure::Refused.log(e.to_string()))?;
    for (table, n) in &copied.tables {
        println!("{table}: {n}");
    }
    println!("{} rows copied from {} into {shown}; counts checked", copied.rows(), from.display());
    Ok(())
}

fn db_grants(db: Option<&Path>, role: &str, apply: bool) -> Result<(), Failure> {
    use crate::store::central::{self, Central};
    let sql = central::grants(role).map_err(Failure::Usage)?;
    if !apply {
        print!("{sql}");
        return Ok(());
    }
    let url = db.map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    if !central::is_address(&url) {
        return Err(Failure::Usage(
            "--apply gives the grants on a central database: --db postgresql://…".into(),
        ));
    }
    let central = Central::open(&url)?;
    central.grant(role)?;
    println!(
        "{}: role {role} may run the stations and commands; the history is only added to",
        central.address()
    );
    Ok(())
}

fn audit(db: &Path, what: &AuditWhat, lang: crate::domain::codes::Lang) -> Result<(), Failure> {
    use crate::domain::text::on_screen;
    use crate::store::chain;
    let store = Store::open_existing(db)?;
    let e = |err| Failure::from(store_err(db, err));
    match what {
        AuditWhat::Verify => {
            let verdict = store.verify_audit().map_err(e)?;
            if verdict.ok() {
                println!("{}", words::say::audit_intact(lang, &verdict));
                return Ok(());
            }
            for p in &verdict.problems {
                eprintln!("{}: {}", db.display(), p);
            }
            eprintln!("{}", verdict.summary());
            Err(Failure::Refused)
        }
        AuditWhat::Show { parcel, unit } => {
            let record = match (parcel, unit) {
                (Some(p), _) => chain::Record::Parcel(*p),
                (_, Some(u)) => chain::Record::Unit(*u),
                _ => return Err(Failure::Usage("audit show needs --parcel or --unit".into())),
            };
            let entries = store.history(&record).map_err(e)?;
            let zone = *Local::now().offset();
            for x in &entries {
                println!(
                    "#{} {} {} {} {} {} {}",
                    x.id,
                    crate::station::app::short_time(&x.at, zone),
                    on_screen(x.station.as_deref().unwrap_or("-")),
                    on_screen(x.actor.as_deref().unwrap_or("-")),
                    x.action,
                    on_screen(x.subject.as_deref().unwrap_or("")),
                    on_screen(x.detail.as_deref().unwrap_or(""))
                );
            }
            println!("{} entries", entries.len());
            Ok(())
        }
    }
}

// Ids as printed (`P12`, `U00000004`, `R3`, `b0007`) or bare: `domain::ids`.
fn parcel_id(text: &str) -> Result<i64, String> {
    text.parse::<ids::ParcelId>().map(|id| id.0)
}

fn unit_id(text: &str) -> Result<i64, String> {
    text.parse::<ids::UnitId>().map(|id| id.0)
}

fn batch_id(text: &str) -> Result<i64, String> {
    text.parse::<ids::BatchId>().map(|id| id.0)
}

/// A supplier's name as given on the command line: trimmed, never empty.
fn supplier_name(text: &str) -> Result<String, String> {
    match text.trim() {
        "" => Err("a supplier's name, as the catalog names it (or NO-SUPPLIER)".into()),
        name => Ok(name.to_string()),
    }
}

/// A dock's name as given on the command line: trimmed, never empty.
fn dock_name(text: &str) -> Result<String, String> {
    match text.trim() {
        "" => Err("a dock's name, as its stations' configuration gives it".into()),
        name => Ok(name.to_string()),
    }
}

fn review_id(text: &str) -> Result<i64, String> {
    text.parse::<ids::ReviewId>().map(|id| id.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command of the tree, with its path (`review decide`).
    fn every_command() -> Vec<(String, clap::Command)> {
        fn walk(path: String, cmd: &clap::Command, out: &mut Vec<(String, clap::Command)>) {
            // `help` is clap's own, without options.
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                walk(format!("{path} {}", sub.get_name()), sub, out);
            }
            out.push((path, cmd.clone()));
        }
        let mut cmd = command();
        cmd.build();
        let mut out = Vec::new();
        walk("returns-dock".into(), &cmd, &mut out);
        out
    }

    #[test]
    fn every_option_and_argument_of_every_command_says_what_it_is() {
        let mut silent = Vec::new();
        for (path, cmd) in every_command() {
            for arg in cmd.get_arguments() {
                let said =
                    arg.get_help().or(arg.get_long_help()).is_some_and(|h| !h.to_string().trim().is_empty());
                if !said {
                    silent.push(format!("{path}: {}", arg.get_id()));
                }
            }
        }
        assert!(silent.is_empty(), "arguments without help text: {silent:?}");
    }

    #[test]
    fn the_shared_options_come_first_in_every_commands_help() {
        for (path, cmd) in every_command() {
            let mut options: Vec<&clap::Arg> = cmd.get_arguments().filter(|a| !a.is_positional()).collect();
            options.sort_by_key(|a| a.get_display_order());
            let first: Vec<String> = options.iter().take(3).map(|a| a.get_id().to_string()).collect();
            assert_eq!(first, ["db", "config", "lang"], "{path}");
        }
    }

    #[test]
    fn values_parsed_by_hand_are_listed_and_keep_their_spellings() {
        let (_, decide) =
            every_command().into_iter().find(|(p, _)| p == "returns-dock review decide").unwrap();
        let outcome = decide.get_arguments().find(|a| a.get_id() == "outcome").unwrap();
        let listed: Vec<String> =
            outcome.get_possible_values().iter().map(|v| v.get_name().to_string()).collect();
        assert_eq!(listed, ["accept", "second_hand", "scrap", "return_to_supplier", "refuse"]);
        let cli = Cli::try_parse_from([
            "returns-dock",
            "review",
            "decide",
            "R3",
            "overturn",
            "--by",
            "OP-SUP1",
            "--outcome",
            "Second-Hand",
            "--grade",
            "c",
        ])
        .unwrap();
        let Some(Command::Review { action: ReviewAction::Decide { id, outcome, grade, .. } }) = cli.command
        else {
            panic!("{cli:?}")
        };
        assert_eq!((id, outcome, grade), (3, Outcome::SecondHand, Some(Grade::C)));
        let cli = Cli::try_parse_from([
            "returns-dock",
            "users",
            "add",
            "--id",
            "X",
            "--name",
            "N",
            "--role",
            "主管",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Users { action: UsersAction::Add { role: Some(Role::Supervisor), .. } })
        ));
    }

    #[test]
    fn the_station_starts_with_or_without_its_word() {
        let bare = Cli::try_parse_from(["returns-dock", "--station", "ST02", "--lang", "zh"]).unwrap();
        assert_eq!(
            (bare.station.as_deref(), bare.lang, bare.command.is_none()),
            (Some("ST02"), Some(Lang::Zh), true)
        );
        let worded =
            Cli::try_parse_from(["returns-dock", "station", "--station", "ST02", "--lang", "zh"]).unwrap();
        assert!(matches!(worded.command, Some(Command::Station { station: Some(ref s) }) if s == "ST02"));
        assert_eq!(worded.lang, Some(Lang::Zh), "the global --lang is taken after the word too");
    }

    #[test]
    fn a_bad_date_says_the_form_it_expects() {
        let e =
            Cli::try_parse_from(["returns-dock", "report", "feedback", "--from", "2026-13-01"]).unwrap_err();
        assert!(e.to_string().contains("the form is YYYY-MM-DD"), "{e}");
    }
}
