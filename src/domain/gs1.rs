//! GS1 element strings: the data of a GS1-128, GS1 DataMatrix or GS1 QR code, a run of
//! application identifiers (AIs) each followed by its value.
//!
//! Fixed-length values end where their length says; variable ones end at the group separator
//! (GS, 0x1D) or at the end. When a GS was lost between two variable fields the two cannot be
//! told apart, so a value longer than its AI allows is refused instead of guessed at.

use super::gtin::{has_valid_gs1_check, Gtin};
use chrono::NaiveDate;
use std::fmt;

/// The group separator that ends a variable-length value.
pub const GS: char = '\u{1d}';

/// One parsed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub ai: String,
    pub value: String,
}

/// A whole element string, in the order it was read, with the values a dock uses pulled out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ElementString {
    pub elements: Vec<Element>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gs1Error {
    /// An AI this program does not know, at a character position.
    UnknownAi { at: usize },
    /// A fixed-length value cut short.
    Truncated { ai: String },
    /// A value with characters its AI does not allow (digits only, for example).
    BadValue { ai: String, why: &'static str },
    /// A variable value longer than allowed: most likely a missing GS between two fields.
    TooLong { ai: String, max: usize },
    /// An SSCC or GTIN whose check digit is wrong.
    CheckDigit { ai: String },
    /// Nothing after the AI.
    Empty,
}

impl fmt::Display for Gs1Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gs1Error::UnknownAi { at } => {
                write!(f, "GS1: unknown application identifier at character {}", at + 1)
            }
            Gs1Error::Truncated { ai } => write!(f, "GS1: the value of AI ({ai}) is too short"),
            Gs1Error::BadValue { ai, why } => write!(f, "GS1: AI ({ai}) {why}"),
            Gs1Error::TooLong { ai, max } => write!(
                f,
                "GS1: AI ({ai}) is longer than {max} characters; a group separator is probably missing"
            ),
            Gs1Error::CheckDigit { ai } => write!(f, "GS1: bad check digit in AI ({ai})"),
            Gs1Error::Empty => write!(f, "GS1: no data"),
        }
    }
}

#[derive(Clone, Copy)]
enum Len {
    Fixed(usize),
    Upto(usize),
}

#[derive(Clone, Copy, PartialEq)]
enum Chars {
    Digits,
    Date,
    Any,
}

/// The AIs understood: how long the AI is, how long its value may be, what it may hold.
/// Unknown AIs are refused rather than skipped: their length is unknown, so everything after
/// them would be misread.
fn lookup(s: &str) -> Option<(usize, Len, Chars)> {
    use Len::{Fixed, Upto};
    Some(match s.get(..2)? {
        "00" => (2, Fixed(18), Chars::Digits),
        "01" | "02" => (2, Fixed(14), Chars::Digits),
        "10" | "21" | "22" => (2, Upto(20), Chars::Any),
        "11" | "12" | "13" | "15" | "16" | "17" => (2, Fixed(6), Chars::Date),
        "20" => (2, Fixed(2), Chars::Digits),
        "30" | "37" => (2, Upto(8), Chars::Digits),
        "24" | "25" | "40" => match s.get(..3)? {
            "240" | "241" | "250" | "251" | "400" | "401" | "403" => (3, Upto(30), Chars::Any),
            "242" => (3, Upto(6), Chars::Digits),
            "402" => (3, Fixed(17), Chars::Digits),
            _ => return None,
        },
        // 310n-369n: a measure with n decimals, always six digits.
        "31" | "32" | "33" | "34" | "35" | "36" if s.as_bytes().get(3)?.is_ascii_digit() => {
            (4, Fixed(6), Chars::Digits)
        }
        "90" | "91" | "92" | "93" | "94" | "95" | "96" | "97" | "98" | "99" => (2, Upto(90), Chars::Any),
        _ => return None,
    })
}

