//! Where an import reads from: a file, or bytes in memory (the demo's data built into the
//! program, or a test's input).

use super::table::{self, FieldSpec, Table};
use super::{Problem, Progress};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    /// A sheet of a workbook: `sheet` when it was given, else the first it shows, named in
    /// `shown` once the workbook is opened (opening it costs its shared strings: once only).
    Workbook {
        path: PathBuf,
        sheet: Option<String>,
        shown: std::sync::Arc<std::sync::OnceLock<String>>,
    },
    /// Bytes named as a file would be (the extension tells the format).
    Bytes {
        name: String,
        bytes: std::borrow::Cow<'static, [u8]>,
    },
}

impl Source {
    /// A workbook's sheet `sheet` (None: the first it shows, named in every message once the
    /// workbook is open: `returns.xlsx!Sheet1:12: ...`).
    pub fn workbook(path: &Path, sheet: Option<&str>) -> Source {
        Source::Workbook {
            path: path.to_path_buf(),
            sheet: sheet.map(String::from),
            shown: Default::default(),
        }
    }

    /// How the source is named in messages (a workbook's sheet once it is known).
    pub fn display(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Workbook { path, sheet, shown } => match sheet.as_ref().or(shown.get()) {
                Some(s) => format!("{}!{s}", path.display()),
                None => path.display().to_string(),
            },
            Source::Bytes { name, .. } => name.clone(),
        }
    }

    pub fn open(&self, fields: &'static [FieldSpec], progress: &Progress) -> Result<Table, Problem> {
        match self {
            Source::File(p) => table::open(p, &self.display(), fields, progress),
            Source::Workbook { path, sheet, shown } => {
                let (table, name) = table::workbook(path, sheet.as_deref(), fields)?;
                let _ = shown.set(name);
                Ok(table)
            }
            Source::Bytes { name, bytes } => table::from_bytes(bytes.clone(), name, name, fields),
        }
    }

    /// The file beside which `.rejected.csv` goes.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Source::File(p) | Source::Workbook { path: p, .. } => Some(p),
            Source::Bytes { .. } => None,
        }
    }
}
