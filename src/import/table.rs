//! Tables in files: CSV or TSV (detected), a JSON array or JSON Lines, flat rows or returns with
//! nested `lines`. Columns are found by header aliases; every value comes out cleaned of the
//! guards Excel users put on long numbers.

use super::decode::{self, TextEncoding};
use super::{Problem, Progress};
use serde_json::Value;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use unicode_normalization::UnicodeNormalization;

/// A field a file may carry, with every header name that means it.
pub struct FieldSpec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub required: bool,
}

/// One row of a table: its values in the order of the field list, "" where absent.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The line of the file where the row (or, in JSON, its object) starts.
    pub line: u64,
    /// In nested JSON, which item of the `lines` array (1-based).
    pub item: Option<usize>,
    pub values: Vec<String>,
}

impl Row {
    pub fn get(&self, field: usize) -> &str {
        &self.values[field]
    }

    /// Where the row is, for a message: `12` or `12 (item 2)`.
    pub fn place(&self) -> String {
        match self.item {
            Some(i) => format!("{} (item {i})", self.line),
            None => self.line.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv(u8),
    Json,
    /// A workbook's sheet (`.xlsx`, `.xls`, `.ods`).
    Workbook,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Format::Csv(b'\t') => f.write_str("TSV"),
            Format::Csv(b';') => f.write_str("CSV (;)"),
            Format::Csv(_) => f.write_str("CSV"),
            Format::Json => f.write_str("JSON"),
            Format::Workbook => f.write_str("workbook"),
        }
    }
}

/// An opened table: what was found about it, and its rows.
pub struct Table {
    pub encoding: TextEncoding,
    pub format: Format,
    /// Headers that mean nothing here, named in the summary.
    pub ignored: Vec<String>,
    pub rows: Box<dyn Iterator<Item = Result<Row, Problem>> + Send>,
}

/// A header as compared: NFKC, trimmed, case-folded, with blanks, `-`, `/` and `_` alike.
pub fn header_key(h: &str) -> String {
    let folded: String = h
        .nfkc()
        .collect::<String>()
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .to_lowercase();
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        let c = if matches!(c, ' ' | '-' | '/' | '_' | '\t') { '_' } else { c };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    out.trim_matches('_').to_string()
}

/// A cell as meant: trimmed, without Excel's text guards (a leading `'`, a wrapping `="..."`)
/// and without the tab some exports put before long numbers.
pub fn clean_value(v: &str) -> String {
    let t = v.trim();
    let t = if let Some(inner) = t.strip_prefix("=\"").and_then(|r| r.strip_suffix('"')) {
        inner
    } else {
        t.strip_prefix('\'').unwrap_or(t)
    };
    t.trim().to_string()
}

struct Aliases {
    by_key: HashMap<String, usize>,
}

impl Aliases {
    fn new(fields: &[FieldSpec]) -> Self {
        let mut by_key = HashMap::new();
        for (i, f) in fields.iter().enumerate() {
            by_key.insert(header_key(f.name), i);
            for a in f.aliases {
                by_key.entry(header_key(a)).or_insert(i);
            }
        }
        Aliases { by_key }
    }

    fn field(&self, header: &str) -> Option<usize> {
        self.by_key.get(&header_key(header)).copied()
    }
}

/// Opens `path` as a table of `fields`. The problems returned here concern the whole file
/// (encoding, a missing required column); row problems come with the rows.
pub fn open(
    path: &Path,
    display: &str,
    fields: &'static [FieldSpec],
    progress: &Progress,
) -> Result<Table, Problem> {
    let file = std::fs::File::open(path)
        .map_err(|e| Problem::unusable(display, format!("cannot open the file: {e}")))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    progress.start(display, total);
    let counted = Counted { inner: file, progress: progress.clone() };
    let (reader, encoding) =
        decode::text_reader(Box::new(counted)).map_err(|e| Problem::new(display, e.line(), e.to_string()))?;
    from_reader(reader, encoding, path_hint(path), display, fields)
}

/// Counts the bytes read from a file, for the progress line.
struct Counted<R> {
    inner: R,
    progress: Progress,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// The same for text already decoded elsewhere (the demo's embedded files, tests).
pub fn from_bytes(
    bytes: std::borrow::Cow<'static, [u8]>,
    name_hint: &str,
    display: &str,
    fields: &'static [FieldSpec],
) -> Result<Table, Problem> {
    let (reader, encoding) = decode::text_reader(Box::new(std::io::Cursor::new(bytes)))
        .map_err(|e| Problem::new(display, e.line(), e.to_string()))?;
    from_reader(reader, encoding, extension_hint(name_hint), display, fields)
}

#[derive(Clone, Copy)]
enum Hint {
    Json,
    Tsv,
    None,
}

fn path_hint(path: &Path) -> Hint {
    extension_hint(&path.to_string_lossy())
}

fn extension_hint(name: &str) -> Hint {
    let lower = name.to_lowercase();
    if lower.ends_with(".json") || lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
        Hint::Json
    } else if lower.ends_with(".tsv") || lower.ends_with(".tab") {
        Hint::Tsv
    } else {
        Hint::None
    }
}

