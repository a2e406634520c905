//! Where an import reads from: a file, or bytes in memory (the demo's data built into the
//! program, or a test's input).

use super::table::{self, FieldSpec, Table};
use super::{Problem, Progress};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    /// Bytes named as a file would be (the extension tells the format).
    Bytes {
        name: String,
        bytes: std::borrow::Cow<'static, [u8]>,
    },
}

impl Source {
    /// How the source is named in messages.
    pub fn display(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Bytes { name, .. } => name.clone(),
        }
    }

    pub fn open(&self, fields: &'static [FieldSpec], progress: &Progress) -> Result<Table, Problem> {
        match self {
            Source::File(p) => table::open(p, &self.display(), fields, progress),
            Source::Bytes { name, bytes } => table::from_bytes(bytes.clone(), name, name, fields),
        }
    }

    /// The file beside which `.rejected.csv` goes.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Source::File(p) => Some(p),
            Source::Bytes { .. } => None,
        }
    }
}
