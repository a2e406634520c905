//! `export evidence --rma RMA`: what after-sales uploads to a marketplace to dispute a refusal.
//! A zip with the return's photos (each under 5 MB, the largest a marketplace takes), a
//! `summary.json` for programs and a `summary.txt` for people: what was expected, what arrived,
//! each unit's outcome, reason (and the marketplace's id for it), serial numbers expected
//! against found, who, where, when, and the supervisor's decision.

use super::picture::{self, Kind};
use crate::domain::codes::{Coded, Lang, Outcome, ParcelState, Reason};
use crate::export::{parcel_rows, ExportRow};
use crate::store::export::EvidenceFacts;
use crate::store::Store;
use chrono::{DateTime, FixedOffset};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;

/// The most a marketplace takes of one proof image (Tmall's refusal call: 5 MB).
pub const PHOTO_LIMIT: usize = 5 * 1024 * 1024;

/// What was bundled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundled {
    pub rma_no: String,
    pub units: usize,
    pub photos: usize,
    /// Photos made smaller to fit the limit.
    pub resized: usize,
    /// Photos that could not be read, or are not the picture they name: left out, and named
    /// in the summary (`audit verify` says more).
    pub missing: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("no return {0}: check the RMA number (import the returns first)")]
    NoSuchReturn(String),
    #[error("return {0} has not been received: no box of it was scanned, so there is no evidence yet")]
    NotReceived(String),
    #[error("{0}: that is the folder the photos are kept in; write the evidence elsewhere")]
    InTheStore(String),
    #[error("{0}")]
    Store(crate::store::StoreError),
    #[error("{path}: cannot write the evidence: {why}")]
    Write { path: String, why: String },
}

/// The rows of the return among its boxes' export rows: its own, and the units on no return
/// of a box it shares; times in `zone`, as the export shows them.
fn rows_of(e: &EvidenceFacts, zone: FixedOffset) -> Vec<(i64, ExportRow)> {
    e.parcels
        .iter()
        .flat_map(|(f, _)| {
            let id = f.view.id;
            parcel_rows(f).into_iter().filter(|r| r.rma_no == e.rma_no || r.rma_no.is_empty()).map(
                move |mut r| {
                    r.show_times_in(zone);
                    (id, r)
                },
            )
        })
        .collect()
}

/// A stored instant in `zone`, with its offset (as the export writes times).
fn local(at: &str, zone: FixedOffset) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| t.with_timezone(&zone).to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
        .unwrap_or_else(|_| at.to_string())
}

fn opt(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::String(s.to_string())
    }
}

/// The serial numbers the return expected on the unit's line (by SKU: a unit's row names its
/// SKU, and a return rarely has two lines of one SKU).
fn expected_serials<'a>(e: &'a EvidenceFacts, sku: &str) -> Vec<&'a str> {
    e.lines.iter().filter(|l| l.sku == sku).flat_map(|l| l.serials.iter().map(String::as_str)).collect()
}