fn from_reader(
    mut reader: Box<dyn Read + Send>,
    encoding: TextEncoding,
    hint: Hint,
    display: &str,
    fields: &'static [FieldSpec],
) -> Result<Table, Problem> {
    // Peek at the start to tell JSON from CSV and pick the delimiter.
    let mut head = Vec::with_capacity(8192);
    (&mut reader)
        .take(8192)
        .read_to_end(&mut head)
        .map_err(|e| Problem::new(display, None, format!("cannot read the file: {e}")))?;
    let first = head.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let reader: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(head.clone()).chain(reader));
    let is_json = matches!(hint, Hint::Json) || matches!(first, Some(b'[') | Some(b'{'));
    if first.is_none() {
        return Err(Problem::new(display, Some(1), "the file is empty"));
    }
    if is_json {
        return json_table(reader, encoding, display, fields);
    }
    let header_line = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let count = |c: u8| header_line.iter().filter(|&&b| b == c).count();
    let delimiter = if matches!(hint, Hint::Tsv) || count(b'\t') > count(b',').max(count(b';')) {
        b'\t'
    } else if count(b';') > count(b',') {
        b';'
    } else {
        b','
    };
    csv_table(reader, encoding, delimiter, display, fields)
}

fn csv_table(
    reader: Box<dyn Read + Send>,
    encoding: TextEncoding,
    delimiter: u8,
    display: &str,
    fields: &'static [FieldSpec],
) -> Result<Table, Problem> {
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(256 * 1024)
        .from_reader(reader);
    let mut header = csv::StringRecord::new();
    let ok = csv.read_record(&mut header).map_err(|e| csv_problem(display, &e))?;
    if !ok {
        return Err(Problem::new(display, Some(1), "the file is empty"));
    }
    let (columns, ignored) = header_columns(header.iter(), fields, display, 1)?;
    let display = display.to_string();
    let mut record = csv::ByteRecord::new();
    let rows = std::iter::from_fn(move || loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => return None,
            // An IO error (bad bytes) ends the file; a CSV shape error skips the record.
            Err(e) => return Some(Err(csv_problem(&display, &e))),
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                    continue; // blank line
                }
                let mut values = vec![String::new(); columns.len()];
                for (f, cols) in columns.iter().enumerate() {
                    for &c in cols {
                        let Some(raw) = record.get(c) else { continue };
                        let text = match std::str::from_utf8(raw) {
                            Ok(t) => t,
                            Err(_) => {
                                return Some(Err(Problem::new(
                                    &display,
                                    Some(line),
                                    "not valid UTF-8 (the file mixes text encodings)",
                                )))
                            }
                        };
                        let v = clean_value(text);
                        if !v.is_empty() {
                            values[f] = v;
                            break;
                        }
                    }
                }
                return Some(Ok(Row { line, item: None, values }));
            }
        }
    });
    Ok(Table { encoding, format: Format::Csv(delimiter), ignored, rows: Box::new(rows.fuse_after_io()) })
}

/// For each field, the columns that carry it, in header order (exports repeat headers), and
/// the headers that mean nothing here; refused when a required field has no column (`line`:
/// the header's line).
fn header_columns<'a>(
    header: impl Iterator<Item = &'a str>,
    fields: &'static [FieldSpec],
    display: &str,
    line: u64,
) -> Result<(Vec<Vec<usize>>, Vec<String>), Problem> {
    let aliases = Aliases::new(fields);
    let mut columns: Vec<Vec<usize>> = vec![Vec::new(); fields.len()];
    let mut ignored = Vec::new();
    for (col, h) in header.enumerate() {
        match aliases.field(h) {
            Some(f) => columns[f].push(col),
            None if h.trim().is_empty() => {}
            None => ignored.push(crate::domain::text::on_screen(h.trim())),
        }
    }
    let missing: Vec<String> = fields
        .iter()
        .zip(&columns)
        .filter(|(f, c)| f.required && c.is_empty())
        .map(|(f, _)| format!("{} (accepted headers: {})", f.name, f.aliases.join(", ")))
        .collect();
    if !missing.is_empty() {
        return Err(Problem::new(display, Some(line), format!("no column for {}", missing.join("; "))));
    }
    Ok((columns, ignored))
}

/// Whether `path` names a workbook (by its name: `.xlsx`, `.xlsm`, `.xls`, `.ods`).
pub fn is_workbook(path: &Path) -> bool {
    let lower = path.to_string_lossy().to_lowercase();
    [".xlsx", ".xlsm", ".xls", ".ods"].iter().any(|e| lower.ends_with(e))
}

/// The most digits a number in a workbook keeps: Excel stores 15 significant digits, so an
/// order number of 18 digits typed as a number was cut when it was saved.
const EXACT_DIGITS: f64 = 1e15;

