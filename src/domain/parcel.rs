//! The rules of one parcel at the dock, pure: where a scanned unit belongs, what is wrong with
//! the parcel before it is signed, and why a unit most likely came back.
//!
//! A parcel carries the lines of one or more expected returns. Each unit taken out of the box
//! is matched to a line, or flagged: a product on no line is a *wrong item* while something
//! expected is still missing (the classic swap) and *unexpected* once everything expected is
//! there; one unit too many of a line is *qty over*; a serial number the return did not list
//! is a *serial mismatch*.

use super::codes::{Cause, Outcome, Reason};

/// Names an expected line: its return and its number within the return.
pub type LineRef = (i64, i64);

/// One line the parcel is expected to contain.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedLine {
    pub line: LineRef,
    pub rma_no: String,
    pub sku: String,
    pub title: Option<String>,
    /// Units expected in this box: the line's quantity less what arrived in the return's
    /// other boxes.
    pub qty: i64,
    /// Serial numbers the return lists for this line (may be fewer than `qty`, or none), less
    /// those that arrived in other boxes.
    pub serials: Vec<String>,
    /// Units of the line that arrived in the return's other boxes.
    pub arrived_before: i64,
}

/// What is wrong with one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnitFlag {
    WrongItem,
    Unexpected,
    QtyOver,
    SerialMismatch,
}

impl UnitFlag {
    /// The export's `discrepancy` value.
    pub fn code(self) -> &'static str {
        match self {
            UnitFlag::WrongItem => "wrong_item",
            UnitFlag::Unexpected => "unexpected",
            UnitFlag::QtyOver => "qty_over",
            UnitFlag::SerialMismatch => "serial_mismatch",
        }
    }

    pub fn from_code(code: &str) -> Option<UnitFlag> {
        [UnitFlag::WrongItem, UnitFlag::Unexpected, UnitFlag::QtyOver, UnitFlag::SerialMismatch]
            .into_iter()
            .find(|f| f.code() == code)
    }
}

/// A unit already taken out of the parcel.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedUnit {
    pub seq: i64,
    pub sku: Option<String>,
    pub serial: Option<String>,
    pub line: Option<LineRef>,
    pub flag: Option<UnitFlag>,
    pub outcome: Option<Outcome>,
    /// A product in several boxes: (boxes of this unit arrived, boxes it comes in).
    pub boxes: Option<(i64, i64)>,
}

impl ReceivedUnit {
    /// A unit of a product in several boxes whose boxes have not all arrived.
    pub fn incomplete(&self) -> bool {
        self.boxes.is_some_and(|(have, of)| have < of)
    }
}

/// Where a newly scanned unit goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// On this line (if any), with this flag (if any).
    Place { line: Option<LineRef>, flag: Option<UnitFlag> },
    /// This serial number was already scanned in this parcel, as unit `seq`: the same unit
    /// scanned twice, not a second unit.
    SerialAlreadyScanned { seq: i64 },
    /// This serial number came in another box of the same return, parcel `parcel`: the unit
    /// received there, not a second one.
    SerialInEarlierBox { parcel: i64 },
    /// A box of a product in several boxes, added to unit `seq`: `have` of its `of` boxes.
    BoxAdded { seq: i64, have: i64, of: i64 },
}

/// How many units are on a line without being one too many.
fn filled(units: &[ReceivedUnit], line: LineRef) -> i64 {
    units.iter().filter(|u| u.line == Some(line) && u.flag != Some(UnitFlag::QtyOver)).count() as i64
}

/// Places a unit of product `sku` (None: a product the catalog does not know) with `serial`.
/// `unidentified`: the parcel matched no expected return, so every unit is unexpected.
pub fn place_unit(
    lines: &[ExpectedLine],
    units: &[ReceivedUnit],
    sku: Option<&str>,
    serial: Option<&str>,
    unidentified: bool,
) -> Placement {
    if let Some(s) = serial {
        if let Some(u) = units.iter().find(|u| u.serial.as_deref() == Some(s)) {
            return Placement::SerialAlreadyScanned { seq: u.seq };
        }
    }
    let candidates: Vec<&ExpectedLine> = match sku {
        Some(sku) if !unidentified => lines.iter().filter(|l| l.sku == sku).collect(),
        _ => Vec::new(),
    };
    if candidates.is_empty() {
        let anything_missing = lines.iter().any(|l| filled(units, l.line) < l.qty);
        let flag = if !unidentified && anything_missing { UnitFlag::WrongItem } else { UnitFlag::Unexpected };
        return Placement::Place { line: None, flag: Some(flag) };
    }
    let has_room = |l: &&&ExpectedLine| filled(units, l.line) < l.qty;
    // A listed serial decides the line outright.
    if let Some(s) = serial {
        if let Some(l) = candidates.iter().find(|l| l.serials.iter().any(|x| x == s)) {
            let flag = (!has_room(&l)).then_some(UnitFlag::QtyOver);
            return Placement::Place { line: Some(l.line), flag };
        }
    }
    // Otherwise the first line with room, preferring one that lists no serials (nothing to
    // mismatch) when the unit has a serial nobody listed.
    let with_room: Vec<&&ExpectedLine> = candidates.iter().filter(has_room).collect();
    let chosen = with_room.iter().find(|l| serial.is_none() || l.serials.is_empty()).or(with_room.first());
    match chosen {
        Some(l) => {
            let mismatch = serial.is_some() && !l.serials.is_empty();
            Placement::Place { line: Some(l.line), flag: mismatch.then_some(UnitFlag::SerialMismatch) }
        }
        None => Placement::Place { line: Some(candidates[0].line), flag: Some(UnitFlag::QtyOver) },
    }
}

