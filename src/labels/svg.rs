//! Labels as SVG for screens and office printers: the command sheet (one A4 page), badges and
//! unit labels. Sizes are in millimetres; the text is drawn by the viewer's fonts, so Chinese
//! shows wherever a CJK font is installed.

use super::{xml, Barcode, BarcodeError, QUIET_MODULES};
use crate::domain::codes::{Coded, Reason};
use crate::domain::scan::Command;

fn doc(width_mm: f64, height_mm: f64, body: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width_mm}mm\" height=\"{height_mm}mm\" viewBox=\"0 0 {width_mm} {height_mm}\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<g font-family=\"sans-serif\">\n{body}</g>\n</svg>\n"
    )
}

/// A barcode at (x, y) with its quiet zone, `module` mm a module, and its text under it.
fn barcode(text: &str, x: f64, y: f64, module: f64, height: f64) -> Result<String, BarcodeError> {
    let b = Barcode::code128(text)?;
    let width = b.width_modules() as f64 * module;
    Ok(format!(
        "<g fill=\"black\">{}</g>\n<text x=\"{:.2}\" y=\"{:.2}\" font-size=\"2.6\" text-anchor=\"middle\" font-family=\"monospace\">{}</text>\n",
        b.svg_bars(x, y, module, height),
        x + width / 2.0,
        y + height + 3.2,
        xml(text)
    ))
}

/// The words of a command on the sheet: English / Chinese.
fn words(c: Command) -> (String, String) {
    match c {
        Command::Reason(r) => (r.en().to_string(), r.zh().to_string()),
        Command::SecondHand(g) => (format!("Second-hand {}", g.code()), format!("二手品 {}", g.code())),
        _ => {
            let b = crate::station::keys::binding(crate::station::keys::Action::Command(c));
            let en = b.map_or("", |b| b.en);
            let zh = b.map_or("", |b| b.zh);
            (capitalise(en), zh.to_string())
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// Every command and reason code on one A4 page, grouped as an operator uses them.
pub fn command_sheet() -> Result<String, BarcodeError> {
    let reasons: Vec<Command> = Reason::ALL.iter().map(|r| Command::Reason(*r)).collect();
    // Columns per group: reason codes are long, and neighbouring barcodes must not share
    // their quiet zones, so they get two wide columns.
    let groups: [(&str, Vec<Command>, usize); 3] = [
        ("Outcome of the unit · 处理结果", Command::OUTCOMES.to_vec(), 3),
        ("The parcel · 包裹", Command::PARCEL.to_vec(), 3),
        ("Reason · 原因", reasons, 2),
    ];
    let (module, bar_h, row_h) = (0.2, 9.0, 19.0);
    let mut body = String::from(
        "<text x=\"10\" y=\"12\" font-size=\"5\" font-weight=\"bold\">returns-dock · command sheet · 指令条码</text>\n",
    );
    let mut y = 18.0;
    for (title, cmds, cols) in groups {
        let col_w = 190.0 / cols as f64;
        body.push_str(&format!(
            "<text x=\"10\" y=\"{:.1}\" font-size=\"3.6\" font-weight=\"bold\">{}</text>\n",
            y + 3.5,
            xml(title)
        ));
        y += 5.5;
        for row in cmds.chunks(cols) {
            for (i, c) in row.iter().enumerate() {
                let x = 10.0 + i as f64 * col_w;
                let (en, zh) = words(*c);
                body.push_str(&format!(
                    "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"2.8\">{} · {}</text>\n",
                    x + QUIET_MODULES as f64 * module,
                    y + 3.0,
                    xml(&en),
                    xml(&zh)
                ));
                body.push_str(&barcode(&c.barcode(), x, y + 4.5, module, bar_h)?);
            }
            y += row_h;
        }
        y += 2.0;
    }
    Ok(doc(210.0, 297.0, &body))
}

/// A badge (credit-card size): name, role, and the `OP-<id>` barcode that signs in.
pub fn badge(id: &str, name: &str, role_en: &str, role_zh: &str) -> Result<String, BarcodeError> {
    let code = format!("OP-{id}");
    let module = 0.33;
    let b = Barcode::code128(&code)?;
    let x = ((85.6 - b.width_modules() as f64 * module) / 2.0).max(2.0);
    let body = format!(
        "<text x=\"6\" y=\"12\" font-size=\"7\" font-weight=\"bold\">{}</text>\n<text x=\"6\" y=\"19\" font-size=\"4\">{} · {}</text>\n{}",
        xml(name),
        xml(role_en),
        xml(role_zh),
        barcode(&code, x, 26.0, module, 16.0)?
    );
    Ok(doc(85.6, 54.0, &body))
}

/// A unit label: outcome and grade large, the unit id as a barcode, SKU, RMA and date.
pub fn unit_label(l: &super::zpl::UnitLabel, width_mm: f64, height_mm: f64) -> Result<String, BarcodeError> {
    let module = 0.25;
    let body = format!(
        "<text x=\"3\" y=\"{:.1}\" font-size=\"{:.1}\" font-weight=\"bold\">{} {}</text>\n{}<text x=\"3\" y=\"{:.1}\" font-size=\"{:.1}\">SKU {}</text>\n<text x=\"3\" y=\"{:.1}\" font-size=\"{:.1}\">RMA {}  {}</text>\n",
        height_mm * 0.22,
        height_mm * 0.18,
        xml(&l.outcome.to_uppercase()),
        xml(&l.grade),
        barcode(&l.unit_id, 0.5, height_mm * 0.28, module, height_mm * 0.28)?,
        height_mm * 0.74,
        height_mm * 0.08,
        xml(&l.sku),
        height_mm * 0.86,
        height_mm * 0.08,
        xml(&l.rma),
        xml(&l.date)
    );
    Ok(doc(width_mm, height_mm, &body))
}
