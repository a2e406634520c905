//! Reading the command line's values: the trade's codes in every spelling they are accepted
//! in, listed in `--help`, and dates that say the form they expect.

use crate::domain::codes::Coded;
use clap::builder::{PossibleValue, TypedValueParser};
use std::ffi::OsStr;

/// Reads a code of `C` with `parse` (which may accept more than the code itself: any case,
/// `-` or `_`, Chinese words), and lists `C`'s codes, with their English words, in `--help`.
#[derive(Clone, Copy)]
pub struct CodeParser<C> {
    parse: fn(&str) -> Option<C>,
}

impl<C> CodeParser<C> {
    pub fn new(parse: fn(&str) -> Option<C>) -> Self {
        CodeParser { parse }
    }
}

impl<C: Coded + Send + Sync> TypedValueParser for CodeParser<C> {
    type Value = C;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<C, clap::Error> {
        let text = value.to_string_lossy();
        (self.parse)(&text).ok_or_else(|| {
            let known: Vec<&str> = C::ALL.iter().map(|c| c.code()).collect();
            let name = arg.map(|a| a.get_id().to_string()).unwrap_or_default();
            let mut e = clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                format!(
                    "{} is not a known {name}: one of {}\n",
                    crate::domain::text::on_screen(&text),
                    known.join(", ")
                ),
            );
            e = e.with_cmd(cmd);
            e
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(C::ALL.iter().map(|c| PossibleValue::new(c.code()).help(c.en()))))
    }
}

/// A day as `YYYY-MM-DD`; anything else is refused saying so.
pub fn date(text: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        format!(
            "{} is not a date: the form is YYYY-MM-DD, e.g. 2026-11-23",
            crate::domain::text::on_screen(text)
        )
    })
}

/// What the commands print for people, in English or Chinese. The English forms are the ones
/// scripts have read since the first version; codes in files (CSV, JSON) never change.
pub mod say {
    use crate::domain::codes::{Coded, Lang, Outcome, Reason};
    use crate::domain::money::format_cents;
    use crate::domain::text::on_screen;
    use crate::import::ImportReport;
    use crate::store::review::{ReviewItem, ReviewUnit};
    use crate::store::UserWritten;

    /// The one-line summary of an import.
    pub fn import_summary(lang: Lang, r: &ImportReport) -> String {
        if lang == Lang::En {
            return r.summary();
        }
        let sum = |f: fn(&crate::import::FileReport) -> u64| r.files.iter().map(f).sum::<u64>();
        let verb = if r.dry_run {
            "试运行，未写入："
        } else if r.committed {
            "已导入"
        } else {
            "已拒绝，未写入："
        };
        let what = match r.what {
            "returns" => "售后单",
            "catalog" | "products" => "商品",
            "users" => "用户",
            "shipments" => "发货记录（SKU×日）",
            other => other,
        };
        let mut s = format!(
            "{verb}{what} {} 条，来自 {} 个文件（{} 行）：新增 {}，更新 {}，未变 {}，拒绝 {}",
            sum(|f| f.created + f.updated + f.unchanged + f.refused),
            r.files.len(),
            sum(|f| f.rows),
            sum(|f| f.created),
            sum(|f| f.updated),
            sum(|f| f.unchanged),
            sum(|f| f.refused),
        );
        let conflicts = sum(|f| f.conflicts);
        if conflicts > 0 {
            s.push_str(&format!("，{conflicts} 处与已收包裹不符（保留已收内容）"));
        }
        if r.linked > 0 {
            s.push_str(&format!("，{} 个无主件已关联到售后单", r.linked));
        }
        for x in &r.resumed {
            s.push_str(&format!("；续完了 {} 开始后中断的 {} 导入", x.started_at, on_screen(&x.file)));
        }
        s
    }

    /// An import's lines of detail: each file's form, ignored columns, rejected rows.
    pub fn import_details(lang: Lang, r: &ImportReport) -> Vec<String> {
        if lang == Lang::En {
            return r.details();
        }
        let mut out = Vec::new();
        for f in r.files.iter().filter(|f| !f.format.is_empty()) {
            let mut line = format!("{}：{} {}", f.file, f.format, f.encoding);
            if !f.ignored_headers.is_empty() {
                line.push_str(&format!("；未识别而忽略的列：{}", f.ignored_headers.join("、")));
            }
            out.push(line);
            if let Some(x) = &f.rejected_file {
                out.push(format!("{}：{} 行被拒，已写入 {x}", f.file, f.refused_rows));
            }
        }
        out
    }