/// A cell of a workbook as the text a CSV would have held; a number that cannot be the digits
/// that were typed (too long to be kept whole) is refused rather than stored wrong.
fn cell_text(c: &calamine::Data) -> Result<String, String> {
    use calamine::Data;
    Ok(match c {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => clean_value(s),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.abs() >= EXACT_DIGITS && f.fract() == 0.0 => {
            // As Excel shows it: 15 significant digits, `2.688E+17`.
            let shown = format!("{f:.14E}");
            let (mantissa, exp) = shown.split_once('E').unwrap_or((&shown, "0"));
            let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
            return Err(format!(
                "{mantissa}E+{exp} is stored as a number, which keeps 15 digits: its last digits may be lost; \
                 store the column as text in the workbook and export it again"
            ));
        }
        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        Data::Float(f) => format!("{f}"),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(t) => match t.as_datetime() {
            Some(d) if d.time() == chrono::NaiveTime::MIN => d.format("%Y-%m-%d").to_string(),
            Some(d) => d.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => return Err(format!("{t} is not a date")),
        },
        Data::Error(e) => return Err(format!("the cell holds the error {e:?}")),
    })
}

/// The first sheet a workbook shows: a hidden one (a seller tool's sample row or its lists) is
/// not what its user looks at.
pub fn first_shown_sheet<R: calamine::Reader<std::io::BufReader<std::fs::File>>>(book: &R) -> Option<String> {
    book.sheets_metadata()
        .iter()
        .find(|s| s.visible == calamine::SheetVisible::Visible && s.typ == calamine::SheetType::WorkSheet)
        .map(|s| s.name.clone())
}

/// A cell of a sheet that holds something: its column as the sheet counts it from 0, its value
/// (the one saved with it, for a formula), and its formula.
struct SheetCell {
    col: u32,
    value: calamine::Data,
    formula: Option<String>,
}

/// A sheet's cells that hold something, by their row (counted from 0). Only those cells are
/// kept: a stray cell far below or to the right (`XFD1048576`) costs one cell, not the
/// rectangle up to it.
type SparseSheet = std::collections::BTreeMap<u32, Vec<SheetCell>>;

/// A sheet's rows that hold something, in order: each its number (counted from 0) and its
/// cells that hold something.
type SheetRows = Box<dyn Iterator<Item = Result<(u32, Vec<SheetCell>), Problem>> + Send>;

/// A piece of a number format that shows a whole number as digits among fixed characters.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    /// A digit's place: `0` shows a zero where the number has no digit, `#` nothing.
    Digit {
        forced: bool,
    },
    Text(String),
}

/// The format's way of showing a whole number, when it is digits among fixed characters:
/// `00000`, `000-000`, `"0"0000`, `\00000`, `#00000`, `00000_)`, `0000 `, by its first section
/// (`00000;-00000`: how a positive number is shown), colours passed over. None for a format
/// that shows the number as its plain digits (`0`, `General`) and for any other (a decimal
/// point, a thousands separator, a percentage, an exponent, a fraction, a date, a condition
/// such as `[<=99999]`).
fn digit_format(code: &str) -> Option<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        match c {
            ';' => break,
            '0' | '#' => pieces.push(Piece::Digit { forced: c == '0' }),
            '"' => pieces.push(Piece::Text(chars.by_ref().take_while(|&q| q != '"').collect())),
            '\\' => pieces.push(Piece::Text(chars.next()?.to_string())),
            // `_)`: a space as wide as `)`; `*-`: `-` repeated to fill the cell.
            '_' | '*' => {
                chars.next()?;
            }
            '[' => {
                let inside: String = chars.by_ref().take_while(|&q| q != ']').collect();
                if inside.starts_with(['<', '>', '=']) {
                    return None;
                }
            }
            '$' | '-' | '+' | '(' | ')' | ' ' => pieces.push(Piece::Text(c.to_string())),
            _ => return None,
        }
    }
    let forced = pieces.iter().filter(|p| **p == Piece::Digit { forced: true }).count();
    let digits = pieces.iter().filter(|p| matches!(p, Piece::Digit { .. })).count();
    let literal = pieces.iter().any(|p| matches!(p, Piece::Text(t) if !t.trim().is_empty()));
    (digits > 0 && (forced > 1 || literal)).then_some(pieces)
}

/// A whole number `n` as `pieces` show it (see [`digit_format`]), without the spaces at its
/// ends: 123 through `00000` is `00123`, 123456 through `000-000` is `123-456`.
fn show_digits(pieces: &[Piece], n: u64) -> String {
    let places: Vec<bool> = pieces
        .iter()
        .filter_map(|p| if let Piece::Digit { forced } = p { Some(*forced) } else { None })
        .collect();
    // At least as many digits as from the first `0` on.
    let least = places.iter().position(|f| *f).map_or(0, |i| places.len() - i);
    let digits = format!("{n:0least$}");
    // Aligned at the right: each place takes the number's digit under it, the first place
    // every digit left of it too.
    let (k, len) = (places.len(), digits.len());
    let mut given = vec![String::new(); k];
    for (j, d) in digits.chars().enumerate() {
        given[(j + k).saturating_sub(len)].push(d);
    }
    let mut out = String::new();
    let mut place = 0;
    for p in pieces {
        match p {
            Piece::Digit { .. } => {
                out.push_str(&given[place]);
                place += 1;
            }
            Piece::Text(t) => out.push_str(t),
        }
    }
    out.trim().to_string()
}

