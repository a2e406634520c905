//! The manifests: the return-to-supplier units not yet shipped, grouped by supplier (the paper
//! that goes into each supplier's box), and the scrapped units not yet written off (the list
//! finance asks for), each with its totals; as text for a terminal (English or Chinese), CSV
//! (its cells guarded as the export's are) or JSON (amounts in cents).
//!
//! Units held back (their parcel's review is pending, or some of their boxes are awaited) are
//! listed and marked, but are in no total and in no batch: they are not in the box yet.
//! Text from outside (SKUs, names, serials, RMAs, suppliers) is in its file form from
//! [`manifest`] on, in every format.

use crate::domain::codes::{pad, Coded, Lang, Reason};
use crate::domain::ids::{ParcelId, UnitId};
use crate::domain::money::format_cents;
use crate::domain::text::make_file_safe;
pub use crate::store::manifest::Kind;
use crate::store::manifest::{Batch, Hold, Listed};
use serde::Serialize;

/// One unit of a manifest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unit {
    /// As on its label, `U00000004`.
    pub unit_id: String,
    pub parcel_id: String,
    pub sku: String,
    pub name: String,
    pub serial: String,
    pub rma_no: String,
    /// The reason code of its outcome (`DEFECTIVE`).
    pub reason: String,
    pub value_cents: Option<i64>,
    pub destination: String,
    pub supplier: String,
    /// Empty, `review_pending` or `boxes_awaited` (held back: in no total, closed by no batch).
    pub status: String,
    /// The batch this close recorded it in (None: listed only, or held back).
    pub batch: Option<i64>,
}

impl Unit {
    fn held(&self) -> bool {
        !self.status.is_empty()
    }
}

/// A supplier's box (return to supplier), or the whole list (scrap).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// The supplier (None: the scrap list, of every supplier).
    pub supplier: Option<String>,
    /// The units not held back, and their value (units of unknown value count 0).
    pub count: usize,
    pub value_cents: i64,
    pub held: usize,
    pub units: Vec<Unit>,
}

/// A manifest as a report shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manifest {
    /// `rtv` or `scrap`.
    pub kind: &'static str,
    /// The `--supplier` and `--dock` it was limited to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dock: Option<String>,
    /// Whether it was closed (`--close`), and the batch that close recorded (None: nothing
    /// could be closed).
    pub closed: bool,
    pub batch: Option<i64>,
    /// The units not held back, and their value: what goes (or went) in the box.
    pub count: usize,
    pub value_cents: i64,
    /// The units held back: listed, marked, not closed.
    pub held: usize,
    /// Units in the totals whose value is not known (counted 0).
    pub without_value: usize,
    /// By supplier (return to supplier), or one group (scrap).
    pub groups: Vec<Group>,
}

/// The manifest of `kind` from the units the store listed; `batch`: what a close recorded.
pub fn manifest(
    kind: Kind,
    listed: &[Listed],
    supplier: Option<&str>,
    dock: Option<&str>,
    closed: Option<Option<Batch>>,
) -> Manifest {
    let mut groups: Vec<Group> = Vec::new();
    for l in listed {
        let mut unit = Unit {
            unit_id: UnitId(l.unit_id).to_string(),
            parcel_id: ParcelId(l.parcel_id).to_string(),
            sku: l.sku.clone().unwrap_or_default(),
            name: l.name.clone().unwrap_or_default(),
            serial: l.serial.clone().unwrap_or_default(),
            rma_no: l.rma_no.clone().unwrap_or_default(),
            reason: l.reason.clone().unwrap_or_default(),
            value_cents: l.value_cents,
            destination: l.destination.clone().unwrap_or_default(),
            supplier: l.supplier.clone(),
            status: l.hold.map(Hold::code).unwrap_or_default().to_string(),
            batch: l.batch,
        };
        for cell in [
            &mut unit.sku,
            &mut unit.name,
            &mut unit.serial,
            &mut unit.rma_no,
            &mut unit.reason,
            &mut unit.destination,
            &mut unit.supplier,
        ] {
            make_file_safe(cell);
        }
        let key = (kind == Kind::Rtv).then(|| unit.supplier.clone());
        // The store lists units by supplier: a new supplier starts a new group.
        if groups.last().is_none_or(|g| g.supplier != key) {
            groups.push(Group { supplier: key, count: 0, value_cents: 0, held: 0, units: Vec::new() });
        }
        let g = groups.last_mut().expect("pushed above");
        if unit.held() {
            g.held += 1;
        } else {
            g.count += 1;
            g.value_cents += unit.value_cents.unwrap_or(0);
        }
        g.units.push(unit);
    }
    let in_totals = || groups.iter().flat_map(|g| &g.units).filter(|u| !u.held());
    Manifest {
        kind: kind.code(),
        supplier: supplier.map(str::to_string),
        dock: dock.map(str::to_string),
        closed: closed.is_some(),
        batch: closed.flatten().map(|b| b.number),
        count: groups.iter().map(|g| g.count).sum(),
        value_cents: groups.iter().map(|g| g.value_cents).sum(),
        held: groups.iter().map(|g| g.held).sum(),
        without_value: in_totals().filter(|u| u.value_cents.is_none()).count(),
        groups,
    }
}

