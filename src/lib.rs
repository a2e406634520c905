//! returns-dock: the returns dock of an e-commerce warehouse.
//!
//! Data flows one way:
//! - [`domain`]: pure types and rules (scan grammar, check digits, money, codes). No IO.
//! - [`store`]: the only module that speaks SQL: opening, migrations, queries.
//! - [`import`]: files in (CSV/TSV/JSON/JSON Lines, encodings, header aliases, validation).
//! - [`gen`]: deterministic synthetic data for demos and benchmarks.
//! - [`evidence`]: photos (what a picture is, the camera folder, the evidence bundle).
//! - [`files`]: who may read the files the program creates (0600, or 0640).
//! - [`cli`]: the command line, which calls into the modules above.

pub mod cli;
pub mod config;
pub mod domain;
pub mod evidence;
pub mod export;
pub mod files;
pub mod gen;
pub mod import;
pub mod labels;
pub mod station;
pub mod store;