/// One thing to show before signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discrepancy {
    /// `qty` units of this line never came out of the box.
    Missing { line: LineRef, qty: i64 },
    /// Unit `seq` is flagged.
    Unit { seq: i64, flag: UnitFlag },
    /// Unit `seq` has no outcome yet: the parcel cannot be signed.
    Uninspected { seq: i64 },
    /// Unit `seq` (on `line`) is a product in several boxes, `have` of `of` arrived and no
    /// outcome given: awaited in boxes to come, or refused (or second-hand for missing parts)
    /// if this is the last box.
    Incomplete { seq: i64, line: Option<LineRef>, have: i64, of: i64 },
}

impl Discrepancy {
    /// What boxes still to come may bring: units not in this box, or boxes of a unit.
    pub fn awaited(&self) -> bool {
        matches!(self, Discrepancy::Missing { .. } | Discrepancy::Incomplete { .. })
    }

    /// The return whose box it awaits, if it is awaited.
    pub fn awaited_by(&self) -> Option<i64> {
        match self {
            Discrepancy::Missing { line, .. } => Some(line.0),
            Discrepancy::Incomplete { line, .. } => line.map(|l| l.0),
            _ => None,
        }
    }
}

/// Everything the operator must see before signing, in the order to show it: what is missing,
/// then the flagged units, then the units still to inspect.
pub fn discrepancies(lines: &[ExpectedLine], units: &[ReceivedUnit]) -> Vec<Discrepancy> {
    let mut out: Vec<Discrepancy> = lines
        .iter()
        .filter_map(|l| {
            let missing = l.qty - filled(units, l.line);
            (missing > 0).then_some(Discrepancy::Missing { line: l.line, qty: missing })
        })
        .collect();
    out.extend(units.iter().filter_map(|u| u.flag.map(|flag| Discrepancy::Unit { seq: u.seq, flag })));
    // A unit missing boxes may await them only on a line of its return that has room for it;
    // one nobody expects needs its outcome like any other.
    out.extend(units.iter().filter(|u| u.outcome.is_none()).map(|u| match u.boxes {
        Some((have, of)) if have < of && u.line.is_some() && u.flag != Some(UnitFlag::QtyOver) => {
            Discrepancy::Incomplete { seq: u.seq, line: u.line, have, of }
        }
        _ => Discrepancy::Uninspected { seq: u.seq },
    }));
    out
}

/// What signing needs, given the discrepancies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signable {
    /// Nothing to acknowledge.
    Clean,
    /// Signable once the operator confirms the discrepancies shown.
    NeedsConfirmation,
    /// Units without an outcome: inspect them first.
    Blocked,
}

pub fn signable(found: &[Discrepancy]) -> Signable {
    if found.iter().any(|d| matches!(d, Discrepancy::Uninspected { .. })) {
        Signable::Blocked
    } else if found.is_empty() {
        Signable::Clean
    } else {
        Signable::NeedsConfirmation
    }
}

