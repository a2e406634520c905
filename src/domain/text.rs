//! Text from files and scans on its way to a terminal or a lookup.

/// Removes control characters (and the ESC sequences they start), so that nothing imported can
/// move the cursor, change colours or ring the bell. Tabs and newlines become blanks.
pub fn printable(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '\t' | '\n' | '\r' => Some(' '),
            c if c.is_control() => None,
            '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => None,
            c => Some(c),
        })
        .collect()
}

/// A person's name for the screen: first character kept, the rest masked (张*三 keeps the last
/// one too when it is three characters or more).
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = printable(name).trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// A phone number as the dock keeps it: the first three and last four digits (138****5678).
/// A masked number stays as it is, so a file of masked numbers imports unchanged.
pub fn mask_phone(phone: &str) -> String {
    let mut digits: Vec<char> = phone.chars().filter(|c| c.is_ascii_digit() || *c == '*').collect();
    // A Chinese mobile number written with its country code.
    if digits.len() == 13 && digits.starts_with(&['8', '6']) {
        digits.drain(..2);
    }
    if digits.len() < 7 {
        return "*".repeat(digits.len());
    }
    let n = digits.len();
    let head: String = digits[..3].iter().collect();
    let tail: String = digits[n - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(n - 7))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_escape_reaches_the_terminal() {
        assert_eq!(printable("a\u{1b}[2Jb\u{7}"), "a[2Jb");
        assert_eq!(printable("x\ty"), "x y");
    }

    #[test]
    fn masks() {
        assert_eq!(mask_name("张三丰"), "张*丰");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("Alice Wong"), "A********g");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("+86 138-1234-5678"), "138****5678");
        assert_eq!(mask_phone("138****5678"), "138****5678", "masked once is masked");
        assert_eq!(mask_phone("12345"), "*****");
        assert_eq!(mask_phone("*****"), "*****");
        assert_eq!(mask_phone("n/a"), "");
    }
}
