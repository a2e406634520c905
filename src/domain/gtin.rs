//! GS1 identifiers: the mod-10 check digit, GTINs in their four lengths, UPC-E expansion.
//!
//! Products are stored as 14-digit GTINs so that an EAN-13, the UPC-A printed on the same box and
//! the GTIN-14 inside a GS1 string all find the same catalog row.

use std::fmt;

/// The GS1 mod-10 check digit of `digits` (which exclude the check digit): weights 3,1,3,...
/// counted from the right.
pub fn gs1_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// True when `s` is all ASCII digits and its last digit is the GS1 check digit of the rest.
pub fn has_valid_gs1_check(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2
        && b.iter().all(u8::is_ascii_digit)
        && gs1_check_digit(&b[..b.len() - 1]) == b[b.len() - 1] - b'0'
}

/// A Global Trade Item Number, always held as 14 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gtin(String);

/// Why a GTIN-shaped code was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GtinError {
    /// Not 8, 12, 13 or 14 digits.
    Shape,
    /// The last digit is not the check digit; `expected` is what it should be.
    CheckDigit { expected: u8 },
}

impl fmt::Display for GtinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GtinError::Shape => write!(f, "not a GTIN (8, 12, 13 or 14 digits)"),
            GtinError::CheckDigit { expected } => {
                write!(f, "bad check digit (the last digit should be {expected})")
            }
        }
    }
}

impl Gtin {
    /// An EAN-8, UPC-A, EAN-13 or GTIN-14 with a correct check digit.
    pub fn parse(s: &str) -> Result<Gtin, GtinError> {
        let b = s.as_bytes();
        if !matches!(b.len(), 8 | 12 | 13 | 14) || !b.iter().all(u8::is_ascii_digit) {
            return Err(GtinError::Shape);
        }
        let expected = gs1_check_digit(&b[..b.len() - 1]);
        if expected != b[b.len() - 1] - b'0' {
            return Err(GtinError::CheckDigit { expected });
        }
        Ok(Gtin(format!("{s:0>14}")))
    }

    /// A UPC-E (8 digits: number system 0 or 1, six data digits, check digit), expanded to its
    /// UPC-A and checked against that.
    pub fn parse_upc_e(s: &str) -> Result<Gtin, GtinError> {
        let upc_a = expand_upc_e(s).ok_or(GtinError::Shape)?;
        Gtin::parse(&upc_a)
    }

    /// The 14 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The shortest usual form: EAN-8 or EAN-13/UPC-A without its padding zeros.
    pub fn short(&self) -> &str {
        let s = self.0.as_str();
        if let Some(ean8) = s.strip_prefix("000000") {
            ean8
        } else if let Some(rest) = s.strip_prefix('0') {
            rest
        } else {
            s
        }
    }

    /// Numbers a shop assigns itself (prefixes 020-029, 040-049 and 200-299 of an EAN-13):
    /// not globally unique, so the same number may mean another product elsewhere.
    pub fn is_in_store(&self) -> bool {
        let s = self.0.as_bytes();
        if s[0] != b'0' || s.starts_with(b"000000") {
            return false;
        }
        let p = &self.0[1..4];
        matches!(p.as_bytes()[0], b'2') || ("020".."050").contains(&p)
    }
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Expands a UPC-E code (with its number system and check digits) into the 12-digit UPC-A.
pub fn expand_upc_e(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) || !matches!(b[0], b'0' | b'1') {
        return None;
    }
    let d = |i: usize| b[i] as char;
    let (ns, check) = (d(0), d(7));
    let body: String = match b[6] {
        b'0' | b'1' | b'2' => format!("{}{}{}0000{}{}{}", d(1), d(2), d(6), d(3), d(4), d(5)),
        b'3' => format!("{}{}{}00000{}{}", d(1), d(2), d(3), d(4), d(5)),
        b'4' => format!("{}{}{}{}00000{}", d(1), d(2), d(3), d(4), d(5)),
        _ => format!("{}{}{}{}{}0000{}", d(1), d(2), d(3), d(4), d(5), d(6)),
    };
    Some(format!("{ns}{body}{check}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_values_are_valid() {
        for s in ["4006381333931", "036000291452", "96385074", "07032069804988"] {
            assert!(Gtin::parse(s).is_ok(), "{s}");
        }
        assert!(has_valid_gs1_check("106141411234567897"), "SSCC");
    }

    #[test]
    fn reference_invalid_value_names_the_right_digit() {
        assert_eq!(Gtin::parse("0590123412345"), Err(GtinError::CheckDigit { expected: 2 }));
    }

    #[test]
    fn all_lengths_pad_to_fourteen() {
        assert_eq!(Gtin::parse("96385074").unwrap().as_str(), "00000096385074");
        assert_eq!(Gtin::parse("036000291452").unwrap().as_str(), "00036000291452");
        assert_eq!(Gtin::parse("4006381333931").unwrap().as_str(), "04006381333931");
        assert_eq!(Gtin::parse("4006381333931").unwrap().short(), "4006381333931");
        assert_eq!(Gtin::parse("96385074").unwrap().short(), "96385074");
    }

    #[test]
    fn upc_e_expands_as_the_reference_says() {
        assert_eq!(expand_upc_e("04252614").as_deref(), Some("042100005264"));
        assert_eq!(Gtin::parse_upc_e("04252614").unwrap().as_str(), "00042100005264");
        assert!(Gtin::parse_upc_e("04252615").is_err());
        assert!(Gtin::parse_upc_e("24252614").is_err(), "number system 2");
    }

    #[test]
    fn in_store_prefixes() {
        let in_store = Gtin::parse(&with_check("200123456789")).unwrap();
        assert!(in_store.is_in_store());
        let china = Gtin::parse(&with_check("690123456789")).unwrap();
        assert!(!china.is_in_store());
    }

    fn with_check(body: &str) -> String {
        format!("{body}{}", gs1_check_digit(body.as_bytes()))
    }
}