/// The cause a unit most likely came back for, from what the inspection found and what the
/// customer said; the operator can change it, the supervisor too. README's table of default
/// causes is this function:
///
/// - does not work: the product (PRODUCT-DEFECT); damaged in transit: TRANSIT-DAMAGE;
/// - not the item of the order (a refusal for WRONG-ITEM, or a unit flagged as such): the
///   warehouse's (WRONG-ITEM-SENT) when the customer says we sent the wrong one, else FRAUD;
/// - parts missing: the warehouse's (MISSING-ITEM-SENT) when the customer says it came
///   incomplete, else what the customer said;
/// - a serial number that does not match, or suspected fraud: FRAUD;
/// - used, damaged by the customer, outside the policy: CHANGED-MIND;
/// - anything else (accepted, opened, cosmetic, expired, other): what the customer said.
pub fn default_cause(customer_reason: Option<&str>, flag: Option<UnitFlag>, reason: Option<Reason>) -> Cause {
    let said = customer_reason.map_or(Cause::ChangedMind, Cause::from_customer_reason);
    let wrong_item =
        reason == Some(Reason::WrongItem) || flag == Some(UnitFlag::WrongItem) && reason.is_none();
    match reason {
        Some(Reason::Defective) => Cause::ProductDefect,
        Some(Reason::TransitDamage) => Cause::TransitDamage,
        _ if wrong_item && said == Cause::WrongItemSent => Cause::WrongItemSent,
        _ if wrong_item => Cause::Fraud,
        Some(Reason::MissingParts) if said == Cause::MissingItemSent => Cause::MissingItemSent,
        Some(Reason::SuspectedFraud | Reason::SerialMismatch) => Cause::Fraud,
        Some(Reason::Used | Reason::CustomerDamage | Reason::OutsidePolicy) => Cause::ChangedMind,
        _ if flag == Some(UnitFlag::SerialMismatch) => Cause::Fraud,
        _ => said,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(rid: i64, no: i64, sku: &str, qty: i64, serials: &[&str]) -> ExpectedLine {
        ExpectedLine {
            line: (rid, no),
            rma_no: format!("R{rid}"),
            sku: sku.into(),
            title: None,
            qty,
            serials: serials.iter().map(|s| s.to_string()).collect(),
            arrived_before: 0,
        }
    }

    fn unit(seq: i64, sku: &str, serial: Option<&str>, p: &Placement) -> ReceivedUnit {
        let Placement::Place { line, flag } = p.clone() else { panic!("{p:?}") };
        ReceivedUnit {
            seq,
            sku: Some(sku.into()),
            serial: serial.map(String::from),
            line,
            flag,
            outcome: None,
            boxes: None,
        }
    }

    /// Scans units one by one as the station would, returning them placed.
    fn scan(lines: &[ExpectedLine], scans: &[(&str, Option<&str>)]) -> Vec<ReceivedUnit> {
        let mut units = Vec::new();
        for (i, (sku, serial)) in scans.iter().enumerate() {
            let p = place_unit(lines, &units, Some(sku), *serial, false);
            units.push(unit(i as i64 + 1, sku, *serial, &p));
        }
        units
    }

    #[test]
    fn a_clean_parcel_has_nothing_to_show_once_inspected() {
        let lines = [line(1, 1, "A", 2, &[]), line(1, 2, "B", 1, &[])];
        let mut units = scan(&lines, &[("A", None), ("B", None), ("A", None)]);
        assert!(units.iter().all(|u| u.flag.is_none() && u.line.is_some()));
        assert_eq!(signable(&discrepancies(&lines, &units)), Signable::Blocked, "not inspected yet");
        for u in &mut units {
            u.outcome = Some(Outcome::Accept);
        }
        assert_eq!(discrepancies(&lines, &units), vec![]);
        assert_eq!(signable(&[]), Signable::Clean);
    }

    #[test]
    fn missing_units_are_counted_per_line() {
        let lines = [line(1, 1, "A", 3, &[]), line(1, 2, "B", 1, &[])];
        let units = scan(&lines, &[("A", None)]);
        let d = discrepancies(&lines, &units);
        assert!(d.contains(&Discrepancy::Missing { line: (1, 1), qty: 2 }));
        assert!(d.contains(&Discrepancy::Missing { line: (1, 2), qty: 1 }));
    }

    #[test]
    fn a_product_on_no_line_is_a_wrong_item_while_something_is_missing_then_unexpected() {
        let lines = [line(1, 1, "A", 1, &[])];
        let units = scan(&lines, &[("CHEAP", None)]);
        assert_eq!(
            units[0].flag,
            Some(UnitFlag::WrongItem),
            "the swap: A missing, something else in the box"
        );
        let units = scan(&lines, &[("A", None), ("EXTRA", None)]);
        assert_eq!(units[1].flag, Some(UnitFlag::Unexpected));
        assert_eq!(
            place_unit(&lines, &[], None, None, false),
            Placement::Place { line: None, flag: Some(UnitFlag::WrongItem) }
        );
        assert_eq!(
            place_unit(&[], &[], Some("A"), None, true),
            Placement::Place { line: None, flag: Some(UnitFlag::Unexpected) }
        );
    }

    #[test]
    fn one_too_many_is_qty_over_and_does_not_fill_the_line() {
        let lines = [line(1, 1, "A", 1, &[])];
        let units = scan(&lines, &[("A", None), ("A", None)]);
        assert_eq!(units[1].flag, Some(UnitFlag::QtyOver));
        assert_eq!(units[1].line, Some((1, 1)));
        let d = discrepancies(&lines, &units);
        assert!(!d.iter().any(|x| matches!(x, Discrepancy::Missing { .. })));
        assert!(d.contains(&Discrepancy::Unit { seq: 2, flag: UnitFlag::QtyOver }));
    }

    #[test]
    fn serials_pick_their_line_and_a_stranger_is_a_mismatch() {
        let lines = [line(1, 1, "PHONE", 1, &["SN-1"]), line(2, 1, "PHONE", 1, &["SN-2"])];
        let units = scan(&lines, &[("PHONE", Some("SN-2")), ("PHONE", Some("SN-9"))]);
        assert_eq!((units[0].line, units[0].flag), (Some((2, 1)), None), "SN-2 belongs to the second RMA");
        assert_eq!((units[1].line, units[1].flag), (Some((1, 1)), Some(UnitFlag::SerialMismatch)));
        assert_eq!(
            place_unit(&lines, &units, Some("PHONE"), Some("SN-2"), false),
            Placement::SerialAlreadyScanned { seq: 1 }
        );
        // A line that lists no serials accepts any.
        let open = [line(1, 1, "PHONE", 1, &[])];
        assert_eq!(scan(&open, &[("PHONE", Some("ANY"))])[0].flag, None);
    }

    #[test]
    fn two_rmas_in_one_box_fill_their_own_lines() {
        let lines = [line(1, 1, "A", 1, &[]), line(2, 1, "A", 1, &[]), line(2, 2, "B", 1, &[])];
        let units = scan(&lines, &[("A", None), ("A", None), ("B", None)]);
        assert_eq!(
            units.iter().map(|u| u.line).collect::<Vec<_>>(),
            vec![Some((1, 1)), Some((2, 1)), Some((2, 2))]
        );
        assert!(units.iter().all(|u| u.flag.is_none()));
    }

    #[test]
    fn flagged_but_inspected_parcels_need_confirmation() {
        let lines = [line(1, 1, "A", 2, &[])];
        let mut units = scan(&lines, &[("A", None)]);
        units[0].outcome = Some(Outcome::Refuse);
        assert_eq!(signable(&discrepancies(&lines, &units)), Signable::NeedsConfirmation);
    }

    /// README's table of default causes, row by row.
    #[test]
    fn the_default_causes_table() {
        use Cause::*;
        let wrong = Some(UnitFlag::WrongItem);
        type Row<'a> = (Option<&'a str>, Option<UnitFlag>, Option<Reason>, Cause);
        let rows: &[Row] = &[
            (Some("不想要了"), None, Some(Reason::Defective), ProductDefect),
            (None, None, Some(Reason::TransitDamage), TransitDamage),
            // A wrong item: ours when the customer says we sent the wrong one.
            (Some("发错货了"), None, Some(Reason::WrongItem), WrongItemSent),
            (Some("wrong item was sent"), wrong, None, WrongItemSent),
            (Some("wrong size"), wrong, Some(Reason::WrongItem), WrongItemSent),
            (Some("不想要了"), None, Some(Reason::WrongItem), Fraud),
            (None, wrong, None, Fraud),
            (Some("少件"), None, Some(Reason::MissingParts), MissingItemSent),
            (Some("不想要了"), None, Some(Reason::MissingParts), ChangedMind),
            (Some("质量问题"), Some(UnitFlag::SerialMismatch), None, Fraud),
            (None, None, Some(Reason::SerialMismatch), Fraud),
            (None, None, Some(Reason::SuspectedFraud), Fraud),
            (Some("质量问题"), None, Some(Reason::Used), ChangedMind),
            (None, None, Some(Reason::CustomerDamage), ChangedMind),
            (None, None, Some(Reason::OutsidePolicy), ChangedMind),
            (Some("商品破损"), None, None, TransitDamage),
            (Some("与描述不符"), None, Some(Reason::Opened), NotAsDescribed),
            (None, None, Some(Reason::Cosmetic), ChangedMind),
        ];
        for (said, flag, reason, cause) in rows {
            assert_eq!(default_cause(*said, *flag, *reason), *cause, "{said:?} {flag:?} {reason:?}");
        }
    }

    #[test]
    fn causes_default_from_the_inspection_then_the_customer() {
        assert_eq!(default_cause(Some("不想要了"), None, Some(Reason::Defective)), Cause::ProductDefect);
        assert_eq!(default_cause(Some("质量问题"), Some(UnitFlag::SerialMismatch), None), Cause::Fraud);
        assert_eq!(default_cause(Some("商品破损"), None, None), Cause::TransitDamage);
        assert_eq!(default_cause(None, None, Some(Reason::Opened)), Cause::ChangedMind);
    }
}
