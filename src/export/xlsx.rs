//! The export as a workbook (`export --format xlsx`): the CSV's rows and columns, with cells of
//! their kind, so that after-sales' spreadsheet needs no guarding and no converting. Amounts are
//! numbers with two decimals, times are dates (in the exporting machine's zone, named in the
//! workbook's properties), and everything else is text written as text: an order number never
//! becomes 1.01E+17 and no cell is ever a formula. Row 1 holds the headers in the export's
//! language, row 2 the contract's field names (what a program reads); both stay in view
//! (frozen) and row 2 carries the filter.

use super::{ExportRow, COLUMNS, WIDTH};
use crate::domain::codes::Lang;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, Workbook, XlsxError};

/// Each column's header, in English and in Chinese, in the order of [`COLUMNS`].
pub const HEADERS: [(&str, &str); WIDTH] = [
    ("RMA", "售后单号"),
    ("Order", "订单号"),
    ("Tracking number", "运单号"),
    ("Parcel", "包裹"),
    ("Unit", "商品编号"),
    ("Station", "工位"),
    ("Operator", "验货员"),
    ("Received", "收货时间"),
    ("Signed", "签收时间"),
    ("SKU", "SKU"),
    ("Barcode", "条码"),
    ("Serial number", "序列号"),
    ("Product", "商品名称"),
    ("Outcome", "处理结果"),
    ("Grade", "等级"),
    ("Reason", "原因"),
    ("Cause", "原因归属"),
    ("Discrepancy", "差异"),
    ("Note", "备注"),
    ("Value", "金额"),
    ("Resolution", "售后方式"),
    ("Review", "复核"),
    ("Reviewed by", "复核人"),
    ("Reviewed", "复核时间"),
    ("Review comment", "复核意见"),
    ("Photos", "照片"),
    ("Destination", "去向"),
    ("Marketplace refusal id", "平台拒收原因编号"),
];

/// The kind of a column's cells.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Amount,
    Time,
}

fn kind_of(column: &str) -> Kind {
    match column {
        "unit_value" => Kind::Amount,
        "received_at" | "signed_at" | "reviewed_at" => Kind::Time,
        _ => Kind::Text,
    }
}

/// How wide a text shows, in Excel's character widths (a Chinese character is two).
fn width_of(text: &str) -> usize {
    text.chars().map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 }).sum()
}

