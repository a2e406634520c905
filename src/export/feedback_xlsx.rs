//! The feedback sheet as a workbook (`report feedback --format xlsx`), for the department heads
//! it is meant for: a first sheet that says the week in a few lines, then one sheet per section
//! (departments, causes, the SKUs with the most product defects, turnaround, parcels waiting),
//! each with its figures in typed cells and, where there is something to compare, a native
//! Excel bar chart. In the sheet's language; the codes stay as the CSV has them.

use super::feedback::{label_in, Count, Feedback};
use crate::domain::codes::Lang;
use rust_xlsxwriter::{Chart, ChartType, Format, Workbook, Worksheet, XlsxError};

/// The sheets' names, in English and Chinese.
const SHEETS: [(&str, &str); 6] = [
    ("Summary", "概要"),
    ("Departments", "部门"),
    ("Causes", "原因"),
    ("Defect SKUs", "质量问题SKU"),
    ("Turnaround", "处理时长"),
    ("Waiting", "超时包裹"),
];

fn pick(lang: Lang, en: &str, zh: &str) -> String {
    match lang {
        Lang::En => en.to_string(),
        Lang::Zh => zh.to_string(),
    }
}

fn name(lang: Lang, i: usize) -> &'static str {
    match lang {
        Lang::En => SHEETS[i].0,
        Lang::Zh => SHEETS[i].1,
    }
}