/// What a batch is called: `RTV batch 3`, `write-off batch 3`.
pub fn batch_name(kind: Kind, number: i64, lang: Lang) -> String {
    match kind {
        Kind::Rtv => lang.pick(format!("RTV batch {number}"), format!("退供应商批次 {number}")),
        Kind::Scrap => lang.pick(format!("write-off batch {number}"), format!("报废核销批次 {number}")),
    }
}

fn units_said(n: usize, lang: Lang) -> String {
    match (lang, n) {
        (Lang::En, 1) => "1 unit".to_string(),
        (Lang::En, n) => format!("{n} units"),
        (Lang::Zh, n) => format!("{n} 件"),
    }
}

/// `3 units, 427.00` / `3 件，427.00`.
fn both(units: usize, cents: i64, lang: Lang) -> String {
    let (n, v) = (units_said(units, lang), format_cents(cents));
    lang.pick(format!("{n}, {v}"), format!("{n}，{v}"))
}

/// A reason code in the reader's language (a code the program does not know, as it is).
fn reason_said(code: &str, lang: Lang) -> String {
    match Reason::from_code(code) {
        Some(r) if lang == Lang::Zh => r.zh().to_string(),
        _ => code.to_string(),
    }
}

/// The manifest for a terminal, with the close's outcome last.
pub fn text_in(m: &Manifest, lang: Lang) -> String {
    let kind = if m.kind == Kind::Rtv.code() { Kind::Rtv } else { Kind::Scrap };
    let mut limits = Vec::new();
    if let Some(s) = &m.supplier {
        limits.push(lang.pick(format!("supplier {s}"), format!("供应商 {s}")));
    }
    if let Some(d) = &m.dock {
        limits.push(lang.pick(format!("dock {d}"), format!("{d} 仓")));
    }
    let limits = match limits.is_empty() {
        true => String::new(),
        false => lang.pick(format!(" ({})", limits.join(", ")), format!("（{}）", limits.join("，"))),
    };
    let title = match kind {
        Kind::Rtv => lang.pick("Return to supplier: units not yet shipped", "退供应商清单：尚未发出的商品"),
        Kind::Scrap => lang.pick("Scrap: units not yet written off", "报废核销清单：尚未核销的商品"),
    };
    let mut s = format!("{title}{limits}\n");
    if m.groups.is_empty() {
        s.push_str(lang.pick("  none\n", "  无\n"));
    }
    let held_word = |status: &str| match status {
        "review_pending" => lang.pick("HELD: review pending", "暂缓：待复核"),
        "boxes_awaited" => lang.pick("HELD: boxes awaited", "暂缓：分箱未到齐"),
        _ => "",
    };
    let heads: [&str; 8] = match lang {
        Lang::En => ["Unit", "RMA", "SKU", "Name", "Serial", "Reason", "Value", "Destination"],
        Lang::Zh => ["商品编号", "售后单", "SKU", "名称", "序列号", "原因", "金额", "去向"],
    };
    for g in &m.groups {
        let rows: Vec<[String; 8]> = g
            .units
            .iter()
            .map(|u| {
                [
                    u.unit_id.clone(),
                    u.rma_no.clone(),
                    u.sku.clone(),
                    u.name.clone(),
                    u.serial.clone(),
                    reason_said(&u.reason, lang),
                    u.value_cents.map(format_cents).unwrap_or_else(|| "-".into()),
                    u.destination.clone(),
                ]
            })
            .collect();
        let mut widths = heads.map(crate::domain::codes::width);
        for r in &rows {
            for (w, cell) in widths.iter_mut().zip(r) {
                *w = (*w).max(crate::domain::codes::width(cell));
            }
        }
        let line = |cells: &[String; 8], held: &str| {
            let mut l = String::from("  ");
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                // Amounts to the right; the last column is not padded.
                let shown = match i {
                    6 => format!("{}{cell}", " ".repeat(w.saturating_sub(crate::domain::codes::width(cell)))),
                    7 => cell.clone(),
                    _ => pad(cell, w),
                };
                l.push_str(&shown);
                l.push_str("  ");
            }
            if !held.is_empty() {
                l.push_str(held);
            }
            format!("{}\n", l.trim_end())
        };
        let totals = both(g.count, g.value_cents, lang);
        match &g.supplier {
            Some(sup) => {
                s.push_str(&lang.pick(format!("\n{sup}: {totals}\n"), format!("\n{sup}：{totals}\n")))
            }
            None => s.push('\n'),
        }
        s.push_str(&line(&heads.map(String::from), ""));
        for (r, u) in rows.iter().zip(&g.units) {
            s.push_str(&line(r, held_word(&u.status)));
        }
    }
    let suppliers = m.groups.iter().filter(|g| g.supplier.is_some()).count();
    let total = both(m.count, m.value_cents, lang);
    s.push_str(&match (kind, lang) {
        (Kind::Rtv, Lang::En) => {
            format!("\nTotal: {total} ({suppliers} supplier{})\n", if suppliers == 1 { "" } else { "s" })
        }
        (Kind::Rtv, Lang::Zh) => format!("\n合计：{total}（{suppliers} 个供应商）\n"),
        (Kind::Scrap, Lang::En) => format!("\nTotal: {total}\n"),
        (Kind::Scrap, Lang::Zh) => format!("\n合计：{total}\n"),
    });
    if m.without_value > 0 {
        s.push_str(&lang.pick(
            format!("{} without a known value (counted 0)\n", units_said(m.without_value, lang)),
            format!("其中 {} 金额未知（按 0 计）\n", units_said(m.without_value, lang)),
        ));
    }
    if m.held > 0 {
        s.push_str(&lang.pick(
            format!(
                "{} held back (review pending or boxes awaited): in no total, not closed\n",
                units_said(m.held, lang)
            ),
            format!("{} 暂缓（待复核或分箱未到齐）：不计入合计，不结单\n", units_said(m.held, lang)),
        ));
    }
    if m.closed {
        s.push_str(&closed_line(m, lang));
        s.push('\n');
    }
    s
}