/// `summary.json`.
pub fn summary(
    e: &EvidenceFacts,
    marketplace: &str,
    made_at: DateTime<FixedOffset>,
    files: &[(String, String, usize)],
    lang: Lang,
) -> Value {
    let zone = *made_at.offset();
    let rows = rows_of(e, zone);
    let file_of = |sha: &str| files.iter().find(|f| f.0 == sha).map(|f| f.1.clone());
    let units: Vec<Value> = rows
        .iter()
        .map(|(parcel, r)| {
            let photos: Vec<&str> = r.photos.split(';').filter(|s| !s.is_empty()).collect();
            let expected = expected_serials(e, &r.sku);
            let serial_matches = match (r.serial.as_str(), expected.is_empty()) {
                (_, true) => Value::Null,
                ("", false) => Value::Bool(false),
                (s, false) => Value::Bool(expected.contains(&s)),
            };
            json!({
                "unit_id": opt(&r.unit_id),
                "parcel_id": format!("P{parcel}"),
                "sku": r.sku,
                "title": opt(&r.title),
                "serial_found": opt(&r.serial),
                "serials_expected": expected,
                "serial_matches": serial_matches,
                "outcome": r.outcome,
                "grade": opt(&r.grade),
                "reason": opt(&r.reason),
                "reason_label": Reason::from_code(&r.reason).map(|x| lang.code(x)),
                "refuse_reason_id": opt(&r.refuse_reason_id),
                "cause": opt(&r.cause),
                "discrepancy": opt(&r.discrepancy),
                "note": opt(&r.note),
                "destination": opt(&r.destination),
                "value": opt(&r.unit_value),
                "station": r.station,
                "operator": r.operator,
                "received_at": r.received_at,
                "signed_at": opt(&r.signed_at),
                "review": {
                    "decision": opt(&r.review),
                    "by": opt(&r.reviewed_by),
                    "at": opt(&r.reviewed_at),
                    "comment": opt(&r.review_comment),
                },
                "photos": photos.iter().map(|s| json!({"sha256": s, "file": file_of(s)})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let parcels: Vec<Value> = e
        .parcels
        .iter()
        .map(|(f, dock)| {
            json!({
                "parcel_id": format!("P{}", f.view.id),
                "scanned": f.view.scan,
                "state": f.view.state.code(),
                "dock": dock,
                "station": f.view.station,
                "operator": f.view.operator,
                "received_at": local(&f.view.received_at, zone),
                "closed_at": f.closed_at.as_deref().map(|t| local(t, zone)),
                "refuse_reason": f.refuse_reason,
                "refuse_reason_id": f.refuse_reason.as_deref().and_then(crate::export::refusal_id),
            })
        })
        .collect();
    let photos: Vec<Value> = e
        .photos
        .iter()
        .map(|p| {
            let (file, size) = files.iter().find(|f| f.0 == p.sha256).map(|f| (f.1.clone(), f.2)).unwrap_or_default();
            json!({
                "sha256": p.sha256,
                "file": file,
                "bytes_in_zip": size,
                "bytes_original": p.bytes,
                "resized": size > 0 && size as i64 != p.bytes,
                "width": p.width,
                "height": p.height,
                "attached_to": match p.unit_id { Some(u) => crate::export::unit_label(u), None => format!("P{}", p.parcel_id) },
                "camera_file_name": p.file_name,
                "station": p.station,
                "operator": p.operator,
                "attached_at": local(&p.attached_at, zone),
            })
        })
        .collect();
    json!({
        "rma_no": e.rma_no,
        "order_no": e.order_no,
        "marketplace": opt(marketplace),
        "customer_reason": e.reason,
        "resolution": e.resolution,
        "made_at": made_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        "audit_log_head": e.head,
        "expected": e.lines.iter().map(|l| json!({
            "line": l.line, "sku": l.sku, "title": l.title, "qty": l.qty, "serials": l.serials,
        })).collect::<Vec<_>>(),
        "parcels": parcels,
        "units": units,
        "photos": photos,
    })
}

/// `summary.txt`: the same, for a person (in English or Chinese).
pub fn summary_text(s: &Value, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    let w = |en: &'static str, zh_: &'static str| if zh { zh_ } else { en };
    let text = |v: &Value| match v {
        Value::String(s) => crate::domain::text::in_file(s).into_owned(),
        Value::Null => "-".to_string(),
        other => other.to_string(),
    };
    let mut out = String::new();
    let mut line = |l: String| {
        out.push_str(&l);
        out.push('\n');
    };
    line(format!(
        "{} {} · {} {} · {}{}",
        w("Evidence for return", "退货凭证"),
        text(&s["rma_no"]),
        w("order", "订单"),
        text(&s["order_no"]),
        text(&s["made_at"]),
        if s["marketplace"].is_null() { String::new() } else { format!(" · {}", text(&s["marketplace"])) }
    ));
    line(format!(
        "{}: {} · {}: {}",
        w("The customer said", "顾客退货原因"),
        text(&s["customer_reason"]),
        w("resolution", "处理方式"),
        text(&s["resolution"])
    ));
    line(String::new());
    line(w("Expected", "应退商品").to_string());
    for l in s["expected"].as_array().into_iter().flatten() {
        let serials: Vec<String> = l["serials"].as_array().into_iter().flatten().map(text).collect();
        line(format!(
            "  {} {} ×{}{}",
            text(&l["sku"]),
            text(&l["title"]),
            text(&l["qty"]),
            if serials.is_empty() {
                String::new()
            } else {
                format!(" · {} {}", w("serials", "序列号"), serials.join(", "))
            }
        ));
    }
    for p in s["parcels"].as_array().into_iter().flatten() {
        line(String::new());
        line(format!(
            "{} {} ({}) · {} · {} {} · {} {} · {} {} · {} {} · {} {}",
            w("Parcel", "包裹"),
            text(&p["parcel_id"]),
            text(&p["scanned"]),
            ParcelState::from_code(p["state"].as_str().unwrap_or(""))
                .map_or_else(|| text(&p["state"]), |st| lang.code(st).to_string()),
            w("dock", "仓"),
            text(&p["dock"]),
            w("station", "工位"),
            text(&p["station"]),
            w("operator", "验货员"),
            text(&p["operator"]),
            w("received", "收货"),
            text(&p["received_at"]),
            w("closed", "完成"),
            text(&p["closed_at"]),
        ));
        if !p["refuse_reason"].is_null() {
            line(format!(
                "  {}: {} ({} {})",
                w("Refused at the dock", "整包拒收"),
                text(&p["refuse_reason"]),
                w("marketplace id", "平台原因编号"),
                text(&p["refuse_reason_id"])
            ));
        }
        for u in s["units"].as_array().into_iter().flatten().filter(|u| u["parcel_id"] == p["parcel_id"]) {
            let expected: Vec<String> =
                u["serials_expected"].as_array().into_iter().flatten().map(text).collect();
            let serial = match (&u["serial_found"], expected.is_empty(), &u["serial_matches"]) {
                (found, true, _) => format!("{} {}", w("serial", "序列号"), text(found)),
                (found, false, Value::Bool(true)) => {
                    format!("{} {} ({})", w("serial", "序列号"), text(found), w("as expected", "与预期一致"))
                }
                (found, false, _) => format!(
                    "{} {} ({} {}: {})",
                    w("serial", "序列号"),
                    text(found),
                    w("expected", "预期"),
                    expected.join(", "),
                    w("DOES NOT MATCH", "不一致")
                ),
            };
            line(format!("  {} {} {} · {}", text(&u["unit_id"]), text(&u["sku"]), text(&u["title"]), serial));
            let outcome = match Outcome::from_code(u["outcome"].as_str().unwrap_or("")) {
                Some(o) => lang.code(o).to_string(),
                None => text(&u["outcome"]),
            };
            let grade = if u["grade"].is_null() { String::new() } else { format!(" {}", text(&u["grade"])) };
            line(format!(
                "     {} {}{} · {} {} ({}) · {} {} · {} {} · {} {}",
                w("outcome", "结果"),
                outcome,
                grade,
                w("reason", "原因"),
                text(&u["reason"]),
                text(&u["reason_label"]),
                w("marketplace id", "平台原因编号"),
                text(&u["refuse_reason_id"]),
                w("cause", "归属"),
                text(&u["cause"]),
                w("to", "去向"),
                text(&u["destination"]),
            ));
            if !u["note"].is_null() || !u["discrepancy"].is_null() {
                line(format!(
                    "     {} {} · {} {}",
                    w("discrepancy", "差异"),
                    text(&u["discrepancy"]),
                    w("note", "备注"),
                    text(&u["note"])
                ));
            }
            let r = &u["review"];
            if r["decision"] == "pending" {
                line(format!("     {} {}", w("review", "复核"), w("pending", "待复核")));
            } else if !r["decision"].is_null() {
                line(format!(
                    "     {} {} · {} · {} · {}",
                    w("review", "复核"),
                    text(&r["decision"]),
                    text(&r["by"]),
                    text(&r["at"]),
                    text(&r["comment"])
                ));
            }
            let files: Vec<String> =
                u["photos"].as_array().into_iter().flatten().map(|p| text(&p["file"])).collect();
            if !files.is_empty() {
                line(format!("     {} {}: {}", w("photos", "照片"), files.len(), files.join(", ")));
            }
        }
    }
    for m in s["photos_missing"].as_array().into_iter().flatten() {
        line(format!(
            "{} {}: {}",
            w("Photo left out, it could not be read:", "照片未能读取，未附上："),
            text(&m["sha256"]),
            text(&m["why"])
        ));
    }
    line(String::new());
    line(format!("{}: {}", w("Audit log head", "审计日志链头"), text(&s["audit_log_head"])));
    out
}

/// Writes the evidence of return `rma` to `out` (a zip, through a temporary name, synced,
/// renamed: a crash leaves no half file).
pub fn write(
    store: &Store,
    rma: &str,
    out: &Path,
    marketplace: &str,
    lang: Lang,
    made_at: DateTime<FixedOffset>,
) -> Result<Bundled, BundleError> {
    if let (Some(folder), Some(dir)) = (store.photo_folder(), out.parent()) {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        if same_folder(&folder, dir) {
            return Err(BundleError::InTheStore(out.display().to_string()));
        }
    }
    let mut facts = store
        .evidence(rma)
        .map_err(|e| BundleError::Store(store.err(e)))?
        .ok_or_else(|| BundleError::NoSuchReturn(crate::domain::text::on_screen(rma)))?;
    if facts.parcels.is_empty() {
        return Err(BundleError::NotReceived(crate::domain::text::on_screen(&facts.rma_no)));
    }
    // Only this return's photos: those of its units and of its boxes themselves. A box it
    // shared with another return holds that customer's units too, and their photos stay out.
    let rows = rows_of(&facts, *made_at.offset());
    let units: std::collections::HashSet<&str> = rows.iter().map(|(_, r)| r.unit_id.as_str()).collect();
    facts.photos.retain(|p| p.unit_id.is_none_or(|u| units.contains(crate::export::unit_label(u).as_str())));
    // Each picture once, made small enough when it is not; one that cannot be read is left
    // out and named, so that the others still go.
    let mut files: Vec<(String, String, usize)> = Vec::new();
    let mut images: Vec<(String, Vec<u8>)> = Vec::new();
    let mut missing: Vec<(String, String)> = Vec::new();
    let mut resized = 0;
    for p in &facts.photos {
        if files.iter().any(|f| f.0 == p.sha256) || missing.iter().any(|m| m.0 == p.sha256) {
            continue;
        }
        let read = store.picture(p).map_err(|e| store.err(e).to_string()).and_then(|bytes| {
            if picture::sha256_hex(&bytes) != p.sha256 {
                return Err("its bytes are not the picture it names (run audit verify)".to_string());
            }
            picture::under(p.kind, &bytes, PHOTO_LIMIT).map(|s| (s, bytes.len())).map_err(|e| e.to_string())
        });
        let ((kind, small), original) = match read {
            Ok(done) => done,
            Err(why) => {
                missing.push((p.sha256.clone(), why));
                continue;
            }
        };
        if small.len() != original {
            resized += 1;
        }
        let name = format!("photos/{}.{}", p.sha256, Kind::extension(kind));
        files.push((p.sha256.clone(), name.clone(), small.len()));
        images.push((name, small));
    }
    let mut s = summary(&facts, marketplace, made_at, &files, lang);
    s["photos_missing"] =
        missing.iter().map(|(sha, why)| json!({"sha256": sha, "why": why})).collect::<Vec<_>>().into();
    let units = s["units"].as_array().map_or(0, Vec::len);
    let text = summary_text(&s, lang);
    let werr = |why: String| BundleError::Write { path: out.display().to_string(), why };
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o600);
    // Pictures are compressed already.
    let stored = deflated.compression_method(zip::CompressionMethod::Stored);
    let json = serde_json::to_vec_pretty(&s).map_err(|e| werr(e.to_string()))?;
    for (name, bytes, options) in
        [("summary.json", json.as_slice(), deflated), ("summary.txt", text.as_bytes(), deflated)]
            .into_iter()
            .chain(images.iter().map(|(n, b)| (n.as_str(), b.as_slice(), stored)))
    {
        zip.start_file(name, options).map_err(|e| werr(e.to_string()))?;
        zip.write_all(bytes).map_err(|e| werr(e.to_string()))?;
    }
    let bytes = zip.finish().map_err(|e| werr(e.to_string()))?.into_inner();
    crate::files::write_durably(out, &bytes).map_err(|e| werr(e.to_string()))?;
    Ok(Bundled { rma_no: facts.rma_no, units, photos: files.len(), resized, missing })
}

/// Whether two paths name one folder (by what they resolve to).
fn same_folder(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