/// An `.xlsx` sheet's rows as they are read, on a thread of its own: the rows are checked
/// (and spooled) while the rest of the sheet is still being read, and only a few hundred rows
/// are held at a time, however long the sheet. A read that fails part of the way is a fatal
/// problem in its place among the rows, so that nothing is imported.
fn xlsx_rows(
    book: calamine::Xlsx<std::io::BufReader<std::fs::File>>,
    path: &Path,
    name: &str,
    display: &str,
) -> Result<SheetRows, Problem> {
    let (tx, rx) = std::sync::mpsc::sync_channel(256);
    let (path, name, shown) = (path.to_path_buf(), name.to_string(), display.to_string());
    std::thread::Builder::new()
        .name("workbook".into())
        .spawn(move || {
            if let Err(mut p) = read_xlsx(book, &path, &name, &shown, &tx) {
                p.fatal = true;
                let _ = tx.send(Err(p));
            }
        })
        .map_err(|e| Problem::unusable(display, format!("cannot read the sheet: {e}")))?;
    Ok(Box::new(rx.into_iter()))
}

/// Reads an `.xlsx` sheet cell by cell, each with its formula, and sends its rows that hold
/// something to `tx` (until it is no longer listened to). A whole number shown through a
/// format of digits among fixed characters ([`digit_format`]: `00000`, a code whose leading
/// zeros the sheet shows but does not store) is taken as it is shown, `00123`.
fn read_xlsx(
    mut book: calamine::Xlsx<std::io::BufReader<std::fs::File>>,
    path: &Path,
    name: &str,
    display: &str,
    tx: &std::sync::mpsc::SyncSender<Result<(u32, Vec<SheetCell>), Problem>>,
) -> Result<(), Problem> {
    let unreadable =
        |e: calamine::XlsxError| Problem::unusable(display, format!("cannot read the sheet: {e}"));
    let mut reader = book.worksheet_cells_reader(name).map_err(unreadable)?;
    let shown: HashMap<usize, Vec<Piece>> = reader
        .styles()
        .iter()
        .enumerate()
        .filter_map(|(id, style)| Some((id, digit_format(&style.number_format.as_ref()?.format_code)?)))
        .collect();
    // The cells' styles are read only when the workbook has such a format at all: by a second
    // reader of the same sheet, in step with the first (each meets the cells in the order the
    // sheet holds them, which is checked to be the sheet's own order).
    let mut second = match shown.is_empty() {
        true => None,
        false => Some(calamine::open_workbook::<calamine::Xlsx<_>, _>(path).map_err(unreadable)?),
    };
    let mut styles = match second.as_mut() {
        Some(b) => Some(b.worksheet_cells_reader(name).map_err(unreadable)?),
        None => None,
    };
    let mut styled: Option<(u32, u32, usize)> = None;
    let mut last: Option<(u32, u32)> = None;
    let mut row: (u32, Vec<SheetCell>) = (0, Vec::new());
    while let Some(cell) = reader.next_cell_with_formula().map_err(unreadable)? {
        let pos = cell.pos;
        if let Some(before) = last.filter(|l| pos <= *l) {
            return Err(Problem::new(
                display,
                Some(u64::from(pos.0) + 1),
                format!(
                    "the sheet's cells are not stored in order (row {} comes after row {}): the \
                     program that wrote it put them out of order; open the file in Excel or \
                     LibreOffice and save it again",
                    pos.0 + 1,
                    before.0 + 1
                ),
            ));
        }
        last = Some(pos);
        let mut value = calamine::Data::from(cell.value);
        let formula = cell.formula.filter(|f| !f.is_empty());
        if value == calamine::Data::Empty && formula.is_none() {
            continue;
        }
        if let Some(reader) = styles.as_mut() {
            while styled.is_none_or(|(r, c, _)| (r, c) < pos) {
                styled = reader.next_style_id().map_err(unreadable)?;
                if styled.is_none() {
                    // Past the last styled cell: the second reader is done.
                    styles = None;
                    break;
                }
            }
            if let Some(pieces) = styled.filter(|(r, c, _)| (*r, *c) == pos).and_then(|s| shown.get(&s.2)) {
                value = shown_through(value, pieces);
            }
        }
        if pos.0 != row.0 && !row.1.is_empty() && tx.send(Ok(std::mem::take(&mut row))).is_err() {
            // No longer listened to: the import stopped.
            return Ok(());
        }
        row.0 = pos.0;
        row.1.push(SheetCell { col: pos.1, value, formula });
    }
    if !row.1.is_empty() {
        let _ = tx.send(Ok(row));
    }
    Ok(())
}

/// A whole number as `pieces` show it (see [`digit_format`]), as text; any other value as it is.
fn shown_through(value: calamine::Data, pieces: &[Piece]) -> calamine::Data {
    let whole = match value {
        calamine::Data::Int(i) if i >= 0 => Some(i as f64),
        calamine::Data::Float(f) if f >= 0.0 && f.fract() == 0.0 => Some(f),
        _ => None,
    };
    match whole.filter(|n| *n < EXACT_DIGITS) {
        Some(n) => calamine::Data::String(show_digits(pieces, n as u64)),
        None => value,
    }
}