impl ElementString {
    /// Parses an element string in its scanned form (GS separators) or its printed form with
    /// the AIs in parentheses, `(01)07032069804988(10)0329`.
    pub fn parse(s: &str) -> Result<ElementString, Gs1Error> {
        if s.starts_with('(') {
            return Self::parse_bracketed(s);
        }
        let mut out = ElementString::default();
        let mut rest = s;
        let mut at = 0;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix(GS) {
                rest = r;
                at += 1;
                continue;
            }
            let (ai_len, len, chars) = lookup(rest).ok_or(Gs1Error::UnknownAi { at })?;
            let ai = &rest[..ai_len];
            let body = &rest[ai_len..];
            let value = match len {
                Len::Fixed(n) => {
                    let v = body.get(..n).ok_or_else(|| Gs1Error::Truncated { ai: ai.into() })?;
                    if v.contains(GS) {
                        return Err(Gs1Error::Truncated { ai: ai.into() });
                    }
                    v
                }
                Len::Upto(max) => {
                    let end = body.find(GS).unwrap_or(body.len());
                    if end > max {
                        return Err(Gs1Error::TooLong { ai: ai.into(), max });
                    }
                    &body[..end]
                }
            };
            out.push(ai, value, chars)?;
            at += ai_len + value.len();
            rest = &body[value.len()..];
        }
        if out.elements.is_empty() {
            return Err(Gs1Error::Empty);
        }
        Ok(out)
    }

    fn parse_bracketed(s: &str) -> Result<ElementString, Gs1Error> {
        let mut out = ElementString::default();
        let mut rest = s;
        let mut at = 0;
        while let Some(r) = rest.strip_prefix('(') {
            let close = r.find(')').ok_or(Gs1Error::UnknownAi { at })?;
            let ai_text = &r[..close];
            let (len, chars) = lookup(ai_text)
                .filter(|(l, _, _)| *l == ai_text.len())
                .map(|(_, len, chars)| (len, chars))
                .ok_or(Gs1Error::UnknownAi { at })?;
            let ai = ai_text;
            let body = &r[close + 1..];
            let end = body.find('(').unwrap_or(body.len());
            let value = &body[..end];
            match len {
                Len::Fixed(n) if value.len() != n => return Err(Gs1Error::Truncated { ai: ai.into() }),
                Len::Upto(max) if value.len() > max => return Err(Gs1Error::TooLong { ai: ai.into(), max }),
                _ => {}
            }
            out.push(ai, value, chars)?;
            at += close + 2 + value.len();
            rest = &body[end..];
        }
        if !rest.is_empty() || out.elements.is_empty() {
            return Err(Gs1Error::UnknownAi { at });
        }
        Ok(out)
    }

    fn push(&mut self, ai: &str, value: &str, chars: Chars) -> Result<(), Gs1Error> {
        let bad = |why| Gs1Error::BadValue { ai: ai.into(), why };
        if value.is_empty() {
            return Err(bad("has no value"));
        }
        match chars {
            Chars::Digits if !value.bytes().all(|b| b.is_ascii_digit()) => return Err(bad("must be digits")),
            Chars::Date if date_of(value).is_none() => return Err(bad("is not a YYMMDD date")),
            Chars::Any if !value.bytes().all(|b| (0x21..0x7f).contains(&b)) => {
                return Err(bad("has characters GS1 does not allow"))
            }
            _ => {}
        }
        if matches!(ai, "00" | "01" | "02") && !has_valid_gs1_check(value) {
            return Err(Gs1Error::CheckDigit { ai: ai.into() });
        }
        self.elements.push(Element { ai: ai.into(), value: value.into() });
        Ok(())
    }

    /// The value of the first element with this AI.
    pub fn get(&self, ai: &str) -> Option<&str> {
        self.elements.iter().find(|e| e.ai == ai).map(|e| e.value.as_str())
    }

    /// The product: AI (01), or (02) for the contents of a logistic unit.
    pub fn gtin(&self) -> Option<Gtin> {
        self.get("01").or_else(|| self.get("02")).and_then(|v| Gtin::parse(v).ok())
    }

    pub fn serial(&self) -> Option<&str> {
        self.get("21")
    }

    pub fn lot(&self) -> Option<&str> {
        self.get("10")
    }

    pub fn sscc(&self) -> Option<&str> {
        self.get("00")
    }

    /// Best before (15), else expiry (17).
    pub fn best_before(&self) -> Option<NaiveDate> {
        self.get("15").or_else(|| self.get("17")).and_then(date_of)
    }

    pub fn expiry(&self) -> Option<NaiveDate> {
        self.get("17").and_then(date_of)
    }

    /// The printed form, `(01)...(10)...`.
    pub fn to_bracketed(&self) -> String {
        self.elements.iter().map(|e| format!("({}){}", e.ai, e.value)).collect()
    }
}

