//! The returns an import has checked, kept on disk between its two passes: the first pass reads
//! and checks every file (no lock held) and writes each valid return here; the second reads
//! them back and writes them to the database in short transactions. Memory stays flat, and no
//! file is read or checked twice.
//!
//! The file is private (0600), in the temporary directory, and unlinked as soon as it is
//! created: nothing is left behind, even when the import is killed.

use crate::domain::codes::{Coded, Resolution};
use crate::store::{LineWrite, ReturnWrite};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::sync::atomic::{AtomicU64, Ordering};

/// A checked return as the second pass needs it.
pub struct Spooled {
    pub first_line: u64,
    pub hash: i64,
    pub write: ReturnWrite,
}

pub struct SpoolWriter {
    out: BufWriter<File>,
    pub returns: u64,
}

impl SpoolWriter {
    pub fn create() -> io::Result<SpoolWriter> {
        use std::os::unix::fs::OpenOptionsExt;
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir();
        let mut attempt = 0;
        let file = loop {
            let name = format!(
                "returns-dock-import-{}-{}-{attempt}.spool",
                std::process::id(),
                SEQ.fetch_add(1, Ordering::Relaxed)
            );
            let path = dir.join(name);
            match std::fs::OpenOptions::new().read(true).write(true).create_new(true).mode(0o600).open(&path)
            {
                Ok(f) => {
                    std::fs::remove_file(&path)?;
                    break f;
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
                Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", dir.display()))),
            }
        };
        Ok(SpoolWriter { out: BufWriter::with_capacity(1 << 20, file), returns: 0 })
    }

    pub fn put(&mut self, first_line: u64, hash: i64, r: &ReturnWrite) -> io::Result<()> {
        let o = &mut self.out;
        o.write_all(&first_line.to_le_bytes())?;
        o.write_all(&hash.to_le_bytes())?;
        put_str(o, &r.rma_no)?;
        put_str(o, &r.order_no)?;
        for s in [&r.tracking_no, &r.carrier, &r.customer, &r.phone, &r.reason, &r.requested_at] {
            put_opt(o, s.as_deref())?;
        }
        put_str(o, r.resolution.code())?;
        o.write_all(&(r.lines.len() as u32).to_le_bytes())?;
        for l in &r.lines {
            put_str(o, &l.sku)?;
            put_opt(o, l.barcode.as_deref())?;
            put_opt(o, l.title.as_deref())?;
            o.write_all(&l.qty.to_le_bytes())?;
            o.write_all(&(l.serials.len() as u32).to_le_bytes())?;
            for s in &l.serials {
                put_str(o, s)?;
            }
            match l.unit_value_cents {
                Some(v) => {
                    o.write_all(&[1])?;
                    o.write_all(&v.to_le_bytes())?;
                }
                None => o.write_all(&[0])?,
            }
        }
        self.returns += 1;
        Ok(())
    }

    /// Done writing: the returns, from the first.
    pub fn into_reader(self) -> io::Result<SpoolReader> {
        let returns = self.returns;
        let mut file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.rewind()?;
        Ok(SpoolReader { input: BufReader::with_capacity(1 << 20, file), left: returns })
    }
}

fn put_str(o: &mut impl Write, s: &str) -> io::Result<()> {
    o.write_all(&(s.len() as u32).to_le_bytes())?;
    o.write_all(s.as_bytes())
}

fn put_opt(o: &mut impl Write, s: Option<&str>) -> io::Result<()> {
    match s {
        Some(s) => {
            o.write_all(&[1])?;
            put_str(o, s)
        }
        None => o.write_all(&[0]),
    }
}

pub struct SpoolReader {
    input: BufReader<File>,
    left: u64,
}

impl SpoolReader {
    /// How many returns are left to read.
    pub fn returns(&self) -> u64 {
        self.left
    }

    fn u32(&mut self) -> io::Result<u32> {
        let mut b = [0; 4];
        self.input.read_exact(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn i64(&mut self) -> io::Result<i64> {
        let mut b = [0; 8];
        self.input.read_exact(&mut b)?;
        Ok(i64::from_le_bytes(b))
    }

    fn flag(&mut self) -> io::Result<bool> {
        let mut b = [0; 1];
        self.input.read_exact(&mut b)?;
        Ok(b[0] == 1)
    }

    fn string(&mut self) -> io::Result<String> {
        let mut bytes = vec![0; self.u32()? as usize];
        self.input.read_exact(&mut bytes)?;
        String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    fn opt(&mut self) -> io::Result<Option<String>> {
        if self.flag()? {
            self.string().map(Some)
        } else {
            Ok(None)
        }
    }

    fn next_return(&mut self) -> io::Result<Spooled> {
        let first_line = self.i64()? as u64;
        let hash = self.i64()?;
        let rma_no = self.string()?;
        let order_no = self.string()?;
        let (tracking_no, carrier, customer) = (self.opt()?, self.opt()?, self.opt()?);
        let (phone, reason, requested_at) = (self.opt()?, self.opt()?, self.opt()?);
        let resolution = Resolution::from_code(&self.string()?).unwrap_or(Resolution::Refund);
        let n = self.u32()? as usize;
        let mut lines = Vec::with_capacity(n);
        for _ in 0..n {
            let sku = self.string()?;
            let barcode = self.opt()?;
            let title = self.opt()?;
            let qty = self.i64()?;
            let serials = (0..self.u32()?).map(|_| self.string()).collect::<io::Result<Vec<_>>>()?;
            let unit_value_cents = if self.flag()? { Some(self.i64()?) } else { None };
            lines.push(LineWrite { sku, barcode, title, qty, serials, unit_value_cents });
        }
        let write = ReturnWrite {
            rma_no,
            order_no,
            tracking_no,
            carrier,
            customer,
            phone,
            reason,
            resolution,
            requested_at,
            lines,
        };
        Ok(Spooled { first_line, hash, write })
    }
}

impl Iterator for SpoolReader {
    type Item = io::Result<Spooled>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let item = self.next_return();
        if item.is_err() {
            self.left = 0;
        }
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_return_comes_back_as_it_went_in() {
        let r = ReturnWrite {
            rma_no: "R-1".into(),
            order_no: "订单-1".into(),
            tracking_no: Some("SF1".into()),
            carrier: None,
            customer: Some("张三".into()),
            phone: None,
            reason: Some(String::new()),
            resolution: Resolution::Exchange,
            requested_at: None,
            lines: vec![
                LineWrite {
                    sku: "A".into(),
                    barcode: None,
                    title: Some("t".into()),
                    qty: 3,
                    serials: vec!["s1".into(), "s2".into()],
                    unit_value_cents: Some(-5),
                },
                LineWrite {
                    sku: "B".into(),
                    barcode: Some("04006381333931".into()),
                    title: None,
                    qty: 1,
                    serials: vec![],
                    unit_value_cents: None,
                },
            ],
        };
        let mut w = SpoolWriter::create().unwrap();
        w.put(7, -42, &r).unwrap();
        w.put(9, 1, &r).unwrap();
        let back: Vec<Spooled> = w.into_reader().unwrap().map(Result::unwrap).collect();
        assert_eq!(back.len(), 2);
        assert_eq!((back[0].first_line, back[0].hash, &back[0].write), (7, -42, &r));
        assert_eq!((back[1].first_line, back[1].hash), (9, 1));
    }
}
