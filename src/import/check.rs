//! Checks on single values, shared by the imports. Each returns the value as stored or the
//! reason it was refused, worded for the person who will fix the file.

use crate::domain::gtin::{Gtin, GtinError};
use crate::domain::money::parse_cents;
use crate::domain::text::on_screen;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use unicode_normalization::UnicodeNormalization;

/// Identifiers (RMA, order, tracking, SKU, serial) are matched against scans, so they are
/// folded (NFKC: full-width digits become ASCII) and must be printable and short.
pub const MAX_ID_LEN: usize = 100;
/// Free text (titles, reasons, names) is kept as given, up to this length.
pub const MAX_TEXT_LEN: usize = 2000;
pub const MAX_QTY: i64 = 100_000;

pub fn identifier(field: &str, v: &str) -> Result<String, String> {
    // ASCII is its own NFKC form: the usual case skips the Unicode tables.
    let v: String =
        if v.is_ascii() { v.trim().to_string() } else { v.nfkc().collect::<String>().trim().to_string() };
    if v.chars().any(char::is_control) {
        return Err(format!("{field} contains control characters"));
    }
    if v.chars().count() > MAX_ID_LEN {
        return Err(format!("{field} is {} characters long (at most {MAX_ID_LEN})", v.chars().count()));
    }
    Ok(v)
}

pub fn required_identifier(field: &str, v: &str) -> Result<String, String> {
    let v = identifier(field, v)?;
    if v.is_empty() {
        return Err(format!("{field} is missing"));
    }
    Ok(v)
}

pub fn text(field: &str, v: &str) -> Result<Option<String>, String> {
    if v.contains('\0') {
        return Err(format!("{field} contains a NUL byte"));
    }
    let n = v.chars().count();
    if n > MAX_TEXT_LEN {
        return Err(format!("{field} is {n} characters long (at most {MAX_TEXT_LEN})"));
    }
    // A quoted field may hold line breaks, but one whose later lines read like rows of the
    // table swallowed them: a quote left open.
    let looks_like_rows =
        v.lines().skip(1).any(|l| [',', '\t', ';'].iter().any(|d| l.matches(*d).count() >= 2));
    if looks_like_rows {
        return Err(format!(
            "{field} runs over several lines that look like further rows: is a quote left open on this line?"
        ));
    }
    Ok((!v.is_empty()).then(|| v.to_string()))
}

/// A positive whole number; `2.0` (as spreadsheets write it) is 2.
pub fn quantity(v: &str) -> Result<i64, String> {
    if v.is_empty() {
        return Ok(1);
    }
    let whole = match v.split_once('.') {
        Some((w, f)) if !f.is_empty() && f.bytes().all(|b| b == b'0') => w,
        Some(_) => return Err(format!("quantity \"{}\" is not a whole number", on_screen(v))),
        None => v,
    };
    match whole.parse::<i64>() {
        Ok(q) if q > MAX_QTY => Err(format!("quantity {q} is implausibly large (at most {MAX_QTY})")),
        Ok(q) if q > 0 => Ok(q),
        Ok(q) => Err(format!("quantity {q} must be at least 1")),
        Err(_) => Err(format!("quantity \"{}\" is not a positive whole number", on_screen(v))),
    }
}

/// How many boxes one unit of a product comes in: 1 (empty) to 20.
pub fn boxes(v: &str) -> Result<i64, String> {
    match quantity(v) {
        Ok(n) if n <= 20 => Ok(n),
        Ok(n) => Err(format!("boxes {n} is more than 20 for one unit")),
        Err(e) => Err(e.replace("quantity", "boxes")),
    }
}

pub fn amount(field: &str, v: &str) -> Result<Option<i64>, String> {
    if v.is_empty() {
        return Ok(None);
    }
    parse_cents(v).map(Some).map_err(|e| format!("{field} \"{}\" {e}", on_screen(v)))
}