/// Writes the rows `rows` yields as a workbook to `w`, each as it comes (the sheet's cells go
/// to a temporary file, so nothing holds them all); times are as the rows give them (RFC 3339
/// in `zone`). Each column's width, its widest cell's, is set once the last row is in.
pub fn write<W: std::io::Write + std::io::Seek + Send>(
    w: W,
    rows: impl IntoIterator<Item = ExportRow>,
    lang: Lang,
    zone: chrono::FixedOffset,
) -> Result<(), XlsxError> {
    let mut book = Workbook::new();
    // Excel's own level: the sheet's XML takes about a third less time to compress for a file
    // about 5% larger than at the default 6.
    book.set_zip_compression_level(3);
    book.set_properties(&DocProperties::new().set_title("returns-dock export").set_comment(format!(
        "Times are in UTC{zone}; field names in row 2 are the contract's (section 5)."
    )));
    let head = Format::new().set_bold().set_background_color("DDEBF7");
    let names = Format::new().set_italic().set_font_color("595959").set_background_color("F2F2F2");
    let amount = Format::new().set_num_format("0.00").set_align(FormatAlign::Right);
    let time = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let sheet = book.add_worksheet_with_constant_memory()?;
    sheet.set_name(match lang {
        Lang::En => "Results",
        Lang::Zh => "验货结果",
    })?;
    let kinds: Vec<Kind> = COLUMNS.iter().map(|c| kind_of(c)).collect();
    let header = |i: usize| match lang {
        Lang::En => HEADERS[i].0,
        Lang::Zh => HEADERS[i].1,
    };
    for i in 0..WIDTH {
        sheet.write_string_with_format(0, i as u16, header(i), &head)?;
    }
    for (i, column) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(1, i as u16, *column, &names)?;
    }
    sheet.set_freeze_panes(2, 0)?;
    // Printed, the sheet goes across one landscape page, the headers on each.
    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(0, 1)?;
    let mut widest = [0usize; WIDTH];
    let mut row = 2u32;
    for r in rows {
        for (i, cell) in r.cells().iter().enumerate() {
            if cell.is_empty() {
                continue;
            }
            let col = i as u16;
            match kinds[i] {
                Kind::Amount => match cell.parse::<f64>() {
                    Ok(v) => sheet.write_number_with_format(row, col, v, &amount)?,
                    Err(_) => sheet.write_string(row, col, *cell)?,
                },
                Kind::Time => match excel_time(cell) {
                    Some(t) => sheet.write_datetime_with_format(row, col, &t, &time)?,
                    None => sheet.write_string(row, col, *cell)?,
                },
                // Text as text: never read as a number or run as a formula, whatever it
                // begins with.
                Kind::Text => sheet.write_string(row, col, &*fit(cell))?,
            };
            if kinds[i] != Kind::Time {
                widest[i] = widest[i].max(width_of(cell));
            }
        }
        row += 1;
    }
    // Widths that fit (within reason: a long note wraps in its cell's width of 60).
    for (i, column) in COLUMNS.iter().enumerate() {
        let cells = if kinds[i] == Kind::Time { 19 } else { widest[i] };
        let fit = cells.max(width_of(header(i))).max(column.len()).clamp(6, 60);
        sheet.set_column_width(i as u16, fit as f64 + 1.0)?;
    }
    sheet.autofilter(1, 0, (row - 1).max(2), (WIDTH - 1) as u16)?;
    book.save_to_writer(w)
}

/// The most characters a cell holds in Excel (counted in UTF-16: an emoji is two).
const CELL_MAX: usize = 32_767;

/// A text as a cell holds it: one longer than Excel allows (a pasted review comment) is cut,
/// saying so, rather than stopping the export of every row with it.
fn fit(cell: &str) -> std::borrow::Cow<'_, str> {
    const CUT: &str = " … [cut at Excel's 32,767 characters: the CSV export has it whole]";
    let units = |t: &str| t.encode_utf16().count();
    if units(cell) <= CELL_MAX {
        return cell.into();
    }
    let mut room = CELL_MAX - units(CUT);
    let kept: String = cell
        .chars()
        .take_while(|c| {
            let n = c.len_utf16();
            let fits = n <= room;
            room = room.saturating_sub(n);
            fits
        })
        .collect();
    format!("{kept}{CUT}").into()
}

/// An RFC 3339 time as Excel's date and time of day, as the clock in its offset read.
fn excel_time(text: &str) -> Option<ExcelDateTime> {
    use chrono::{Datelike, Timelike};
    let t = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    ExcelDateTime::from_ymd(t.year() as u16, t.month() as u8, t.day() as u8)
        .ok()?
        .and_hms_milli(
            t.hour() as u16,
            t.minute() as u8,
            t.second() as u8,
            t.timestamp_subsec_millis() as u16,
        )
        .ok()
}

#[cfg(test)]
mod tests {
    /// Found: a review comment of 40,000 characters stopped every workbook export with it.
    #[test]
    fn a_text_longer_than_a_cell_is_cut_saying_so() {
        let long = "评😀".repeat(20_000);
        let cell = super::fit(&long);
        assert!(cell.encode_utf16().count() <= super::CELL_MAX, "{}", cell.encode_utf16().count());
        assert!(cell.encode_utf16().count() > super::CELL_MAX - 3);
        assert!(cell.ends_with("the CSV export has it whole]"), "{}", &cell[cell.len() - 80..]);
        assert_eq!(super::fit("short"), "short");
    }
}