/// A sheet that calamine reads only whole (`.xls`, `.ods`), as its cells that hold something.
fn range_cells(
    range: calamine::Range<calamine::Data>,
    formulas: Option<calamine::Range<String>>,
) -> SparseSheet {
    let mut sheet = SparseSheet::new();
    let (top, left) = range.start().unwrap_or((0, 0));
    for (r, c, value) in range.used_cells() {
        let (row, col) = (top + r as u32, left + c as u32);
        sheet.entry(row).or_default().push(SheetCell { col, value: value.clone(), formula: None });
    }
    if let Some(formulas) = formulas {
        let (top, left) = formulas.start().unwrap_or((0, 0));
        for (r, c, f) in formulas.used_cells().filter(|(_, _, f)| !f.is_empty()) {
            let (row, col) = (top + r as u32, left + c as u32);
            let cells = sheet.entry(row).or_default();
            match cells.iter_mut().find(|x| x.col == col) {
                Some(cell) => cell.formula = Some(f.clone()),
                None => cells.push(SheetCell { col, value: calamine::Data::Empty, formula: Some(f.clone()) }),
            }
        }
    }
    sheet
}

/// A workbook opened by what it is: by its name first, then, for a file whose bytes say
/// otherwise (an `.xlsx` saved as `.xls`, which seller tools do), by its bytes. A file that is
/// no workbook at all is told as what it is: empty, text (a CSV renamed), a web page (an
/// "Excel" export that is HTML), or a zip of something else.
pub fn open_book(path: &Path) -> Result<calamine::Sheets<std::io::BufReader<std::fs::File>>, Problem> {
    use calamine::{open_workbook, Ods, Sheets, Xls, Xlsx};
    let file = path.display().to_string();
    let by_name = match calamine::open_workbook_auto(path) {
        Ok(book) => return Ok(book),
        Err(e) => e,
    };
    let mut start = [0u8; 16];
    let read = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut start))
        .map_err(|e| Problem::unusable(&file, format!("cannot read: {e}")))?;
    let start = &start[..read];
    let zip = start.starts_with(b"PK\x03\x04");
    let ole = start.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
    if zip {
        if let Ok(book) = open_workbook::<Xlsx<_>, _>(path) {
            return Ok(Sheets::Xlsx(book));
        }
        if let Ok(book) = open_workbook::<Ods<_>, _>(path) {
            return Ok(Sheets::Ods(book));
        }
    }
    if ole {
        if let Ok(book) = open_workbook::<Xls<_>, _>(path) {
            return Ok(Sheets::Xls(book));
        }
    }
    let text = String::from_utf8_lossy(start);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let why = if read == 0 {
        "is empty: no workbook, nothing to import".to_string()
    } else if zip {
        format!("is a zip archive, but no workbook that can be read ({by_name})")
    } else if text.starts_with('<') {
        "is a web page (HTML) under a workbook's name, not a workbook: open it in Excel or WPS and \
         save it as .xlsx"
            .to_string()
    } else if !ole {
        "is not a workbook, whatever its name says (its bytes are not a workbook's): a CSV or text \
         file renamed? name it .csv (or .tsv, .json) and import it again"
            .to_string()
    } else {
        format!("cannot read the workbook: {by_name}")
    };
    Err(Problem::unusable(&file, why))
}

/// A workbook's sheet (`sheet`, else the first it shows) as a table, and the sheet's name;
/// rows are named as Excel numbers them, and messages name the file and the sheet:
/// `returns.xlsx!Sheet1:12: ...`.
pub fn workbook(
    path: &Path,
    sheet: Option<&str>,
    fields: &'static [FieldSpec],
) -> Result<(Table, String), Problem> {
    use calamine::Reader;
    let file = path.display().to_string();
    let book = open_book(path)?;
    let names = book.sheet_names();
    let name = match sheet {
        Some(s) => names.iter().find(|n| n.as_str() == s).cloned().ok_or_else(|| {
            Problem::unusable(&file, format!("no sheet {s} (its sheets: {})", names.join(", ")))
        })?,
        None => first_shown_sheet(&book)
            .ok_or_else(|| Problem::unusable(&file, "the workbook has no sheet that is shown"))?,
    };
    let display = format!("{file}!{name}");
    let unreadable = |e: String| Problem::unusable(&display, format!("cannot read the sheet: {e}"));
    let rows: SheetRows = match book {
        calamine::Sheets::Xlsx(x) => xlsx_rows(x, path, &name, &display)?,
        mut other => {
            let range = other.worksheet_range(&name).map_err(|e| unreadable(e.to_string()))?;
            // A formula's cells: one without the value it gave when last saved (a file made by
            // a program that never calculated it) reads as empty, which it is not.
            let formulas = other.worksheet_formula(&name).ok();
            Box::new(range_cells(range, formulas).into_iter().map(Ok))
        }
    };
    let table = sheet_table(rows, fields, &display)?;
    Ok((table, name))
}

