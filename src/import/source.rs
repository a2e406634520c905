//! Where an import reads from: a file, or bytes in memory (the demo's data built into the
//! program, or a test's input).

use super::table::{self, FieldSpec, Table};
use super::{Problem, Progress};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    /// A sheet of a workbook (named when it was given or could be read, else the first).
    Workbook {
        path: PathBuf,
        sheet: Option<String>,
    },
    /// Bytes named as a file would be (the extension tells the format).
    Bytes {
        name: String,
        bytes: std::borrow::Cow<'static, [u8]>,
    },
}

impl Source {
    /// A workbook's sheet `sheet` (None: the first it shows, looked up now so that every
    /// message names it: `returns.xlsx!Sheet1:12: ...`).
    pub fn workbook(path: &Path, sheet: Option<&str>) -> Source {
        let sheet = sheet
            .map(String::from)
            .or_else(|| super::table::open_book(path).ok().and_then(|b| super::table::first_shown_sheet(&b)));
        Source::Workbook { path: path.to_path_buf(), sheet }
    }

    /// How the source is named in messages.
    pub fn display(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Workbook { path, sheet: Some(s) } => format!("{}!{s}", path.display()),
            Source::Workbook { path, sheet: None } => path.display().to_string(),
            Source::Bytes { name, .. } => name.clone(),
        }
    }

    pub fn open(&self, fields: &'static [FieldSpec], progress: &Progress) -> Result<Table, Problem> {
        match self {
            Source::File(p) => table::open(p, &self.display(), fields, progress),
            Source::Workbook { path, sheet } => {
                table::workbook(path, sheet.as_deref(), fields).map(|(t, _)| t)
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
