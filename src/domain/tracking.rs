//! Parcel numbers: UPU S10 postal items, the Chinese couriers' usual shapes, and the key under
//! which a tracking number is stored so that a scan finds it however it was typed.
//!
//! Courier shapes only name a carrier; they never refuse a scan, because the patterns are the
//! community's, not the couriers', and pure-digit numbers overlap between carriers.

/// Who probably carries a parcel, from the shape of its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// A postal item with a valid S10 number; the two letters are the origin country.
    Post([u8; 2]),
    Sf,
    Yto,
    Jd,
    JAndT,
    Deppon,
}

impl Carrier {
    pub fn name(self) -> String {
        match self {
            Carrier::Post(c) => format!("Post ({})", String::from_utf8_lossy(&c)),
            Carrier::Sf => "SF Express".into(),
            Carrier::Yto => "YTO Express".into(),
            Carrier::Jd => "JD Logistics".into(),
            Carrier::JAndT => "J&T Express".into(),
            Carrier::Deppon => "Deppon".into(),
        }
    }
}

/// The result of looking at an S10-shaped number (2 letters, 9 digits, 2 letters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S10 {
    Valid { country: [u8; 2] },
    BadCheckDigit { expected: u8 },
}

/// The S10 check of an uppercase code, or None when it is not S10-shaped.
pub fn s10(code: &str) -> Option<S10> {
    let b = code.as_bytes();
    if b.len() != 13
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..11].iter().all(u8::is_ascii_digit)
        || !b[11..].iter().all(u8::is_ascii_uppercase)
    {
        return None;
    }
    const WEIGHTS: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];
    let sum: u32 = b[2..10].iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    let expected = match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        c => c as u8,
    };
    Some(if b[10] - b'0' == expected {
        S10::Valid { country: [b[11], b[12]] }
    } else {
        S10::BadCheckDigit { expected }
    })
}

/// The carrier a number's shape suggests, if any. `code` is expected in upper case.
pub fn carrier_of(code: &str) -> Option<Carrier> {
    if let Some(S10::Valid { country }) = s10(code) {
        return Some(Carrier::Post(country));
    }
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = code.strip_prefix("SF") {
        if digits(rest, 12) || digits(rest, 13) {
            return Some(Carrier::Sf);
        }
    }
    if code.strip_prefix("YT").is_some_and(|r| digits(r, 13)) {
        return Some(Carrier::Yto);
    }
    if code.strip_prefix("JT").is_some_and(|r| digits(r, 13)) {
        return Some(Carrier::JAndT);
    }
    if code.strip_prefix("DPK").is_some_and(|r| digits(r, 12)) {
        return Some(Carrier::Deppon);
    }
    if let Some(rest) = code.strip_prefix("JD") {
        if rest.len() == 13 && rest[..2].bytes().all(|b| b.is_ascii_alphanumeric()) && digits(&rest[2..], 11)
        {
            return Some(Carrier::Jd);
        }
    }
    None
}

/// The form a tracking number is stored and looked up under: upper case, letters and digits
/// only (no blanks, dashes or the `'` Excel puts in front of long numbers).
pub fn tracking_key(raw: &str) -> String {
    raw.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s10_reference_values() {
        for (code, cc) in [("RR287043775IN", *b"IN"), ("RB123456785GB", *b"GB"), ("EA123456785CN", *b"CN")] {
            assert_eq!(s10(code), Some(S10::Valid { country: cc }), "{code}");
        }
        assert_eq!(s10("EA123456789CN"), Some(S10::BadCheckDigit { expected: 5 }));
        assert_eq!(s10("EA12345678CN"), None);
    }

    #[test]
    fn couriers_are_named_not_judged() {
        assert_eq!(carrier_of("SF1234567890123"), Some(Carrier::Sf));
        assert_eq!(carrier_of("SF123456789012"), Some(Carrier::Sf));
        assert_eq!(carrier_of("YT1234567890123"), Some(Carrier::Yto));
        assert_eq!(carrier_of("JDVA12345678901"), Some(Carrier::Jd));
        assert_eq!(carrier_of("JT1234567890123"), Some(Carrier::JAndT));
        assert_eq!(carrier_of("DPK123456789012"), Some(Carrier::Deppon));
        assert_eq!(carrier_of("EA123456785CN"), Some(Carrier::Post(*b"CN")));
        assert_eq!(carrier_of("773012345678901"), None, "pure digits: no guess");
    }

    #[test]
    fn key_ignores_case_blanks_and_excel_guards() {
        assert_eq!(tracking_key(" 'sf 1234-5678 "), "SF12345678");
    }
}
