//! `FILE.rejected.csv`: the refused rows with the reason, in the canonical columns, so the file
//! can be corrected and imported again as it is (the two extra columns are ignored then).

use super::table::{FieldSpec, Row};
use std::path::{Path, PathBuf};

pub struct Rejected {
    path: PathBuf,
    tmp: PathBuf,
    writer: csv::Writer<std::fs::File>,
    /// The column of phone numbers, written masked as they would be stored.
    phone: Option<usize>,
    pub rows: u64,
}

impl Rejected {
    /// The rejected file for `source`, when the options ask for one (`--skip-invalid`, not a
    /// dry run) and the source is a file.
    pub fn for_source(
        source: &super::Source,
        fields: &[FieldSpec],
        opts: &super::ImportOptions,
    ) -> Option<Rejected> {
        let path = source.path().filter(|_| opts.skip_invalid && !opts.dry_run)?;
        Rejected::create(path, fields).ok()
    }

    pub fn create(source: &Path, fields: &[FieldSpec]) -> std::io::Result<Rejected> {
        let mut name = source.as_os_str().to_owned();
        name.push(".rejected.csv");
        let path = PathBuf::from(name);
        let mut tmp_name = path.as_os_str().to_owned();
        tmp_name.push(".tmp");
        let tmp = PathBuf::from(tmp_name);
        let mut writer = csv::Writer::from_path(&tmp)?;
        let mut header: Vec<&str> = fields.iter().map(|f| f.name).collect();
        header.extend(["source_line", "refused_because"]);
        writer.write_record(&header)?;
        let phone = fields.iter().position(|f| f.name == "phone");
        Ok(Rejected { path, tmp, writer, phone, rows: 0 })
    }

    pub fn write(
        &mut self,
        row: Option<&Row>,
        line: Option<u64>,
        reason: &str,
        width: usize,
    ) -> std::io::Result<()> {
        let mut record: Vec<String> = match row {
            Some(r) => r.values.clone(),
            None => vec![String::new(); width],
        };
        if let Some(p) = self.phone.and_then(|i| record.get_mut(i)) {
            *p = crate::domain::text::mask_phone(p);
        }
        record.push(line.map(|l| l.to_string()).unwrap_or_default());
        record.push(reason.to_string());
        // The rows come back to be corrected and imported again: as a file takes text.
        record.iter_mut().for_each(crate::domain::text::make_file_safe);
        self.rows += 1;
        self.writer.write_record(&record).map_err(std::io::Error::other)
    }

    /// Puts the file in place; returns its path.
    pub fn finish(mut self) -> std::io::Result<PathBuf> {
        self.writer.flush()?;
        self.writer.get_ref().sync_all()?;
        std::fs::rename(&self.tmp, &self.path)?;
        Ok(self.path)
    }
}
