//! Amounts of money as whole cents. A float never holds money here.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoneyError {
    NotANumber,
    Negative,
    TooManyDecimals,
    TooLarge,
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MoneyError::NotANumber => "is not an amount (expected e.g. 129.90)",
            MoneyError::Negative => "is negative",
            MoneyError::TooManyDecimals => "has more than two decimals",
            MoneyError::TooLarge => "is too large",
        })
    }
}

/// Parses `129.9`, `1,299.00`, `¥ 88`, `$12.5` into cents. Thousands separators are accepted
/// only in their proper places, so `1,5` (a decimal comma) is refused rather than read as 15.
pub fn parse_cents(text: &str) -> Result<i64, MoneyError> {
    let mut s = text.trim();
    for sym in ["¥", "￥", "$", "€", "£", "CNY", "RMB", "USD", "EUR"] {
        if let Some(rest) = s.strip_prefix(sym) {
            s = rest.trim_start();
            break;
        }
    }
    if let Some(rest) = s.strip_prefix('-') {
        return match parse_cents(rest) {
            Ok(0) => Ok(0),
            Ok(_) => Err(MoneyError::Negative),
            Err(e) => Err(e),
        };
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return Err(MoneyError::NotANumber);
    }
    let whole_digits: String = if whole.contains(',') {
        let groups: Vec<&str> = whole.split(',').collect();
        let ok = !groups[0].is_empty() && groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3);
        if !ok {
            return Err(MoneyError::NotANumber);
        }
        groups.concat()
    } else {
        whole.to_string()
    };
    if !whole_digits.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MoneyError::NotANumber);
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > 2 {
        return Err(MoneyError::TooManyDecimals);
    }
    let whole_value: i64 =
        if whole_digits.is_empty() { 0 } else { whole_digits.parse().map_err(|_| MoneyError::TooLarge)? };
    let cents: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
    whole_value
        .checked_mul(100)
        .and_then(|w| w.checked_add(cents))
        .filter(|v| *v < 1_000_000_000_000)
        .ok_or(MoneyError::TooLarge)
}

/// Cents as an amount with two decimals: `12990` -> `129.90`.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_people_write() {
        assert_eq!(parse_cents("129.9"), Ok(12990));
        assert_eq!(parse_cents("1,299.00"), Ok(129900));
        assert_eq!(parse_cents("¥ 88"), Ok(8800));
        assert_eq!(parse_cents("￥88.5"), Ok(8850));
        assert_eq!(parse_cents("$0.05"), Ok(5));
        assert_eq!(parse_cents(".5"), Ok(50));
        assert_eq!(parse_cents("12.500"), Ok(1250), "trailing zeros are not precision");
    }

    #[test]
    fn amounts_refused() {
        assert_eq!(parse_cents("-3"), Err(MoneyError::Negative));
        assert_eq!(parse_cents("1.999"), Err(MoneyError::TooManyDecimals));
        assert_eq!(parse_cents("1,5"), Err(MoneyError::NotANumber));
        assert_eq!(parse_cents("abc"), Err(MoneyError::NotANumber));
        assert_eq!(parse_cents(""), Err(MoneyError::NotANumber));
        assert_eq!(parse_cents("99999999999999999999"), Err(MoneyError::TooLarge));
    }

    #[test]
    fn two_decimals_out() {
        assert_eq!(format_cents(12990), "129.90");
        assert_eq!(format_cents(5), "0.05");
        assert_eq!(format_cents(0), "0.00");
    }
}
