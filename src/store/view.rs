//! The parcel screen's view, read in one statement. Every step ends by reading back what the
//! screen will show, and on a server every statement is a round trip: the view was five (the
//! parcel, its returns, their lines, what of those lines came in other boxes, its units). Here
//! they are the branches of one `UNION ALL`, each kind of row with its values in shared
//! columns (integers, texts, times), the rows ordered by kind and then as the screen lists them.
//! Both engines run the same statement.

use super::sql::{args, Row, Sql};
use super::station::{parcel_state, ParcelSeen, ParcelView, ReturnSummary, UnitRecord};
use super::{DbError, DbResult};
use crate::domain::codes::{Cause, Coded, Grade, Outcome, Reason};
use crate::domain::parcel::{ExpectedLine, LineRef, UnitFlag};
use std::collections::HashMap;
use std::sync::OnceLock;

/// How many columns of each sort a row has: after its kind and two ordering keys, integers,
/// texts and times, each branch filling the first of them and leaving the rest null.
const INTS: usize = 8;
const TEXTS: usize = 11;
const TIMES: usize = 2;

/// One kind of row of the view.
struct Branch {
    /// The rows' order within the kind (up to two keys).
    order: &'static [&'static str],
    ints: &'static [&'static str],
    texts: &'static [&'static str],
    times: &'static [&'static str],
    /// The rest of the branch: its tables and condition (`?1`: the parcel).
    from: &'static str,
}

const PARCEL: i64 = 0;
const RETURNS: i64 = 1;
const LINES: i64 = 2;
const ELSEWHERE: i64 = 3;
const UNITS: i64 = 4;

/// The branches, in the order of their kinds.
const BRANCHES: [Branch; 5] = [
    // The parcel itself.
    Branch {
        order: &[],
        ints: &[
            "unidentified",
            "(SELECT count(*) FROM photos f WHERE f.parcel_id = ?1 AND f.unit_id IS NULL)",
        ],
        texts: &["scan", "state", "station", "operator", "dock"],
        times: &["received_at", "closed_at"],
        from: "FROM parcels WHERE id = ?1",
    },
    // Its returns, by id, with the boxes of each signed so far.
    Branch {
        order: &["r.id"],
        ints: &["r.id", "coalesce((SELECT x.boxes FROM return_receipts x WHERE x.return_id = r.id), 0)"],
        texts: &["r.rma_no", "r.order_no", "r.tracking_no", "r.customer", "r.reason", "r.resolution"],
        times: &[],
        from: "FROM parcel_returns pr JOIN returns r ON r.id = pr.return_id WHERE pr.parcel_id = ?1",
    },
    // Their expected lines, by return and line.
    Branch {
        order: &["l.return_id", "l.line_no"],
        ints: &["l.return_id", "l.line_no", "l.qty"],
        texts: &["r.rma_no", "l.sku", "coalesce(l.title, p.name)", "l.serials"],
        times: &[],
        from: "FROM parcel_returns pr JOIN returns r ON r.id = pr.return_id
               JOIN return_lines l ON l.return_id = r.id
               LEFT JOIN products p ON p.sku = l.sku
               WHERE pr.parcel_id = ?1",
    },
    // The units on those lines that arrived in the returns' other signed boxes, whole: a unit
    // of a product in several boxes counts once all its boxes came, or once it has an outcome;
    // one too many does not count. Only a return with a receipt has had a box signed: through
    // it, the planner looks the units up by their return, never along the whole index.
    Branch {
        order: &[],
        ints: &["u.return_id", "u.line_no", "u.parcel_id"],
        texts: &["u.serial"],
        times: &[],
        from:
            "FROM parcel_returns pr
               JOIN return_receipts rr ON rr.return_id = pr.return_id
               JOIN units u ON u.return_id = rr.return_id
               JOIN parcels p ON p.id = u.parcel_id
               WHERE pr.parcel_id = ?1 AND u.parcel_id <> ?1 AND p.state = 'signed' AND u.line_no IS NOT NULL
                 AND (u.discrepancy IS NULL OR u.discrepancy <> 'qty_over')
                 AND NOT (u.outcome IS NULL
                          AND u.boxes_in < coalesce((SELECT x.boxes FROM products x WHERE x.sku = u.sku), 1))",
    },
    // Its units, in the order scanned, with the boxes their product comes in.
    Branch {
        order: &["seq"],
        ints: &[
            "id",
            "seq",
            "return_id",
            "line_no",
            "unit_value_cents",
            "boxes_in",
            "(SELECT p.boxes FROM products p WHERE p.sku = units.sku)",
            "(SELECT count(*) FROM photos f WHERE f.unit_id = units.id)",
        ],
        texts: &[
            "scan",
            "sku",
            "serial",
            "discrepancy",
            "outcome",
            "grade",
            "reason",
            "cause",
            "note",
            "box_marks",
            "destination",
        ],
        times: &[],
        from: "FROM units WHERE parcel_id = ?1",
    },
];