/// A GS1 date, YYMMDD. Day 00 means the last day of the month. Years are taken as 20YY.
pub fn date_of(v: &str) -> Option<NaiveDate> {
    if v.len() != 6 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y = 2000 + v[0..2].parse::<i32>().ok()?;
    let m = v[2..4].parse::<u32>().ok()?;
    let d = v[4..6].parse::<u32>().ok()?;
    if d == 0 {
        let first_of_next = if m == 12 {
            NaiveDate::from_ymd_opt(y + 1, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(y, m + 1, 1)?
        };
        if m == 0 {
            return None;
        }
        return first_of_next.pred_opt();
    }
    NaiveDate::from_ymd_opt(y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_example() {
        let e = ElementString::parse("0107032069804988100329\u{1d}15210526").unwrap();
        assert_eq!(e.gtin().unwrap().as_str(), "07032069804988");
        assert_eq!(e.lot(), Some("0329"));
        assert_eq!(e.best_before(), NaiveDate::from_ymd_opt(2021, 5, 26));
        assert_eq!(e.to_bracketed(), "(01)07032069804988(10)0329(15)210526");
    }

    #[test]
    fn bracketed_form_reads_the_same() {
        let a = ElementString::parse("(01)07032069804988(10)0329(15)210526").unwrap();
        let b = ElementString::parse("0107032069804988100329\u{1d}15210526").unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn serial_after_gtin_and_before_expiry() {
        let e = ElementString::parse("010703206980498821SN-0042\u{1d}17260100").unwrap();
        assert_eq!(e.serial(), Some("SN-0042"));
        assert_eq!(e.expiry(), NaiveDate::from_ymd_opt(2026, 1, 31), "day 00 is the month's last");
    }

    #[test]
    fn sscc_and_order_number() {
        let e = ElementString::parse("00106141411234567897\u{1d}400PO-778").unwrap();
        assert_eq!(e.sscc(), Some("106141411234567897"));
        assert_eq!(e.get("400"), Some("PO-778"));
        let e = ElementString::parse("0107032069804988240ABC\u{1d}241XYZ").unwrap();
        assert_eq!(e.get("240"), Some("ABC"));
        assert_eq!(e.get("241"), Some("XYZ"));
        let e = ElementString::parse("01070320698049883103000750").unwrap();
        assert_eq!(e.get("3103"), Some("000750"));
        let e = ElementString::parse("010703206980498822VARIANT").unwrap();
        assert_eq!(e.get("22"), Some("VARIANT"));
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(ElementString::parse("0107032069804989"), Err(Gs1Error::CheckDigit { ai: "01".into() }));
        assert_eq!(ElementString::parse("88123"), Err(Gs1Error::UnknownAi { at: 0 }));
        assert_eq!(ElementString::parse("01070320698049"), Err(Gs1Error::Truncated { ai: "01".into() }));
        assert!(matches!(
            ElementString::parse("010703206980498810ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
            Err(Gs1Error::TooLong { .. })
        ));
        assert!(matches!(ElementString::parse("010703206980498817261340"), Err(Gs1Error::BadValue { .. })));
    }
}