    pub fn user_written(lang: Lang, id: &str, w: &UserWritten) -> String {
        let (en, zh) = match w {
            UserWritten::Created => ("created", "已新增"),
            UserWritten::Updated => ("updated", "已更新"),
            UserWritten::Unchanged => ("unchanged", "无变化"),
        };
        lang.pick(format!("user {id}: {en}"), format!("用户 {id}：{zh}"))
    }

    pub fn exported(lang: Lang, rows: usize, parcels: usize, batch: i64, path: &str) -> String {
        lang.pick(
            format!("exported {rows} rows from {parcels} parcels as batch {batch} to {path}"),
            format!("已导出 {rows} 行（{parcels} 个包裹），批次 {batch}，文件 {path}"),
        )
    }

    /// The feedback workbook written.
    pub fn feedback_written(lang: Lang, path: &str) -> String {
        lang.pick(format!("feedback sheet written to {path}"), format!("售后反馈表已写入 {path}"))
    }

    /// An evidence bundle written.
    pub fn evidence(lang: Lang, b: &crate::evidence::bundle::Bundled, path: &str) -> String {
        let resized = match b.resized {
            0 => String::new(),
            n => {
                lang.pick(format!(" ({n} made smaller, under 5 MB)"), format!("（{n} 张已压缩到 5 MB 以下）"))
            }
        };
        let missing = match b.missing.len() {
            0 => String::new(),
            n => lang.pick(format!("; {n} left out: could not be read"), format!("；{n} 张无法读取，未附上")),
        };
        lang.pick(
            format!(
                "evidence of {}: {} units, {} photos{resized}{missing} -> {path}",
                b.rma_no, b.units, b.photos
            ),
            format!(
                "{} 的凭证：{} 件商品，{} 张照片{resized}{missing} -> {path}",
                b.rma_no, b.units, b.photos
            ),
        )
    }

    /// An export that found nothing since batch `last` (None: there never was one).
    pub fn nothing_new(lang: Lang, last: Option<i64>) -> String {
        match last {
            Some(b) => lang.pick(
                format!("nothing new since batch {b}: no file written"),
                format!("自批次 {b} 以来没有新内容：未生成文件"),
            ),
            None => lang.pick(
                "nothing to export yet: no file written".to_string(),
                "暂无可导出内容：未生成文件".to_string(),
            ),
        }
    }

    pub fn decided(lang: Lang, id: i64, confirmed: bool, by: &str) -> String {
        match (lang, confirmed) {
            (Lang::En, true) => format!("review R{id} confirmed by {by}"),
            (Lang::En, false) => format!("review R{id} overturned by {by}"),
            (Lang::Zh, true) => format!("复核 R{id}：{by} 已确认"),
            (Lang::Zh, false) => format!("复核 R{id}：{by} 已改判"),
        }
    }

    pub fn linked(lang: Lang, id: i64, rma: &str, by: &str) -> String {
        lang.pick(
            format!("review R{id}: parcel linked to {rma} by {by}"),
            format!("复核 R{id}：{by} 已将包裹关联到售后单 {rma}"),
        )
    }

    /// A manifest written to a file, without closing it.
    pub fn manifest_written(lang: Lang, units: usize, cents: i64, held: usize, path: &str) -> String {
        let value = format_cents(cents);
        let held_en = if held > 0 { format!(" ({held} more held back)") } else { String::new() };
        let held_zh = if held > 0 { format!("（另有 {held} 件暂缓）") } else { String::new() };
        lang.pick(
            format!("manifest written to {path}: {units} units, {value}{held_en}; nothing closed"),
            format!("清单已写入 {path}：{units} 件，{value}{held_zh}；未结单"),
        )
    }

    pub fn written_to(lang: Lang, path: &str) -> String {
        lang.pick(format!("written to {path}"), format!("已写入 {path}"))
    }

    pub fn reviews_waiting(lang: Lang, n: usize) -> String {
        lang.pick(format!("{n} reviews waiting"), format!("共 {n} 项待复核"))
    }