/// The statement, made once from [`BRANCHES`].
fn statement() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        // A null of the column's sort: PostgreSQL types a union's column from its branches,
        // two at a time, and two bare nulls would make it text.
        let padded = |values: &[&str], n: usize, sort: &str| -> Vec<String> {
            (0..n).map(|i| values.get(i).map_or(format!("CAST(NULL AS {sort})"), |v| v.to_string())).collect()
        };
        let branches: Vec<String> = BRANCHES
            .iter()
            .enumerate()
            .map(|(kind, b)| {
                let mut columns = vec![kind.to_string()];
                columns.extend(padded(b.order, 2, "BIGINT"));
                columns.extend(padded(b.ints, INTS, "BIGINT"));
                columns.extend(padded(b.texts, TEXTS, "TEXT"));
                columns.extend(padded(b.times, TIMES, "TIMESTAMPTZ"));
                format!("SELECT {} {}", columns.join(", "), b.from)
            })
            .collect();
        format!("{} ORDER BY 1, 2, 3", branches.join(" UNION ALL "))
    })
}

/// A row's integer `i`, text `i` and time `i` of its kind.
fn int<T: super::sql::FromCell>(r: &Row, i: usize) -> DbResult<T> {
    r.get(3 + i)
}

fn text(r: &Row, i: usize) -> DbResult<Option<String>> {
    r.get(3 + INTS + i)
}

fn time(r: &Row, i: usize) -> DbResult<Option<String>> {
    r.get(3 + INTS + TEXTS + i)
}

fn needed(value: Option<String>, what: &str) -> DbResult<String> {
    value.ok_or_else(|| DbError::shape(format!("the parcel's {what} is null")))
}