/// The workbook's bytes.
pub fn workbook(f: &Feedback, lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14);
    let head = Format::new().set_bold().set_background_color("DDEBF7");
    let share = Format::new().set_num_format("0.0%");
    let hours = Format::new().set_num_format("0.0");
    let at = f
        .dock
        .as_deref()
        .map(|d| pick(lang, &format!(" at dock {d}"), &format!("（{d} 仓）")))
        .unwrap_or_default();

    // What a head of department reads in ten seconds.
    let s = book.add_worksheet();
    s.set_name(name(lang, 0))?;
    s.set_column_width(0, 90)?;
    s.write_string_with_format(
        0,
        0,
        pick(
            lang,
            &format!("Returns feedback, {} to {}{at}", f.from, f.to),
            &format!("售后反馈 {} 至 {}{at}", f.from, f.to),
        ),
        &title,
    )?;
    let mut lines = vec![pick(
        lang,
        &format!(
            "{} inspected, {} signed.",
            units_en(f.units),
            plural(f.parcels_signed, "parcel", "parcels")
        ),
        &format!("验货 {} 件，签收 {} 个包裹。", f.units, f.parcels_signed),
    )];
    // A period with nothing inspected names no department or cause "most to act on".
    if let Some(top) = f.by_department.first().filter(|t| t.count > 0) {
        lines.push(pick(
            lang,
            &format!(
                "Most to act on: {} ({}, {:.1}%).",
                label_in(top, lang),
                units_en(top.count),
                top.share * 100.0
            ),
            &format!("最需改进：{}（{} 件，{:.1}%）。", label_in(top, lang), top.count, top.share * 100.0),
        ));
    }
    if let Some(top) = f.by_cause.first().filter(|t| t.count > 0) {
        lines.push(pick(
            lang,
            &format!(
                "First cause: {} ({}, {:.1}%).",
                label_in(top, lang),
                units_en(top.count),
                top.share * 100.0
            ),
            &format!("首要原因：{}（{} 件，{:.1}%）。", label_in(top, lang), top.count, top.share * 100.0),
        ));
    }
    if let Some(k) = f.top_product_skus.first() {
        lines.push(pick(
            lang,
            &format!("Product defects most often: {} {} ({}).", k.sku, k.name, units_en(k.count)),
            &format!("质量问题最多：{} {}（{} 件）。", k.sku, k.name, k.count),
        ));
    }
    let h = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.1}"));
    lines.push(pick(
        lang,
        &format!(
            "Turnaround from first box to close: median {} h, 90% within {} h.",
            h(f.turnaround_median_hours),
            h(f.turnaround_p90_hours)
        ),
        &format!(
            "处理时长：中位数 {} 小时，90% 在 {} 小时内。",
            h(f.turnaround_median_hours),
            h(f.turnaround_p90_hours)
        ),
    ));
    lines.push(pick(
        lang,
        &format!("Parcels waiting more than {} days: {}.", f.late_after_days, f.waiting.len()),
        &format!("等待超过 {} 天的包裹：{} 个。", f.late_after_days, f.waiting.len()),
    ));
    for (i, l) in lines.iter().enumerate() {
        s.write_string(i as u32 + 2, 0, l)?;
    }

    counts(&mut book, lang, 1, &f.by_department, &head, &share)?;
    counts(&mut book, lang, 2, &f.by_cause, &head, &share)?;

    // The SKUs with the most product defects.
    let s = book.add_worksheet();
    let sheet = name(lang, 3);
    s.set_name(sheet)?;
    header(s, &[("SKU", "SKU"), ("Product", "商品名称"), ("Units", "件数")], lang, &head)?;
    for (i, k) in f.top_product_skus.iter().enumerate() {
        let r = i as u32 + 1;
        s.write_string(r, 0, &k.sku)?;
        s.write_string(r, 1, &k.name)?;
        s.write_number(r, 2, k.count as f64)?;
    }
    widths(s, &[16, 40, 10])?;
    if !f.top_product_skus.is_empty() {
        let n = f.top_product_skus.len() as u32;
        let mut c = Chart::new(ChartType::Bar);
        c.add_series()
            .set_categories((sheet, 1, 0, n, 0))
            .set_values((sheet, 1, 2, n, 2))
            .set_name(pick(lang, "Units", "件数").as_str());
        c.title().set_name(&pick(lang, "Product defects by SKU", "各 SKU 质量问题件数"));
        c.legend().set_hidden();
        c.y_axis().set_reverse();
        s.insert_chart(n + 2, 0, &c)?;
    }

    // Turnaround.
    let s = book.add_worksheet();
    let sheet = name(lang, 4);
    s.set_name(sheet)?;
    header(s, &[("Figure", "指标"), ("Hours", "小时")], lang, &head)?;
    for (i, (en, zh, v)) in [
        ("Median", "中位数", f.turnaround_median_hours),
        ("90th percentile", "90 分位", f.turnaround_p90_hours),
    ]
    .into_iter()
    .enumerate()
    {
        let r = i as u32 + 1;
        s.write_string(r, 0, pick(lang, en, zh))?;
        if let Some(v) = v {
            s.write_number_with_format(r, 1, v, &hours)?;
        }
    }
    widths(s, &[20, 10])?;
    let mut c = Chart::new(ChartType::Column);
    c.add_series()
        .set_categories((sheet, 1, 0, 2, 0))
        .set_values((sheet, 1, 1, 2, 1))
        .set_name(pick(lang, "Hours", "小时").as_str());
    c.title().set_name(&pick(lang, "Turnaround, first box to close (hours)", "处理时长（小时）"));
    c.legend().set_hidden();
    s.insert_chart(4, 0, &c)?;

    // Parcels waiting.
    let s = book.add_worksheet();
    s.set_name(name(lang, 5))?;
    header(
        s,
        &[
            ("Parcel", "包裹"),
            ("Scanned", "扫描号"),
            ("Received", "收货时间"),
            ("Station", "工位"),
            ("Days", "天数"),
        ],
        lang,
        &head,
    )?;
    for (i, w) in f.waiting.iter().enumerate() {
        let r = i as u32 + 1;
        s.write_string(r, 0, format!("P{}", w.parcel_id))?;
        s.write_string(r, 1, &w.scan)?;
        s.write_string(r, 2, &w.received_at)?;
        s.write_string(r, 3, &w.station)?;
        s.write_number(r, 4, w.days as f64)?;
    }
    widths(s, &[10, 24, 28, 10, 8])?;

    // The return rate per product, when shipments are on record.
    if let Some(r) = &f.return_rates {
        let s = book.add_worksheet();
        s.set_name(match lang {
            Lang::En => "Return rate",
            Lang::Zh => "退货率",
        })?;
        header(
            s,
            &[
                ("SKU", "SKU"),
                ("Product", "商品名称"),
                ("Returned", "退回"),
                ("Shipped", "发货"),
                ("Rate", "退货率"),
                ("Above the alert", "超标"),
            ],
            lang,
            &head,
        )?;
        for (i, k) in r.skus.iter().enumerate() {
            let row = i as u32 + 1;
            s.write_string(row, 0, &k.sku)?;
            s.write_string(row, 1, &k.name)?;
            s.write_number(row, 2, k.returned as f64)?;
            s.write_number(row, 3, k.shipped as f64)?;
            if let Some(rate) = k.rate {
                let decimals = super::feedback::rate_decimals(rate, r.alert_above);
                let shown = Format::new().set_num_format(format!("0.{}%", "0".repeat(decimals)));
                s.write_number_with_format(row, 4, rate, &shown)?;
            }
            if k.alert {
                s.write_string(row, 5, "⚠")?;
            }
        }
        let below = r.skus.len() as u32 + 2;
        s.write_string(
            below,
            0,
            pick(
                lang,
                &format!(
                    "Returned{} in {} to {} against shipped {} to {} ({} days earlier); flagged above {:.1}%.",
                    if f.dock.is_some() { " at every dock" } else { "" },
                    f.from,
                    f.to,
                    r.shipped_from,
                    r.shipped_to,
                    r.lag_days,
                    r.alert_above * 100.0
                ),
                &format!(
                    "{} 至 {} {}退回，对比 {} 至 {} 发货（提前 {} 天）；超过 {:.1}% 标记。",
                    f.from,
                    f.to,
                    if f.dock.is_some() { "所有仓" } else { "" },
                    r.shipped_from,
                    r.shipped_to,
                    r.lag_days,
                    r.alert_above * 100.0
                ),
            ),
        )?;
        widths(s, &[16, 40, 10, 10, 10, 14])?;
    }
    book.save_to_buffer()
}

