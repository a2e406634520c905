//! Where an import reads from: a file, or bytes built into the program (the demo's data).

use super::table::{self, FieldSpec, Table};
use super::{Problem, Progress};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    Embedded { name: &'static str, bytes: &'static [u8] },
}

impl Source {
    /// How the source is named in messages.
    pub fn display(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Embedded { name, .. } => name.to_string(),
        }
    }

    pub fn open(&self, fields: &'static [FieldSpec], progress: &Progress) -> Result<Table, Problem> {
        match self {
            Source::File(p) => table::open(p, &self.display(), fields, progress),
            Source::Embedded { name, bytes } => table::from_bytes(bytes, name, name, fields),
        }
    }

    /// The file beside which `.rejected.csv` goes.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Source::File(p) => Some(p),
            Source::Embedded { .. } => None,
        }
    }
}