/// What a close did, in one line: the batch recorded, or that there was nothing to close.
pub fn closed_line(m: &Manifest, lang: Lang) -> String {
    let kind = if m.kind == Kind::Rtv.code() { Kind::Rtv } else { Kind::Scrap };
    let held = match m.held {
        0 => String::new(),
        n => lang
            .pick(format!("; {} held back", units_said(n, lang)), format!("；{} 暂缓", units_said(n, lang))),
    };
    match (m.batch, kind) {
        (Some(n), Kind::Rtv) => lang.pick(
            format!(
                "{}: {} shipped, {}{held}",
                batch_name(kind, n, lang),
                units_said(m.count, lang),
                format_cents(m.value_cents)
            ),
            format!(
                "{}：已发出 {}，{}{held}",
                batch_name(kind, n, lang),
                units_said(m.count, lang),
                format_cents(m.value_cents)
            ),
        ),
        (Some(n), Kind::Scrap) => lang.pick(
            format!(
                "{}: {} written off, {}{held}",
                batch_name(kind, n, lang),
                units_said(m.count, lang),
                format_cents(m.value_cents)
            ),
            format!(
                "{}：已核销 {}，{}{held}",
                batch_name(kind, n, lang),
                units_said(m.count, lang),
                format_cents(m.value_cents)
            ),
        ),
        (None, Kind::Rtv) => lang.pick(
            format!("nothing to ship: no batch recorded{held}"),
            format!("没有可发出的商品：未记录批次{held}"),
        ),
        (None, Kind::Scrap) => lang.pick(
            format!("nothing to write off: no batch recorded{held}"),
            format!("没有可核销的商品：未记录批次{held}"),
        ),
    }
}

/// The CSV's columns. `line` is `unit` for a unit, `supplier` for a supplier's totals (return
/// to supplier) and `total` for the grand total; `units` and `value` are a unit's 1 and value,
/// or the totals (held units in none).
pub const CSV_COLUMNS: [&str; 14] = [
    "line",
    "supplier",
    "unit_id",
    "parcel_id",
    "rma_no",
    "sku",
    "name",
    "serial",
    "reason",
    "destination",
    "status",
    "batch",
    "units",
    "value",
];