/// A sheet of counts (departments or causes) and its bar chart.
fn counts(
    book: &mut Workbook,
    lang: Lang,
    i: usize,
    list: &[Count],
    head: &Format,
    share: &Format,
) -> Result<(), XlsxError> {
    let s = book.add_worksheet();
    let sheet = name(lang, i);
    s.set_name(sheet)?;
    header(s, &[("Code", "代码"), ("", ""), ("Units", "件数"), ("Share", "占比")], lang, head)?;
    s.write_string_with_format(
        0,
        1,
        if i == 1 { pick(lang, "Department", "部门") } else { pick(lang, "Cause", "原因") },
        head,
    )?;
    for (n, c) in list.iter().enumerate() {
        let r = n as u32 + 1;
        s.write_string(r, 0, &c.code)?;
        s.write_string(r, 1, label_in(c, lang))?;
        s.write_number(r, 2, c.count as f64)?;
        s.write_number_with_format(r, 3, c.share, share)?;
    }
    widths(s, &[20, 26, 10, 10])?;
    if !list.is_empty() {
        let n = list.len() as u32;
        let mut c = Chart::new(ChartType::Bar);
        c.add_series()
            .set_categories((sheet, 1, 1, n, 1))
            .set_values((sheet, 1, 2, n, 2))
            .set_name(pick(lang, "Units", "件数").as_str());
        c.title().set_name(&if i == 1 {
            pick(lang, "Units by the department that must act", "按需改进部门的件数")
        } else {
            pick(lang, "Units by cause", "按原因的件数")
        });
        c.legend().set_hidden();
        // The largest first, from the top, as the table lists them; under the table, so that
        // both print on one page.
        c.y_axis().set_reverse();
        s.insert_chart(n + 2, 0, &c)?;
    }
    Ok(())
}

fn header(s: &mut Worksheet, heads: &[(&str, &str)], lang: Lang, format: &Format) -> Result<(), XlsxError> {
    for (i, (en, zh)) in heads.iter().enumerate() {
        s.write_string_with_format(0, i as u16, pick(lang, en, zh), format)?;
    }
    s.set_freeze_panes(1, 0)?;
    // Printed, a sheet goes across one landscape page (found: the return rates and the waiting
    // parcels split over two), its header on each page.
    s.set_landscape();
    s.set_print_fit_to_pages(1, 0);
    s.set_repeat_rows(0, 0)?;
    Ok(())
}

fn widths(s: &mut Worksheet, w: &[u16]) -> Result<(), XlsxError> {
    for (i, w) in w.iter().enumerate() {
        s.set_column_width(i as u16, *w)?;
    }
    Ok(())
}

/// `1 unit`, `3 units`.
fn units_en(n: i64) -> String {
    plural(n, "unit", "units")
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