/// Parcel `parcel_id` as the station shows it, and as a parcel seen by a scan (its state,
/// where and when), in one statement.
pub fn load(db: &dyn Sql, parcel_id: i64) -> DbResult<(ParcelView, ParcelSeen)> {
    let mut parcel: Option<(ParcelView, ParcelSeen)> = None;
    let mut returns = Vec::new();
    let mut lines = Vec::new();
    let mut elsewhere: HashMap<LineRef, super::boxes::Arrived> = HashMap::new();
    let mut units = Vec::new();
    db.each(statement(), args![parcel_id], &mut |r| {
        match r.get::<i64>(0)? {
            PARCEL => {
                let state = parcel_state(r, 3 + INTS + 1)?;
                let (station, operator) = (needed(text(r, 2)?, "station")?, needed(text(r, 3)?, "operator")?);
                let received_at = needed(time(r, 0)?, "receipt")?;
                let seen = ParcelSeen {
                    parcel_id,
                    state,
                    station: station.clone(),
                    operator: operator.clone(),
                    received_at: received_at.clone(),
                    closed_at: time(r, 1)?,
                    dock: text(r, 4)?,
                    rma_awaiting: None,
                };
                let view = ParcelView {
                    id: parcel_id,
                    scan: needed(text(r, 0)?, "scan")?,
                    state,
                    unidentified: int(r, 0)?,
                    station,
                    operator,
                    received_at,
                    returns: Vec::new(),
                    lines: Vec::new(),
                    units: Vec::new(),
                    earlier_serials: Vec::new(),
                    photos: int(r, 1)?,
                };
                parcel = Some((view, seen));
            }
            RETURNS => returns.push(ReturnSummary {
                id: int(r, 0)?,
                rma_no: needed(text(r, 0)?, "return's RMA")?,
                order_no: needed(text(r, 1)?, "return's order")?,
                tracking_no: text(r, 2)?,
                customer: text(r, 3)?,
                reason: text(r, 4)?,
                resolution: needed(text(r, 5)?, "return's resolution")?,
                boxes: int(r, 1)?,
            }),
            LINES => lines.push(ExpectedLine {
                line: (int(r, 0)?, int(r, 1)?),
                rma_no: needed(text(r, 0)?, "line's RMA")?,
                sku: needed(text(r, 1)?, "line's SKU")?,
                title: text(r, 2)?,
                qty: int(r, 2)?,
                serials: text(r, 3)?.map(|s| s.split(';').map(String::from).collect()).unwrap_or_default(),
                arrived_before: 0,
            }),
            ELSEWHERE => {
                let e = elsewhere.entry((int(r, 0)?, int(r, 1)?)).or_default();
                e.0 += 1;
                if let Some(s) = text(r, 0)? {
                    e.1.push((s, int(r, 2)?));
                }
            }
            UNITS => {
                let rid: Option<i64> = int(r, 2)?;
                let no: Option<i64> = int(r, 3)?;
                units.push(UnitRecord {
                    id: int(r, 0)?,
                    seq: int(r, 1)?,
                    scan: needed(text(r, 0)?, "unit's scan")?,
                    sku: text(r, 1)?,
                    serial: text(r, 2)?,
                    line: rid.zip(no),
                    flag: text(r, 3)?.as_deref().and_then(UnitFlag::from_code),
                    outcome: text(r, 4)?.as_deref().and_then(Outcome::from_code),
                    grade: text(r, 5)?.as_deref().and_then(Grade::from_code),
                    reason: text(r, 6)?.as_deref().and_then(Reason::from_code),
                    cause: text(r, 7)?.as_deref().and_then(Cause::from_code),
                    note: text(r, 8)?,
                    unit_value_cents: int(r, 4)?,
                    boxes: int::<Option<i64>>(r, 5)?.zip(int::<Option<i64>>(r, 6)?),
                    box_marks: super::station::marks(text(r, 9)?.as_deref()),
                    destination: text(r, 10)?,
                    photos: int(r, 7)?,
                });
            }
            other => return Err(DbError::shape(format!("a parcel's view has no rows of kind {other}"))),
        }
        Ok(())
    })?;
    let (mut view, seen) = parcel.ok_or_else(|| DbError::shape(format!("no parcel {parcel_id}")))?;
    // A return in several boxes: this box is expected to hold what its other boxes did not.
    if returns.iter().any(|r| r.boxes > 0) {
        for l in &mut lines {
            if let Some((n, serials)) = elsewhere.get(&l.line) {
                l.arrived_before = *n;
                l.qty = (l.qty - n).max(0);
                l.serials.retain(|s| !serials.iter().any(|(x, _)| x == s));
            }
        }
        view.earlier_serials = elsewhere.into_values().flat_map(|(_, s)| s).collect();
    }
    view.returns = returns;
    view.lines = lines;
    view.units = units;
    Ok((view, seen))
}

#[cfg(test)]
mod tests {
    /// Found: a unit's eleventh text (its destination) was left out of the view without a
    /// word while a row held ten. Every branch's columns fit the row.
    #[test]
    fn every_branch_fits_the_row() {
        for b in super::BRANCHES {
            assert!(b.order.len() <= 2 && b.ints.len() <= super::INTS, "{}", b.from);
            assert!(b.texts.len() <= super::TEXTS && b.times.len() <= super::TIMES, "{}", b.from);
        }
    }

    /// On a file the view reads only by its parcel, through indexes: no step of its plan
    /// scans a table (with a year of returns and units, one would cost a whole read of it).
    #[test]
    fn the_view_reads_through_indexes_only() {
        let store = crate::store::Store::open_in_memory().unwrap();
        let mut stmt = store.conn().prepare(&format!("EXPLAIN QUERY PLAN {}", super::statement())).unwrap();
        let steps: Vec<String> =
            stmt.query_map([1], |r| r.get::<_, String>(3)).unwrap().map(Result::unwrap).collect();
        for step in &steps {
            let scans_a_table = step.starts_with("SCAN") && !step.starts_with("SCAN CONSTANT");
            assert!(!scans_a_table, "{step}: {steps:#?}");
        }
        assert!(steps.iter().any(|s| s.contains("units")), "{steps:#?}");
    }
}