/// How far down a sheet its header may be: rows 1 to 10 (a title, a date, a banner above it).
const TITLE_ROWS: u32 = 9;

/// A sheet's rows as a table, from its header row on; the rows after the header are taken as
/// they are read.
fn sheet_table(rows: SheetRows, fields: &'static [FieldSpec], display: &str) -> Result<Table, Problem> {
    let mut rows = rows.peekable();
    let aliases = Aliases::new(fields);
    // The header is the first row that names every required field. Above it, only a seller
    // tool's title rows are passed over (`退货明细`, `导出时间 2026-11-20`): in the sheet's first
    // ten rows, one or two cells each, none naming a field. Any other row above a header is
    // refused, never dropped: a row naming fields is a header that lacks one (its complaint
    // is told), anything else may be data (the first row's complaint is told).
    let mut first_complaint: Option<Problem> = None;
    let (at, mut header) = loop {
        let (at, cells) = match rows.next() {
            Some(row) => row?,
            None => {
                return Err(
                    first_complaint.unwrap_or_else(|| Problem::new(display, Some(1), "the sheet is empty"))
                )
            }
        };
        let header = texts(&cells);
        match header_columns(header.iter().map(String::as_str), fields, display, u64::from(at) + 1) {
            Ok(_) if first_complaint.is_none() || at <= TITLE_ROWS => break (at, header),
            Ok(_) => return Err(first_complaint.expect("checked")),
            Err(complaint) => {
                let filled = header.iter().filter(|t| !t.is_empty()).count();
                if header.iter().any(|t| aliases.field(t).is_some()) {
                    return Err(complaint);
                }
                let first = first_complaint.get_or_insert(complaint);
                if at >= TITLE_ROWS || filled > 2 {
                    return Err(first.clone());
                }
            }
        }
    };
    // A second header row right under it (the contract's field names under headers in words,
    // as this program's own export has them; or fuller labels under short ones) is a header,
    // not a row: under every column a field was found in, a name of that same field. Its
    // names count where the first row's name none.
    let named = |header: &[String]| -> Vec<(usize, usize)> {
        header.iter().enumerate().filter_map(|(c, h)| aliases.field(h).map(|f| (f, c))).collect()
    };
    if let Some(Ok((next, cells))) = rows.peek() {
        let under = texts(cells);
        let text = |c: usize| under.get(c).cloned().unwrap_or_default();
        let mapped = named(&header);
        if *next == at + 1
            && !mapped.is_empty()
            && mapped.iter().all(|(f, c)| aliases.field(&text(*c)) == Some(*f))
        {
            header.resize(header.len().max(under.len()), String::new());
            for (c, h) in header.iter_mut().enumerate() {
                if aliases.field(h).is_none() && aliases.field(&text(c)).is_some() {
                    *h = text(c);
                }
            }
            rows.next();
        }
    }
    let (columns, ignored) =
        header_columns(header.iter().map(String::as_str), fields, display, u64::from(at) + 1)?;
    // Rows are read as wide as the last column a field is in: a stray cell far to the right of
    // the header (`XFD1`) does not widen every row.
    let width = columns.iter().flatten().max().map_or(0, |c| c + 1);
    let display = display.to_string();
    let out = rows.filter_map(move |row| {
        let (at, cells) = match row {
            Ok(row) => row,
            Err(p) => return Some(Err(p)),
        };
        let line = u64::from(at) + 1;
        let (cells, formulas, beyond) = spread(cells, width);
        if !beyond && cells.iter().all(|c| cell_text(c).is_ok_and(|t| t.is_empty())) {
            return None;
        }
        let mut values = vec![String::new(); columns.len()];
        let mut refused = None;
        for (f, cols) in columns.iter().enumerate() {
            for &c in cols {
                match cell_text(&cells[c]) {
                    Ok(v) if !v.is_empty() => {
                        values[f] = v;
                        break;
                    }
                    Ok(_) => {
                        if let Some(formula) = &formulas[c] {
                            refused.get_or_insert_with(|| {
                                format!(
                                    "{}: the formula ={formula} has no value saved with it: open the file \
                                     in Excel or LibreOffice and save it again (or store the value itself)",
                                    fields[f].name
                                )
                            });
                        }
                    }
                    Err(why) => {
                        refused.get_or_insert_with(|| format!("{}: {why}", fields[f].name));
                    }
                }
            }
        }
        Some(match refused {
            Some(m) => Err(Problem::new(&display, Some(line), m)),
            None => Ok(Row { line, item: None, values }),
        })
    });
    Ok(Table { encoding: TextEncoding::Utf8, format: Format::Workbook, ignored, rows: out.fuse_after_io() })
}