    pub fn audit_intact(lang: Lang, v: &crate::store::chain::Verdict) -> String {
        if lang == Lang::En || !v.ok() {
            return v.summary();
        }
        format!(
            "审计日志完好：{} 条记录环环相扣；{} 件商品、{} 个包裹、{} 条复核、{} 条售后单收货记录{}均与日志相符；链头 {}",
            v.entries,
            v.units,
            v.parcels,
            v.reviews,
            v.receipts,
            match v.manifests {
                0 => String::new(),
                n => format!("、{n} 个清单批次（{} 件）", v.shipped),
            },
            &v.head[..16.min(v.head.len())]
        )
    }

    pub fn demo_ready(lang: Lang, path: &str) -> String {
        lang.pick(
            format!("demo database ready: {path} (badges: OP-DEMO, supervisor OP-SUP1 with PIN 2468)"),
            format!("演示数据库已就绪：{path}（工牌：OP-DEMO，主管 OP-SUP1，PIN 2468）"),
        )
    }

    pub fn demo_not_a_terminal(lang: Lang, path: &str) -> String {
        lang.pick(
            format!(
                "not a terminal: the station does not start; run it with: returns-dock --db {path} station"
            ),
            format!("不是终端，验货台未启动；请运行：returns-dock --db {path} station"),
        )
    }

    pub fn demo_stays(lang: Lang, path: &str) -> String {
        lang.pick(
            format!(
                "the demo database stays at {path}: e.g. returns-dock --db {path} review list, or returns-dock --db {path} export"
            ),
            format!(
                "演示数据库保留在 {path}：例如 returns-dock --db {path} review list，或 returns-dock --db {path} export"
            ),
        )
    }

    /// An entry's kind in words (`--format json` keeps the code).
    /// An outcome, reason or discrepancy code in words (`--format json` keeps the codes).
    fn outcome(lang: Lang, code: &str) -> String {
        Outcome::from_code(code).map_or_else(|| code.to_string(), |o| lang.code(o).to_string())
    }

    fn reason(lang: Lang, code: &str) -> String {
        Reason::from_code(code).map_or_else(|| code.to_string(), |r| lang.code(r).to_string())
    }

    fn flag(lang: Lang, code: &str) -> String {
        crate::station::text::say::discrepancy_kind(lang, code).to_string()
    }

    fn money(cents: Option<i64>, lang: Lang) -> String {
        cents.map_or_else(|| lang.pick("value unknown", "价值不详").to_string(), format_cents)
    }

