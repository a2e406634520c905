//! Text that did not come from us (files, scans, the database) on its way out: to a screen
//! ([`on_screen`]) or into a file ([`in_file`]). Both forms take out control characters (C0,
//! DEL, C1; tabs and line breaks become blanks) and keep at most [`MAX_MARKS`] combining marks on
//! a character. Characters that are invisible or reorder the text around them (bidi controls,
//! zero-width characters, soft hyphens, tags, line separators) are shown on a screen as a
//! visible mark, `⟨U+202E⟩`, so an operator sees that something is there, and left out of a
//! file. A zero-width joiner between two pictographs is part of an emoji (👨‍👩‍👧) and stays.

use std::borrow::Cow;

/// Combining marks kept on one character: enough for any script the dock sees (a Vietnamese
/// letter carries two, a keycap emoji two), too few to draw over the lines around it.
pub const MAX_MARKS: usize = 3;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    Screen,
    File,
}

/// For a terminal: nothing imported can move the cursor, change colours, ring the bell,
/// reverse the line or hide in it.
pub fn on_screen(s: &str) -> String {
    if plain_ascii(s) {
        return s.to_string();
    }
    clean(s, Form::Screen)
}

/// For a file (export, report, label, log): the text without what no reader should get.
pub fn in_file(s: &str) -> Cow<'_, str> {
    if plain_ascii(s) {
        return Cow::Borrowed(s);
    }
    let cleaned = clean(s, Form::File);
    if cleaned == s {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(cleaned)
    }
}

/// [`in_file`] in place, for records cleaned field by field.
pub fn make_file_safe(s: &mut String) {
    if let Cow::Owned(cleaned) = in_file(s) {
        *s = cleaned;
    }
}

/// Every string of a JSON value (keys too) in its file form.
pub fn json_in_file(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::String(s) => make_file_safe(s),
        Value::Array(items) => items.iter_mut().for_each(json_in_file),
        Value::Object(map) => {
            let old = std::mem::take(map);
            for (mut k, mut v) in old {
                make_file_safe(&mut k);
                json_in_file(&mut v);
                map.insert(k, v);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// The usual case, nothing to do: printable ASCII only.
fn plain_ascii(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

fn clean(s: &str, form: Form) -> String {
    let mut out = String::with_capacity(s.len());
    // Marks on the last character written; a character left out does not end the run.
    let mut marks = 0;
    let mut last: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let hidden = match c {
            '\t' | '\n' | '\r' | '\u{85}' => {
                out.push(' ');
                (marks, last) = (0, Some(' '));
                continue;
            }
            c if c.is_control() => continue,
            '\u{200d}' => !(last.is_some_and(in_emoji) && chars.peek().copied().is_some_and(pictograph)),
            c => invisible(c),
        };
        if hidden {
            if form == Form::Screen {
                out.push_str(&format!("⟨U+{:04X}⟩", u32::from(c)));
                (marks, last) = (0, Some('⟩'));
            }
        } else if unicode_normalization::char::is_combining_mark(c) {
            if marks < MAX_MARKS {
                out.push(c);
                marks += 1;
                last = Some(c);
            }
        } else {
            out.push(c);
            (marks, last) = (0, Some(c));
        }
    }
    out
}

/// Characters that draw nothing, or change the order or joining of those around them.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'                       // soft hyphen
        | '\u{34f}'                    // combining grapheme joiner
        | '\u{61c}'                    // Arabic letter mark
        | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}' // Hangul fillers
        | '\u{17b4}' | '\u{17b5}'      // Khmer inherent vowels
        | '\u{180e}'                   // Mongolian vowel separator
        | '\u{200b}'..='\u{200f}'      // zero-width space, (non-)joiner, LRM, RLM
        | '\u{2028}'..='\u{202e}'      // line and paragraph separators, bidi embeddings, overrides
        | '\u{2060}'..='\u{206f}'      // word joiner, invisible operators, bidi isolates
        | '\u{feff}'                   // byte order mark, zero-width no-break space
        | '\u{2800}'                   // braille pattern blank: draws nothing
        | '\u{fff9}'..='\u{fffc}'      // interlinear annotation, object replacement
        | '\u{1d173}'..='\u{1d17a}'    // musical formatting
        | '\u{e0000}'..='\u{e007f}' // tags
    )
}

/// Pictographs that emoji sequences join with U+200D.
fn pictograph(c: char) -> bool {
    matches!(c, '\u{2300}'..='\u{23ff}' | '\u{2600}'..='\u{27bf}' | '\u{2b00}'..='\u{2bff}' | '\u{1f000}'..='\u{1faff}')
}

/// What may come before the joiner in an emoji: a pictograph, its emoji presentation
/// selector, or a skin tone (U+1F3FB-U+1F3FF, among the pictographs).
fn in_emoji(c: char) -> bool {
    pictograph(c) || c == '\u{fe0f}'
}