/// A data row as `width` columns (from column A), each cell's value and formula; whether it
/// holds something beyond them.
fn spread(cells: Vec<SheetCell>, width: usize) -> (Vec<calamine::Data>, Vec<Option<String>>, bool) {
    let mut values = vec![calamine::Data::Empty; width];
    let mut formulas: Vec<Option<String>> = vec![None; width];
    let mut beyond = false;
    for c in cells {
        let i = c.col as usize;
        if i < width {
            values[i] = c.value;
            formulas[i] = c.formula;
        } else if cell_text(&c.value).map_or(true, |t| !t.is_empty()) {
            beyond = true;
        }
    }
    (values, formulas, beyond)
}

/// A row's cells as text, from column A to its last cell.
fn texts(cells: &[SheetCell]) -> Vec<String> {
    let mut t = vec![String::new(); cells.iter().map(|c| c.col as usize + 1).max().unwrap_or(0)];
    for c in cells {
        t[c.col as usize] = cell_text(&c.value).unwrap_or_default();
    }
    t
}

/// After an IO error (bad bytes) a CSV reader cannot go on meaningfully: stop there.
trait FuseAfterIo: Iterator<Item = Result<Row, Problem>> + Sized {
    fn fuse_after_io(self) -> Box<dyn Iterator<Item = Result<Row, Problem>> + Send>
    where
        Self: Send + 'static,
    {
        let mut done = false;
        let mut inner = self;
        Box::new(std::iter::from_fn(move || {
            if done {
                return None;
            }
            let next = inner.next();
            if let Some(Err(p)) = &next {
                if p.fatal {
                    done = true;
                }
            }
            next
        }))
    }
}

impl<I: Iterator<Item = Result<Row, Problem>>> FuseAfterIo for I {}

fn csv_problem(display: &str, e: &csv::Error) -> Problem {
    let line = e.position().map(|p| p.line());
    match e.kind() {
        csv::ErrorKind::Io(io) => {
            if let Some(m) = io.get_ref().and_then(|e| e.downcast_ref::<super::decode::MixedLine>()) {
                let mut p = Problem::new(display, Some(m.line), m.to_string());
                p.fatal = true;
                return p;
            }
            let mut p = Problem::new(display, line, format!("cannot read the file: {io}"));
            p.fatal = true;
            p
        }
        csv::ErrorKind::Utf8 { .. } => {
            Problem::new(display, line, "not valid UTF-8 (the file mixes text encodings)")
        }
        _ => Problem::new(display, line, format!("malformed CSV: {e}")),
    }
}

/// JSON: an array of objects, or one object per line (JSON Lines). An object with a `lines`
/// array is a return with its lines; each line becomes a row carrying the return's fields.
fn json_table(
    reader: Box<dyn Read + Send>,
    encoding: TextEncoding,
    display: &str,
    fields: &'static [FieldSpec],
) -> Result<Table, Problem> {
    let text = decode::read_all(reader)
        .map_err(|e| Problem::new(display, None, format!("cannot read the file: {e}")))?;
    let values = json_values(&text).map_err(|(line, msg)| Problem::new(display, Some(line), msg))?;
    let aliases = Aliases::new(fields);
    let mut ignored: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for (line, value) in values {
        let Value::Object(obj) = value else {
            rows.push(Err(Problem::new(display, Some(line), "expected an object {...}")));
            continue;
        };
        let mut base = vec![String::new(); fields.len()];
        let mut nested: Option<Vec<Value>> = None;
        let mut bad = None;
        for (k, v) in obj {
            if matches!(header_key(&k).as_str(), "lines" | "items" | "商品" | "明细") {
                match v {
                    Value::Array(items) => nested = Some(items),
                    _ => bad = Some(format!("\"{k}\" must be an array of lines")),
                }
                continue;
            }
            put(&aliases, &mut base, &mut ignored, &k, &v, &mut bad);
        }
        if let Some(msg) = bad {
            rows.push(Err(Problem::new(display, Some(line), msg)));
            continue;
        }
        match nested {
            None => rows.push(Ok(Row { line, item: None, values: base })),
            Some(items) if items.is_empty() => {
                rows.push(Err(Problem::new(display, Some(line), "the return has an empty \"lines\" array")))
            }
            Some(items) => {
                for (i, item) in items.into_iter().enumerate() {
                    let Value::Object(lo) = item else {
                        rows.push(Err(Problem::new(
                            display,
                            Some(line),
                            format!("item {}: expected an object", i + 1),
                        )));
                        continue;
                    };
                    let mut values = base.clone();
                    let mut bad = None;
                    for (k, v) in lo {
                        put(&aliases, &mut values, &mut ignored, &k, &v, &mut bad);
                    }
                    rows.push(match bad {
                        Some(msg) => Err(Problem::new(display, Some(line), format!("item {}: {msg}", i + 1))),
                        None => Ok(Row { line, item: Some(i + 1), values }),
                    });
                }
            }
        }
    }
    Ok(Table { encoding, format: Format::Json, ignored, rows: Box::new(rows.into_iter()) })
}