    /// One queue entry's line, then its details indented below it: for an entry about one unit,
    /// that unit against what was expected; for one about the parcel, what was missing, every
    /// unit, the notes and the total. All in screen form (most of it came from files and scans).
    pub fn review_item(lang: Lang, i: &ReviewItem, zone: chrono::FixedOffset) -> Vec<String> {
        let mut s = format!(
            "R{} {}{} {} P{} {} [{} {}{}]",
            i.id,
            lang.code(i.kind),
            if i.mandatory { lang.pick(" (mandatory)", "（必须复核）") } else { "" },
            crate::station::app::short_time(&i.created_at, zone),
            i.parcel_id,
            &if i.rmas.is_empty() {
                i.scan.clone()
            } else if i.boxes > 1 {
                lang.pick(
                    format!("{} (in {} boxes)", i.rmas, i.boxes),
                    format!("{}（共 {} 个包裹）", i.rmas, i.boxes),
                )
            } else {
                i.rmas.clone()
            },
            i.station,
            i.operator,
            match &i.dock {
                Some(d) => lang.pick(format!(" · at dock {d}"), format!(" · {d} 仓")),
                None => String::new(),
            }
        );
        if let Some(u) = &i.unit {
            s.push_str(&format!(" {u} {}", i.sku.as_deref().unwrap_or("?")));
            if let Some(x) = &i.serial {
                s.push_str(&format!(" {x}"));
            }
            if let Some(x) = &i.outcome {
                s.push_str(&format!(" {}", outcome(lang, x)));
            }
            if let Some(x) = &i.reason {
                s.push_str(&format!(" {}", reason(lang, x)));
            }
            if let Some(x) = &i.discrepancy {
                s.push_str(&format!(" {}", flag(lang, x)));
            }
            if let Some(n) = &i.note {
                s.push_str(&lang.pick(format!(" \"{n}\""), format!(" “{n}”")));
            }
        }
        if let Some(r) = &i.parcel_refuse_reason {
            s.push_str(&lang.pick(format!(" refused: {r}"), format!(" 拒收原因：{}", reason(lang, r))));
        }
        if i.photos > 0 {
            s.push_str(&lang.pick(format!(" · {} photo(s)", i.photos), format!(" · 照片 {} 张", i.photos)));
        }
        if let Some(r) = &i.customer_reason {
            s.push_str(&lang.pick(format!(" · customer: {r}"), format!(" · 买家原因：{r}")));
        }
        let mut out = vec![on_screen(&s)];
        let d = &i.details;
        let about_one_unit = i.unit.as_ref().and_then(|u| d.units.iter().find(|x| &x.unit == u));
        if let Some(u) = about_one_unit {
            out.push(on_screen(&format!("    {}", unit_line(lang, u))));
            return out;
        }
        for m in &d.missing {
            let name = m.name.as_deref().map(|n| format!(" {n}")).unwrap_or_default();
            out.push(on_screen(&lang.pick(
                format!(
                    "    missing: {} x {}{name} ({}), {} each",
                    m.qty,
                    m.sku,
                    m.rma_no,
                    money(m.value_cents, lang)
                ),
                format!(
                    "    缺少：{} 件 {}{name}（{}），单价 {}",
                    m.qty,
                    m.sku,
                    m.rma_no,
                    money(m.value_cents, lang)
                ),
            )));
        }
        for u in &d.units {
            out.push(on_screen(&format!("    {}", unit_line(lang, u))));
        }
        if let Some(n) = &d.parcel_note {
            out.push(on_screen(
                &lang.pick(format!("    parcel note: \"{n}\""), format!("    包裹备注：“{n}”")),
            ));
        }
        if !d.units.is_empty() || !d.missing.is_empty() {
            let (r, m) = (format_cents(d.received_cents), format_cents(d.missing_cents));
            out.push(lang.pick(
                format!("    value: {r} received, {m} missing"),
                format!("    价值：已收 {r}，缺少 {m}"),
            ));
        }
        out
    }

    /// A unit as found, and, when flagged, what its return expected.
    fn unit_line(lang: Lang, u: &ReviewUnit) -> String {
        let mut s = format!("{} {}", u.unit, u.sku.as_deref().unwrap_or("?"));
        if let Some(n) = &u.name {
            s.push_str(&format!(" {n}"));
        }
        if let Some(x) = &u.serial {
            s.push_str(&lang.pick(format!(", serial {x}"), format!("，序列号 {x}")));
        }
        if let Some(f) = &u.discrepancy {
            let words = flag(lang, f);
            s.push_str(&lang.pick(format!(" [{words}]"), format!("【{words}】")));
            if let Some(e) = u.expected_sku.as_deref().filter(|e| Some(*e) != u.sku.as_deref()) {
                s.push_str(&lang.pick(format!(", expected {e}"), format!("，应为 {e}")));
            }
            if f == "serial_mismatch" && !u.expected_serials.is_empty() {
                let or = lang.pick(" or ", " 或 ");
                let list = u.expected_serials.join(or);
                s.push_str(&lang.pick(format!(", expected serial {list}"), format!("，应为序列号 {list}")));
            }
        }
        let mut verdict: Vec<String> = Vec::new();
        match &u.outcome {
            Some(o) => verdict.push(outcome(lang, o)),
            None => verdict.push(lang.pick("not inspected", "未验货").into()),
        }
        if let Some(g) = &u.grade {
            verdict.push(lang.pick(format!("grade {g}"), format!("成色 {g}")));
        }
        if let Some(r) = &u.reason {
            verdict.push(reason(lang, r));
        }
        let (verdict, value) = (verdict.join(" "), money(u.value_cents, lang));
        s.push_str(&lang.pick(format!(": {verdict}, {value}"), format!("：{verdict}，{value}")));
        if let Some(n) = &u.note {
            s.push_str(&lang.pick(format!(", note \"{n}\""), format!("，备注“{n}”")));
        }
        s
    }
}