/// A person's name for the screen: first character kept, the rest masked (张*三 keeps the last
/// one too when it is three characters or more).
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = in_file(name).trim().chars().collect();
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
        assert_eq!(on_screen("a\u{1b}[2Jb\u{7}"), "a[2Jb");
        assert_eq!(on_screen("x\ty\r\nz"), "x y  z");
        assert_eq!(in_file("a\u{1b}]0;pwn\u{7}b"), "a]0;pwnb");
    }

    /// Every class of character that must not arrive as it is: the screen form, the file form.
    #[test]
    fn each_class_on_screen_and_in_a_file() {
        let cases: &[(&str, &str, &str, &str)] = &[
            ("C0: NUL, BEL, ESC", "a\u{0}b\u{7}c\u{1b}d", "abcd", "abcd"),
            ("DEL", "a\u{7f}b", "ab", "ab"),
            ("C1: CSI, NEL", "a\u{9b}31mb\u{85}c", "a31mb c", "a31mb c"),
            ("line and paragraph separators", "a\u{2028}b\u{2029}c", "a⟨U+2028⟩b⟨U+2029⟩c", "abc"),
            ("soft hyphen", "ab\u{ad}c", "ab⟨U+00AD⟩c", "abc"),
            ("word joiner", "a\u{2060}b", "a⟨U+2060⟩b", "ab"),
            ("zero-width space", "=\u{200b}1", "=⟨U+200B⟩1", "=1"),
            ("zero-width non-joiner", "a\u{200c}b", "a⟨U+200C⟩b", "ab"),
            ("a joiner between letters", "a\u{200d}b", "a⟨U+200D⟩b", "ab"),
            ("left-to-right and right-to-left marks", "a\u{200e}\u{200f}b", "a⟨U+200E⟩⟨U+200F⟩b", "ab"),
            ("byte order mark", "\u{feff}+1", "⟨U+FEFF⟩+1", "+1"),
            ("embeddings", "\u{202a}a\u{202b}b\u{202c}", "⟨U+202A⟩a⟨U+202B⟩b⟨U+202C⟩", "ab"),
            ("overrides", "exe.\u{202e}fdp\u{202d}", "exe.⟨U+202E⟩fdp⟨U+202D⟩", "exe.fdp"),
            ("isolates", "\u{2066}a\u{2067}\u{2068}b\u{2069}", "⟨U+2066⟩a⟨U+2067⟩⟨U+2068⟩b⟨U+2069⟩", "ab"),
            ("tags", "a\u{e0001}\u{e0041}\u{e007f}", "a⟨U+E0001⟩⟨U+E0041⟩⟨U+E007F⟩", "a"),
            ("braille blank and object replacement", "a\u{2800}b\u{fffc}", "a⟨U+2800⟩b⟨U+FFFC⟩", "ab"),
            (
                "three marks stay",
                "e\u{301}\u{302}\u{303}",
                "e\u{301}\u{302}\u{303}",
                "e\u{301}\u{302}\u{303}",
            ),
            (
                "a fourth goes",
                "e\u{301}\u{302}\u{303}\u{304}x",
                "e\u{301}\u{302}\u{303}x",
                "e\u{301}\u{302}\u{303}x",
            ),
            (
                "marks with nothing under them",
                "\u{301}\u{301}\u{301}\u{301}",
                "\u{301}\u{301}\u{301}",
                "\u{301}\u{301}\u{301}",
            ),
        ];
        for (what, raw, screen, file) in cases {
            assert_eq!(on_screen(raw), *screen, "{what}: screen");
            assert_eq!(in_file(raw), *file, "{what}: file");
        }
    }

    #[test]
    fn eighty_combining_marks_are_three() {
        let zalgo = format!("Z{}a{}", "\u{36b}".repeat(80), "\u{300}".repeat(80));
        let want = format!("Z{}a{}", "\u{36b}".repeat(3), "\u{300}".repeat(3));
        assert_eq!(on_screen(&zalgo), want);
        assert_eq!(in_file(&zalgo), want);
        // A character left out in between does not start a fresh run of marks.
        let split = format!("e{}\u{200b}{}", "\u{301}".repeat(3), "\u{301}".repeat(3));
        assert_eq!(in_file(&split), format!("e{}", "\u{301}".repeat(3)));
    }

    /// Numbers, Chinese, full-width punctuation, emoji and their joiners arrive as they are.
    #[test]
    fn legitimate_text_is_untouched() {
        for s in [
            "1234567890.00",
            "蓝牙耳机 黑色（升级版）",
            "质量问题：无法开机！",
            "ＡＢＣ１２３，。、",
            "Café crème",
            "Tiếng Việt",
            "👍🏽 ❤️ 1️⃣",
            "👨\u{200d}👩\u{200d}👧",
            "🏳️\u{200d}🌈",
            "👩🏽\u{200d}💻",
            "葛\u{e0100}",
        ] {
            assert_eq!(on_screen(s), s);
            assert!(matches!(in_file(s), Cow::Borrowed(_)), "{s}");
        }
    }

    #[test]
    fn both_forms_are_idempotent() {
        let nasty = format!(
            "\u{1b}[31m\u{202e}\u{2066}a\u{200d}b{}\u{e0041}\u{feff}\u{ad}\u{2028}👨\u{200d}\u{200d}👩\t",
            "\u{301}".repeat(80)
        );
        let screen = on_screen(&nasty);
        assert_eq!(on_screen(&screen), screen);
        let file = in_file(&nasty).into_owned();
        assert_eq!(in_file(&file), file);
    }

    #[test]
    fn json_strings_and_keys() {
        let mut v = serde_json::json!({"t\u{202e}": ["a\u{1b}b", {"n": "\u{feff}x"}], "q": 1});
        json_in_file(&mut v);
        assert_eq!(v, serde_json::json!({"t": ["ab", {"n": "x"}], "q": 1}));
    }

    #[test]
    fn masks() {
        assert_eq!(mask_name("张三丰"), "张*丰");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("\u{202e}张三"), "张*");
        assert_eq!(mask_name("Alice Wong"), "A********g");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("+86 138-1234-5678"), "138****5678");
        assert_eq!(mask_phone("138****5678"), "138****5678", "masked once is masked");
        assert_eq!(mask_phone("12345"), "*****");
        assert_eq!(mask_phone("*****"), "*****");
        assert_eq!(mask_phone("n/a"), "");
    }
}