fn put(
    aliases: &Aliases,
    values: &mut [String],
    ignored: &mut Vec<String>,
    key: &str,
    v: &Value,
    bad: &mut Option<String>,
) {
    let Some(f) = aliases.field(key) else {
        let shown = crate::domain::text::on_screen(key);
        if !ignored.contains(&shown) {
            ignored.push(shown);
        }
        return;
    };
    let text = match v {
        Value::Null => String::new(),
        Value::String(s) => clean_value(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => clean_value(s),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(";"),
        Value::Object(_) => {
            *bad = Some(format!("\"{}\" must not be an object", crate::domain::text::on_screen(key)));
            return;
        }
    };
    if values[f].is_empty() {
        values[f] = text;
    }
}

/// Splits JSON text into its top-level values with the line each starts on: the elements of
/// one array, or a stream of values (JSON Lines).
fn json_values(text: &str) -> Result<Vec<(u64, Value)>, (u64, String)> {
    let bytes = text.as_bytes();
    let mut line = 1u64;
    let mut pos = 0usize;
    let skip_ws = |pos: &mut usize, line: &mut u64| {
        while *pos < bytes.len() && bytes[*pos].is_ascii_whitespace() {
            if bytes[*pos] == b'\n' {
                *line += 1;
            }
            *pos += 1;
        }
    };
    skip_ws(&mut pos, &mut line);
    let in_array = bytes.get(pos) == Some(&b'[');
    if in_array {
        pos += 1;
    }
    let mut out = Vec::new();
    loop {
        skip_ws(&mut pos, &mut line);
        if pos >= bytes.len() {
            if in_array {
                return Err((line, "the JSON array is not closed with ]".into()));
            }
            return Ok(out);
        }
        if in_array && bytes[pos] == b']' {
            pos += 1;
            skip_ws(&mut pos, &mut line);
            return if pos < bytes.len() { Err((line, "text after the closing ]".into())) } else { Ok(out) };
        }
        let start_line = line;
        let mut stream = serde_json::Deserializer::from_str(&text[pos..]).into_iter::<Value>();
        match stream.next() {
            Some(Ok(v)) => {
                let end = pos + stream.byte_offset();
                line += bytes[pos..end].iter().filter(|&&b| b == b'\n').count() as u64;
                pos = end;
                out.push((start_line, v));
            }
            Some(Err(e)) => return Err((start_line + e.line() as u64 - 1, format!("invalid JSON: {e}"))),
            None => return Ok(out),
        }
        if in_array {
            skip_ws(&mut pos, &mut line);
            match bytes.get(pos) {
                Some(b',') => pos += 1,
                Some(b']') => {}
                _ => return Err((line, "expected , or ] between array elements".into())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_fold() {
        assert_eq!(header_key(" Amazon RMA ID "), "amazon_rma_id");
        assert_eq!(header_key("amazon-order-id"), "amazon_order_id");
        assert_eq!(header_key("Tracking/ID"), "tracking_id");
        assert_eq!(header_key("\u{feff}ＳＫＵ"), "sku");
        assert_eq!(header_key("退款编号 "), "退款编号");
    }

    #[test]
    fn excel_guards_come_off() {
        assert_eq!(clean_value("'12345678901234567890"), "12345678901234567890");
        assert_eq!(clean_value("\t12345678901234567890"), "12345678901234567890");
        assert_eq!(clean_value("=\"000123\""), "000123");
        assert_eq!(clean_value("  plain "), "plain");
    }

    #[test]
    fn whole_numbers_are_taken_as_their_format_shows_them() {
        let shown = |code: &str, n: u64| digit_format(code).map(|p| show_digits(&p, n));
        for (code, n, want) in [
            ("00000", 123, "00123"),
            ("00000;-00000", 123, "00123"),
            ("00000;-00000;00000", 123, "00123"),
            ("\"0\"0000", 123, "00123"),
            ("\\00000", 123, "00123"),
            ("00000_)", 123, "00123"),
            ("0000 ", 246, "0246"),
            ("#00000", 123, "00123"),
            ("[Blue]00000", 123, "00123"),
            ("000-000", 123456, "123-456"),
            ("000-000", 123, "000-123"),
            ("00000", 1234567, "1234567"),
            ("\"SKU-\"0000", 17, "SKU-0017"),
        ] {
            assert_eq!(shown(code, n).as_deref(), Some(want), "{code} {n}");
        }
        // Plain digits, or what is no code: the number as it is.
        for code in
            ["0", "General", "#,##0", "0.00", "0%", "yyyy-mm-dd", "[<=99999]00000;000000", "@", "# ?/?"]
        {
            assert_eq!(shown(code, 123), None, "{code}");
        }
    }

    #[test]
    fn json_values_know_their_lines() {
        let v = json_values("[\n {\"a\":1},\n\n {\"a\":2}\n]").unwrap();
        assert_eq!(v.iter().map(|(l, _)| *l).collect::<Vec<_>>(), vec![2, 4]);
        let v = json_values("{\"a\":1}\n{\"a\":2}\n").unwrap();
        assert_eq!(v.iter().map(|(l, _)| *l).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(json_values("[\n{\"a\":1}\n{\"a\":2}]").unwrap_err().0, 3);
        assert_eq!(json_values("{\"a\":1}\n{\"a\":}\n").unwrap_err().0, 2);
    }
}