/// A date and time as after-sales exports write them, stored as RFC 3339 with its offset. A
/// time written without an offset is taken in `local`.
pub fn datetime(v: &str, local: FixedOffset) -> Result<Option<String>, String> {
    if v.is_empty() {
        return Ok(None);
    }
    let out = |d: DateTime<FixedOffset>| Some(d.to_rfc3339_opts(chrono::SecondsFormat::Secs, false));
    if let Some(n) = plain_datetime(v) {
        return local.from_local_datetime(&n).single().map(out).ok_or_else(|| bad_date(v));
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(v) {
        return Ok(out(d));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S %z"]
    {
        if let Ok(d) = DateTime::parse_from_str(v, f) {
            return Ok(out(d));
        }
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(v, f) {
            return local.from_local_datetime(&n).single().map(out).ok_or_else(|| bad_date(v));
        }
    }
    for f in ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(v, f) {
            let n = d.and_hms_opt(0, 0, 0).ok_or_else(|| bad_date(v))?;
            return local.from_local_datetime(&n).single().map(out).ok_or_else(|| bad_date(v));
        }
    }
    Err(bad_date(v))
}

/// `YYYY-MM-DD HH:MM:SS`, the commonest form, read without a format string.
fn plain_datetime(v: &str) -> Option<NaiveDateTime> {
    let b = v.as_bytes();
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?.and_hms_opt(
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    )
}

fn bad_date(v: &str) -> String {
    format!(
        "date \"{}\" is not a date (expected e.g. 2026-11-20 14:30:00 or 2026-11-20T14:30:00+08:00)",
        on_screen(v)
    )
}

/// A product barcode as stored: a 14-digit GTIN when it is one, else the code in upper case.
/// A GTIN-shaped number with a wrong check digit is refused: it could never match a scan.
pub fn barcode(v: &str) -> Result<Option<String>, String> {
    let v = identifier("barcode", v)?;
    if v.is_empty() {
        return Ok(None);
    }
    if v.bytes().all(|b| b.is_ascii_digit()) && matches!(v.len(), 8 | 12 | 13 | 14) {
        return match Gtin::parse(&v) {
            Ok(g) => Ok(Some(g.as_str().to_string())),
            Err(GtinError::CheckDigit { expected }) => {
                Err(format!("barcode {v} is not a valid GTIN (its check digit should be {expected})"))
            }
            Err(GtinError::Shape) => Ok(Some(v)),
        };
    }
    if !v.is_ascii() {
        return Err(format!("barcode \"{}\" has characters a scanner cannot send", on_screen(&v)));
    }
    Ok(Some(v.to_ascii_uppercase()))
}

/// Several values in one cell, separated by `;`, `|` or line breaks.
pub fn split_list(v: &str) -> impl Iterator<Item = &str> {
    v.split([';', '|', '\n', '\r']).map(str::trim).filter(|s| !s.is_empty())
}

/// Serial numbers: scanned, so ASCII; unique within the line; no more than the quantity.
pub fn serials(v: &str, qty: i64) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for s in split_list(v) {
        let s = identifier("serial", s)?;
        if !s.is_ascii() {
            return Err(format!("serial \"{}\" has characters a scanner cannot send", on_screen(&s)));
        }
        if out.contains(&s) {
            return Err(format!("serial {s} is listed twice"));
        }
        out.push(s);
    }
    if out.len() as i64 > qty {
        return Err(format!("{} serials for a quantity of {qty}", out.len()));
    }
    Ok(out)
}

pub fn yes_no(field: &str, v: &str) -> Result<Option<bool>, String> {
    match v.trim().to_lowercase().as_str() {
        "" => Ok(None),
        "1" | "y" | "yes" | "true" | "是" | "x" => Ok(Some(true)),
        "0" | "n" | "no" | "false" | "否" => Ok(Some(false)),
        _ => Err(format!("{field} \"{}\" is not yes or no", on_screen(v))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cst() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    #[test]
    fn dates_in_the_forms_exports_use() {
        assert_eq!(datetime("2026-11-20 14:30:00", cst()).unwrap().unwrap(), "2026-11-20T14:30:00+08:00");
        assert_eq!(
            datetime("2026-11-20T06:30:00+00:00", cst()).unwrap().unwrap(),
            "2026-11-20T06:30:00+00:00"
        );
        assert_eq!(datetime("2026/11/20 14:30", cst()).unwrap().unwrap(), "2026-11-20T14:30:00+08:00");
        assert_eq!(datetime("2026-11-20", cst()).unwrap().unwrap(), "2026-11-20T00:00:00+08:00");
        assert!(datetime("20/11/2026", cst()).unwrap_err().contains("20/11/2026"));
        assert!(datetime("2026-02-30", cst()).is_err());
    }

    #[test]
    fn quantities() {
        assert_eq!(quantity(""), Ok(1));
        assert_eq!(quantity("3"), Ok(3));
        assert_eq!(quantity("2.0"), Ok(2));
        assert!(quantity("1.5").is_err());
        assert!(quantity("0").is_err());
        assert!(quantity("-2").is_err());
        assert!(quantity("4006381333931").unwrap_err().contains("implausibly"));
    }

    #[test]
    fn barcodes() {
        assert_eq!(barcode("4006381333931").unwrap().as_deref(), Some("04006381333931"));
        assert!(barcode("4006381333932").unwrap_err().contains("should be 1"));
        assert_eq!(barcode("abc-1").unwrap().as_deref(), Some("ABC-1"));
    }

    #[test]
    fn serial_lists() {
        assert_eq!(serials("A1; A2|A3", 3).unwrap(), vec!["A1", "A2", "A3"]);
        assert!(serials("A1;A2", 1).unwrap_err().contains("2 serials for a quantity of 1"));
        assert!(serials("A1;A1", 2).is_err());
    }
}

/// Collects the reasons a record is refused, so that every one is reported, not just the first.
#[derive(Default, Debug)]
pub struct Errors(pub Vec<String>);

impl Errors {
    pub fn take<T>(&mut self, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
