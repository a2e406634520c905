//! Large type for the station's screen: a word in letters five rows high, drawn with blocks,
//! for what the bench must read from a step away (where the unit goes). Letters, digits and
//! `- _ . / +` only; other text (Chinese, say) has no large form and is shown as it is.

/// Each glyph: three columns by five rows, `#` set.
fn glyph(c: char) -> Option<[&'static str; 5]> {
    Some(match c.to_ascii_uppercase() {
        'A' => [".#.", "#.#", "###", "#.#", "#.#"],
        'B' => ["##.", "#.#", "##.", "#.#", "##."],
        'C' => [".##", "#..", "#..", "#..", ".##"],
        'D' => ["##.", "#.#", "#.#", "#.#", "##."],
        'E' => ["###", "#..", "##.", "#..", "###"],
        'F' => ["###", "#..", "##.", "#..", "#.."],
        'G' => [".##", "#..", "#.#", "#.#", ".##"],
        'H' => ["#.#", "#.#", "###", "#.#", "#.#"],
        'I' => ["###", ".#.", ".#.", ".#.", "###"],
        'J' => ["..#", "..#", "..#", "#.#", ".#."],
        'K' => ["#.#", "#.#", "##.", "#.#", "#.#"],
        'L' => ["#..", "#..", "#..", "#..", "###"],
        'M' => ["#.#", "###", "###", "#.#", "#.#"],
        'N' => ["##.", "#.#", "#.#", "#.#", "#.#"],
        'O' => [".#.", "#.#", "#.#", "#.#", ".#."],
        'P' => ["##.", "#.#", "##.", "#..", "#.."],
        'Q' => [".#.", "#.#", "#.#", "##.", ".##"],
        'R' => ["##.", "#.#", "##.", "#.#", "#.#"],
        'S' => [".##", "#..", ".#.", "..#", "##."],
        'T' => ["###", ".#.", ".#.", ".#.", ".#."],
        'U' => ["#.#", "#.#", "#.#", "#.#", "###"],
        'V' => ["#.#", "#.#", "#.#", "#.#", ".#."],
        'W' => ["#.#", "#.#", "###", "###", "#.#"],
        'X' => ["#.#", "#.#", ".#.", "#.#", "#.#"],
        'Y' => ["#.#", "#.#", ".#.", ".#.", ".#."],
        'Z' => ["###", "..#", ".#.", "#..", "###"],
        '0' => ["###", "#.#", "#.#", "#.#", "###"],
        '1' => [".#.", "##.", ".#.", ".#.", "###"],
        '2' => ["##.", "..#", ".#.", "#..", "###"],
        '3' => ["##.", "..#", ".#.", "..#", "##."],
        '4' => ["#.#", "#.#", "###", "..#", "..#"],
        '5' => ["###", "#..", "##.", "..#", "##."],
        '6' => [".##", "#..", "###", "#.#", "###"],
        '7' => ["###", "..#", ".#.", ".#.", ".#."],
        '8' => ["###", "#.#", "###", "#.#", "###"],
        '9' => ["###", "#.#", "###", "..#", "##."],
        '-' => ["...", "...", "###", "...", "..."],
        '_' => ["...", "...", "...", "...", "###"],
        '.' => ["...", "...", "...", "...", ".#."],
        '/' => ["..#", "..#", ".#.", "#..", "#.."],
        '+' => ["...", ".#.", "###", ".#.", "..."],
        ' ' => ["...", "...", "...", "...", "..."],
        _ => return None,
    })
}

/// How many rows large type takes.
pub const ROWS: u16 = 5;

/// `text` in large type, five lines, when every character has a large form and the whole
/// fits in `width` columns (a glyph is three columns, with one between glyphs).
pub fn lines(text: &str, width: u16) -> Option<[String; 5]> {
    let glyphs: Vec<[&str; 5]> = text.chars().map(glyph).collect::<Option<_>>()?;
    let n = glyphs.len();
    if n == 0 || n * 4 - 1 > usize::from(width) {
        return None;
    }
    let mut out: [String; 5] = Default::default();
    for (row, line) in out.iter_mut().enumerate() {
        let cells: Vec<String> = glyphs.iter().map(|g| g[row].replace('#', "█").replace('.', " ")).collect();
        *line = cells.join(" ").trim_end().to_string();
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_in_large_type_reads_as_blocks() {
        assert_eq!(lines("-", 3).unwrap(), ["", "", "███", "", ""].map(String::from));
        let big = lines("L1", 80).unwrap();
        assert_eq!(big[0], "█    █");
        assert_eq!(big[4], "███ ███");
        assert!(lines("STOCK", 18).is_none(), "19 columns do not fit 18");
        assert_eq!(lines("stock", 19), lines("STOCK", 19), "letters in either case");
        assert!(lines("良品库", 80).is_none(), "no large form");
        assert!(lines("", 80).is_none());
    }
}