/// The manifest as CSV rows (header first), each cell guarded as the export guards its cells.
pub fn csv_rows(m: &Manifest) -> Vec<Vec<String>> {
    let mut rows = vec![CSV_COLUMNS.iter().map(|c| c.to_string()).collect::<Vec<_>>()];
    let total = |line: &str, supplier: &str, count: usize, cents: i64| {
        let mut r = vec![String::new(); CSV_COLUMNS.len()];
        r[0] = line.into();
        r[1] = supplier.into();
        r[11] = m.batch.map(|b| b.to_string()).unwrap_or_default();
        r[12] = count.to_string();
        r[13] = format_cents(cents);
        r
    };
    for g in &m.groups {
        for u in &g.units {
            rows.push(vec![
                "unit".into(),
                u.supplier.clone(),
                u.unit_id.clone(),
                u.parcel_id.clone(),
                u.rma_no.clone(),
                u.sku.clone(),
                u.name.clone(),
                u.serial.clone(),
                u.reason.clone(),
                u.destination.clone(),
                u.status.clone(),
                u.batch.map(|b| b.to_string()).unwrap_or_default(),
                "1".into(),
                u.value_cents.map(format_cents).unwrap_or_default(),
            ]);
        }
        if let Some(sup) = &g.supplier {
            rows.push(total("supplier", sup, g.count, g.value_cents));
        }
    }
    rows.push(total("total", "", m.count, m.value_cents));
    for r in &mut rows {
        for cell in r.iter_mut() {
            *cell = crate::export::guard(cell).into_owned();
        }
    }
    rows
}

/// The manifest as CSV bytes.
pub fn csv_bytes(m: &Manifest) -> std::io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in csv_rows(m) {
        w.write_record(&r)?;
    }
    w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(unit_id: i64, supplier: &str, value: Option<i64>, hold: Option<Hold>) -> Listed {
        Listed {
            unit_id,
            parcel_id: 1,
            sku: Some(format!("SKU-{unit_id}")),
            name: Some("蓝牙耳机".into()),
            serial: None,
            rma_no: Some("=RMA-1".into()),
            reason: Some("DEFECTIVE".into()),
            value_cents: value,
            destination: Some(format!("RTV-{supplier}")),
            supplier: supplier.into(),
            hold,
            batch: None,
        }
    }

    #[test]
    fn totals_leave_out_held_units_and_count_unknown_values_as_nothing() {
        let units = [
            listed(1, "ACME", Some(19900), None),
            listed(2, "ACME", Some(5050), Some(Hold::ReviewPending)),
            listed(3, "ACME", None, None),
            listed(4, "ZETA", Some(1000), None),
        ];
        let m = manifest(Kind::Rtv, &units, None, None, None);
        let by: Vec<(Option<&str>, usize, i64, usize)> =
            m.groups.iter().map(|g| (g.supplier.as_deref(), g.count, g.value_cents, g.held)).collect();
        assert_eq!(by, [(Some("ACME"), 2, 19900, 1), (Some("ZETA"), 1, 1000, 0)]);
        assert_eq!((m.count, m.value_cents, m.held, m.without_value), (3, 20900, 1, 1));
        let scrap = manifest(Kind::Scrap, &units, None, None, None);
        assert_eq!(scrap.groups.len(), 1, "the write-off list is one list");
        assert_eq!((scrap.count, scrap.value_cents), (3, 20900));
    }

    #[test]
    fn csv_cells_are_guarded_and_totals_close_each_supplier() {
        let m = manifest(Kind::Rtv, &[listed(1, "ACME", Some(19900), None)], None, None, None);
        let rows = csv_rows(&m);
        assert_eq!(rows[0], CSV_COLUMNS);
        assert_eq!(rows[1][4], "'=RMA-1", "a formula never runs in Excel");
        assert_eq!(
            (rows[2][0].as_str(), rows[2][12].as_str(), rows[2][13].as_str()),
            ("supplier", "1", "199.00")
        );
        assert_eq!((rows[3][0].as_str(), rows[3][13].as_str()), ("total", "199.00"));
    }

    #[test]
    fn the_text_speaks_the_readers_language() {
        let m = manifest(
            Kind::Rtv,
            &[listed(1, "ACME", Some(19900), Some(Hold::ReviewPending))],
            None,
            None,
            Some(None),
        );
        let en = text_in(&m, Lang::En);
        assert!(en.contains("HELD: review pending") && en.contains("nothing to ship"), "{en}");
        let zh = text_in(&m, Lang::Zh);
        assert!(zh.contains("功能故障") && zh.contains("待复核") && zh.contains("没有可发出的商品"), "{zh}");
    }
}
