//! The weekly feedback sheet (CONTRACT section 6): why goods came back, grouped by the
//! department that must act, the SKUs with the most product-caused returns, how long parcels
//! took from arrival to signature, and which ones are still waiting.
//!
//! The sheet's text from outside (SKUs, product names, parcel scans, stations) is in its file
//! form from [`feedback`] on, so every format of it, and the station's dashboard, has it clean.

use crate::domain::codes::{pad, Cause, Coded, Department, Lang};
use crate::domain::text::make_file_safe;
use crate::store::{DbResult, Store};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Count {
    pub code: String,
    pub label: String,
    pub count: i64,
    /// Share of all units inspected in the period, 0 to 1.
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkuCount {
    pub sku: String,
    pub name: String,
    pub count: i64,
}

/// A parcel waiting longer than it should.
pub use crate::store::feedback::OpenParcel as Waiting;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Feedback {
    pub from: String,
    pub to: String,
    pub units: i64,
    pub parcels_signed: i64,
    /// Returns closed in the period that arrived in more than one box.
    pub returns_in_several_boxes: i64,
    pub by_department: Vec<Count>,
    pub by_cause: Vec<Count>,
    pub top_product_skus: Vec<SkuCount>,
    /// Hours from a return's first box to its close, over the returns closed in the period
    /// (and, for parcels no return claims, from arrival to signature).
    pub turnaround_median_hours: Option<f64>,
    pub turnaround_p90_hours: Option<f64>,
    pub late_after_days: u32,
    pub waiting: Vec<Waiting>,
    /// The dock the sheet is of (left out for every dock's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dock: Option<String>,
    /// The return rate per product, when the sheet is asked for with it (left out otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_rates: Option<ReturnRates>,
}

/// Units returned per SKU in the period against its units shipped in the period of the same
/// length `lag_days` earlier: returns come back two to three weeks after the sale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReturnRates {
    pub lag_days: u32,
    /// A rate above this is flagged (a share, 0 to 1).
    pub alert_above: f64,
    /// The shipments' period (days, both included).
    pub shipped_from: String,
    pub shipped_to: String,
    /// Every SKU returned in the period, the highest rate first (those with no shipments last).
    pub skus: Vec<ReturnRate>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReturnRate {
    pub sku: String,
    pub name: String,
    /// The numerator: units returned in the period.
    pub returned: i64,
    /// The denominator: units shipped in the shipments' period.
    pub shipped: i64,
    /// `returned / shipped`; None with nothing shipped.
    pub rate: Option<f64>,
    pub alert: bool,
}

/// The return rate per product for the sheet's period `from`..`to` (see [`ReturnRates`]),
/// over every dock's returns, whichever dock the sheet is of.
pub fn return_rates(
    store: &Store,
    from: NaiveDate,
    to: NaiveDate,
    lag_days: u32,
    alert_above: f64,
    now: DateTime<FixedOffset>,
) -> DbResult<ReturnRates> {
    let offset = now.offset().to_string();
    let start = format!("{from}T00:00:00{offset}");
    let end = format!("{}T00:00:00{offset}", to.succ_opt().unwrap_or(to));
    let lag = chrono::Duration::days(i64::from(lag_days));
    let (shipped_from, shipped_to) = ((from - lag).to_string(), (to - lag).to_string());
    let returned = crate::store::shipments::returned(store.db(), &start, &end)?;
    let shipped = crate::store::shipments::shipped(store.db(), &shipped_from, &shipped_to)?;
    let mut skus: Vec<ReturnRate> = returned
        .into_iter()
        .map(|(mut sku, mut name, returned)| {
            let shipped = shipped.iter().find(|s| s.0 == sku).map_or(0, |s| s.1);
            let rate = (shipped > 0).then(|| returned as f64 / shipped as f64);
            make_file_safe(&mut sku);
            make_file_safe(&mut name);
            ReturnRate { sku, name, returned, shipped, rate, alert: rate.is_some_and(|r| r > alert_above) }
        })
        .collect();
    skus.sort_by(|a, b| match (a.rate, b.rate) {
        (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| a.sku.cmp(&b.sku)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => b.returned.cmp(&a.returned).then_with(|| a.sku.cmp(&b.sku)),
    });
    Ok(ReturnRates { lag_days, alert_above, shipped_from, shipped_to, skus })
}

/// The sheet for the days `from` to `to` (both included), in the offset of `now`, over every dock.
pub fn feedback(
    store: &mut Store,
    from: NaiveDate,
    to: NaiveDate,
    late_after_days: u32,
    now: DateTime<FixedOffset>,
) -> DbResult<Feedback> {
    feedback_at(store, from, to, late_after_days, now, None)
}

/// As [`feedback`], of the parcels received at `dock` (None: every dock). A return counts at
/// the dock of its last box.
pub fn feedback_at(
    store: &mut Store,
    from: NaiveDate,
    to: NaiveDate,
    late_after_days: u32,
    now: DateTime<FixedOffset>,
    dock: Option<&str>,
) -> DbResult<Feedback> {
    let offset = now.offset().to_string();
    // Period bounds as instants: SQLite's julianday() reads the offsets and compares in UTC.
    let start = format!("{}T00:00:00{offset}", from);
    let end = format!("{}T00:00:00{offset}", to.succ_opt().unwrap_or(to));
    let figures = store.feedback_figures(&start, &end, late_after_days, dock)?;
    let causes = figures.causes;
    let units: i64 = causes.iter().map(|c| c.1).sum();
    let share = |n: i64| if units > 0 { n as f64 / units as f64 } else { 0.0 };
    let mut by_cause: Vec<Count> = Cause::ALL
        .iter()
        .map(|c| {
            let n = causes.iter().find(|x| x.0 == c.code()).map_or(0, |x| x.1);
            Count { code: c.code().into(), label: c.en().into(), count: n, share: share(n) }
        })
        .collect();
    by_cause.sort_by_key(|c| std::cmp::Reverse(c.count));
    let mut by_department: Vec<Count> = Department::ALL
        .iter()
        .map(|d| {
            let n: i64 = Cause::ALL
                .iter()
                .filter(|c| c.department() == *d)
                .map(|c| causes.iter().find(|x| x.0 == c.code()).map_or(0, |x| x.1))
                .sum();
            Count { code: d.code().into(), label: d.en().into(), count: n, share: share(n) }
        })
        .collect();
    by_department.sort_by_key(|c| std::cmp::Reverse(c.count));
    let top_product_skus = figures
        .top_product_skus
        .into_iter()
        .map(|(mut sku, mut name, count)| {
            make_file_safe(&mut sku);
            make_file_safe(&mut name);
            SkuCount { sku, name, count }
        })
        .collect();
    let mut hours = figures.turnaround_hours;
    let (parcels_signed, returns_in_several_boxes) =
        (figures.parcels_signed, figures.returns_in_several_boxes);
    hours.sort_by(|a, b| a.total_cmp(b));
    let quantile = |q: f64| -> Option<f64> {
        if hours.is_empty() {
            return None;
        }
        // Nearest rank: the smallest value with at least q of the values at or below it.
        let rank = ((q * hours.len() as f64).ceil() as usize).clamp(1, hours.len());
        Some(hours[rank - 1])
    };
    let mut waiting = figures.waiting;
    for w in &mut waiting {
        make_file_safe(&mut w.scan);
        make_file_safe(&mut w.station);
    }
    Ok(Feedback {
        from: from.to_string(),
        to: to.to_string(),
        units,
        parcels_signed,
        returns_in_several_boxes,
        by_department,
        by_cause,
        top_product_skus,
        turnaround_median_hours: quantile(0.5),
        turnaround_p90_hours: quantile(0.9),
        late_after_days,
        waiting,
        dock: dock.map(|d| {
            let mut d = d.to_string();
            make_file_safe(&mut d);
            d
        }),
        return_rates: None,
    })
}

fn bar(share: f64, width: usize) -> String {
    let n = (share * width as f64).round() as usize;
    format!("{}{}", "█".repeat(n), "·".repeat(width - n.min(width)))
}

/// The sheet for a terminal, with bars, in English.
pub fn text(f: &Feedback) -> String {
    text_in(f, Lang::En)
}

/// A figure's label in `lang`: the words of its department or cause code.
/// A department's or a cause's words in `lang`.
pub fn label_in(c: &Count, lang: Lang) -> String {
    label(c, lang)
}

fn label(c: &Count, lang: Lang) -> String {
    Department::from_code(&c.code)
        .map(|d| lang.code(d))
        .or_else(|| Cause::from_code(&c.code).map(|x| lang.code(x)))
        .map_or_else(|| c.label.clone(), String::from)
}

/// The sheet for a terminal, with bars, in `lang`.
pub fn text_in(f: &Feedback, lang: Lang) -> String {
    let at = f
        .dock
        .as_deref()
        .map(|d| lang.pick(format!(" at dock {d}"), format!("（{d} 仓）")))
        .unwrap_or_default();
    let mut s = lang.pick(
        format!(
            "Feedback {} to {}{at}: {} units inspected, {} parcels signed\n\nBy department that must act\n",
            f.from, f.to, f.units, f.parcels_signed
        ),
        format!(
            "售后反馈 {} 至 {}{at}：验货 {} 件，签收 {} 个包裹\n\n按需改进的部门\n",
            f.from, f.to, f.units, f.parcels_signed
        ),
    );
    let bars = |s: &mut String, list: &[Count]| {
        for c in list {
            s.push_str(&format!(
                "  {} {:>6} {:>6.1}%  {}\n",
                pad(&label(c, lang), 24),
                c.count,
                c.share * 100.0,
                bar(c.share, 30)
            ));
        }
    };
    bars(&mut s, &f.by_department);
    s.push_str(lang.pick("\nBy cause\n", "\n按原因\n"));
    bars(&mut s, &f.by_cause);
    s.push_str(lang.pick("\nSKUs with the most product defects\n", "\n产品质量问题最多的 SKU\n"));
    if f.top_product_skus.is_empty() {
        s.push_str(lang.pick("  none\n", "  无\n"));
    }
    for k in &f.top_product_skus {
        s.push_str(&format!("  {} {:>6}  {}\n", pad(&k.sku, 14), k.count, k.name));
    }
    let h = |x: Option<f64>| {
        x.map_or("-".to_string(), |v| lang.pick(format!("{v:.1} h"), format!("{v:.1} 小时")))
    };
    let (median, p90) = (h(f.turnaround_median_hours), h(f.turnaround_p90_hours));
    s.push_str(&lang.pick(
        format!("\nTurnaround, first box to the return's close: median {median}, 90th percentile {p90}\n"),
        format!("\n处理时长（首个包裹到货至售后单完结）：中位数 {median}，90 分位 {p90}\n"),
    ));
    if let Some(r) = &f.return_rates {
        s.push_str(&lang.pick(
            format!(
                "\nReturn rate per product (returned in the period{} / shipped {} to {}, {} days earlier; flagged above {:.1}%)\n",
                if f.dock.is_some() { " at every dock" } else { "" },
                r.shipped_from, r.shipped_to, r.lag_days, r.alert_above * 100.0
            ),
            format!(
                "\n各商品退货率（本期{}退回 / {} 至 {} 发货，提前 {} 天；超过 {:.1}% 标记）\n",
                if f.dock.is_some() { "所有仓" } else { "" },
                r.shipped_from, r.shipped_to, r.lag_days, r.alert_above * 100.0
            ),
        ));
        for k in &r.skus {
            let rate = k
                .rate
                .map_or("-".to_string(), |x| format!("{}%", percent(x, rate_decimals(x, r.alert_above))));
            let flag = if k.alert { lang.pick("  ⚠ above", "  ⚠ 超标") } else { "" };
            s.push_str(&format!(
                "  {} {:>6} / {:<8} {:>7}{flag}  {}\n",
                pad(&k.sku, 14),
                k.returned,
                k.shipped,
                rate,
                k.name
            ));
        }
    }
    let (several, days, late) = (f.returns_in_several_boxes, f.late_after_days, f.waiting.len());
    s.push_str(&lang.pick(
        format!("Returns that came in several boxes: {several}\n"),
        format!("分多个包裹寄回的售后单：{several}\n"),
    ));
    s.push_str(&lang.pick(
        format!("Parcels waiting more than {days} days: {late}\n"),
        format!("等待超过 {days} 天的包裹：{late}\n"),
    ));
    for w in &f.waiting {
        let (id, scan, at, station, n) = (w.parcel_id, &w.scan, &w.received_at, &w.station, w.days);
        s.push_str(&lang.pick(
            format!("  P{id} {scan} received {at} at {station} ({n} days)\n"),
            format!("  P{id} {scan} 于 {at} 在 {station} 收货（{n} 天）\n"),
        ));
    }
    s
}

/// The sheet as CSV: one row per figure, `section,code,label,count,share`, labels in English.
pub fn csv(f: &Feedback) -> String {
    csv_in(f, Lang::En)
}

/// The sheet as CSV with the department and cause labels in `lang` (sections and codes stay
/// as they are in every language: programs read those).
pub fn csv_in(f: &Feedback, lang: Lang) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["section", "code", "label", "count", "share"]);
    // The sheet of one dock says so first.
    if let Some(dock) = &f.dock {
        let _ = w.write_record(["dock", &super::guard(dock), "", "", ""]);
    }
    for (section, list) in [("department", &f.by_department), ("cause", &f.by_cause)] {
        for c in list {
            let _ = w.write_record([
                section,
                &c.code,
                &label(c, lang),
                &c.count.to_string(),
                &format!("{:.4}", c.share),
            ]);
        }
    }
    for k in &f.top_product_skus {
        let _ = w.write_record([
            "product_sku",
            &super::guard(&k.sku),
            &super::guard(&k.name),
            &k.count.to_string(),
            "",
        ]);
    }
    if let Some(r) = &f.return_rates {
        // `count` the units returned, `share` the rate; the units shipped in a row of their own.
        for k in &r.skus {
            let rate = k.rate.map_or(String::new(), |x| format!("{x:.4}"));
            let _ = w.write_record([
                "return_rate",
                &super::guard(&k.sku),
                &super::guard(&k.name),
                &k.returned.to_string(),
                &rate,
            ]);
            let _ = w.write_record(["shipped", &super::guard(&k.sku), "", &k.shipped.to_string(), ""]);
        }
    }
    let h = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v:.2}"));
    let _ = w.write_record(["turnaround_hours", "median", "", &h(f.turnaround_median_hours), ""]);
    let _ = w.write_record(["turnaround_hours", "p90", "", &h(f.turnaround_p90_hours), ""]);
    let _ = w.write_record(["returns", "several_boxes", "", &f.returns_in_several_boxes.to_string(), ""]);
    let _ = w.write_record([
        "waiting",
        &format!("over_{}_days", f.late_after_days),
        "",
        &f.waiting.len().to_string(),
        "",
    ]);
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// How many decimals a rate is shown with, as a percentage: one, or as many as it takes (up
/// to four) for a rate just above the alert not to read as the alert itself (3/99 is 3.03%,
/// not "3.0% above 3.0%"), and one just below it not to read as above.
pub fn rate_decimals(rate: f64, alert: f64) -> usize {
    (1..=4)
        .find(|&d| {
            let shown = |x: f64| percent(x, d);
            rate == alert || shown(rate) != shown(alert)
        })
        .unwrap_or(4)
}

/// A share as a percentage with `decimals`, a half rounded up as a spreadsheet rounds it (the
/// workbook shows 1/400 as 0.3%; formatting alone rounds it to even, 0.2%).
pub fn percent(share: f64, decimals: usize) -> String {
    let scale = 10f64.powi(decimals as i32);
    format!("{:.*}", decimals, (share * 100.0 * scale).round() / scale)
}

#[cfg(test)]
mod tests {
    use super::{percent, rate_decimals};

    #[test]
    fn a_rate_beside_the_alert_never_reads_as_the_alert() {
        let shown = |rate: f64| format!("{}%", percent(rate, rate_decimals(rate, 0.03)));
        assert_eq!(shown(3.0 / 99.0), "3.03%", "above: not 3.0%");
        assert_eq!(shown(0.0299), "2.99%", "below: not 3.0%");
        assert_eq!(shown(0.03), "3.0%", "the alert itself");
        assert_eq!(shown(0.125), "12.5%", "far from it: one decimal");
        assert_eq!(shown(0.030_001), "3.0001%");
        assert_eq!(shown(1.0 / 400.0), "0.3%", "a half rounded up, as the workbook shows it");
        assert_eq!(shown(1.0 / 8.0), "12.5%");
    }
}
