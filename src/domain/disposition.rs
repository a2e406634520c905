//! Where each unit goes once inspected: a destination for each outcome (and grade), so that
//! the dock worker never has to think where. A destination names a place on the dock (a shelf,
//! a cage, a supplier's box); `{supplier}` in it stands for the catalog's supplier of the
//! product (`RTV-{supplier}` gives `RTV-ACME`).

use super::codes::{Grade, Outcome};
use serde::Deserialize;

/// The placeholder a destination may hold for the product's supplier.
pub const SUPPLIER: &str = "{supplier}";

/// What `{supplier}` becomes for a product the catalog names no supplier of.
pub const NO_SUPPLIER: &str = "NO-SUPPLIER";

/// The destination of each outcome (configuration section `[disposition]`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Disposition {
    /// Accepted (grade A): back to stock as new.
    pub accept: String,
    pub second_hand_b: String,
    pub second_hand_c: String,
    pub scrap: String,
    pub return_to_supplier: String,
    /// Refused: held for the dispute with the customer or the marketplace.
    pub refuse: String,
}

impl Default for Disposition {
    fn default() -> Self {
        Disposition {
            accept: "STOCK".into(),
            second_hand_b: "B-STOCK".into(),
            second_hand_c: "C-STOCK".into(),
            scrap: "SCRAP".into(),
            return_to_supplier: format!("RTV-{SUPPLIER}"),
            refuse: "REFUSED-HOLD".into(),
        }
    }
}

/// The longest destination, in characters, once its supplier is in (it is printed large).
pub const LONGEST: usize = 40;

impl Disposition {
    /// The keys of the section, in order, with their values.
    pub fn entries(&self) -> [(&'static str, &str); 6] {
        [
            ("accept", &self.accept),
            ("second_hand_b", &self.second_hand_b),
            ("second_hand_c", &self.second_hand_c),
            ("scrap", &self.scrap),
            ("return_to_supplier", &self.return_to_supplier),
            ("refuse", &self.refuse),
        ]
    }

    /// The destination of an outcome, as written (with `{supplier}` where it was put).
    /// Second-hand without a grade is grade B, as the station records it.
    pub fn template(&self, outcome: Outcome, grade: Option<Grade>) -> &str {
        match outcome {
            Outcome::Accept => &self.accept,
            Outcome::SecondHand if grade == Some(Grade::C) => &self.second_hand_c,
            Outcome::SecondHand => &self.second_hand_b,
            Outcome::Scrap => &self.scrap,
            Outcome::ReturnToSupplier => &self.return_to_supplier,
            Outcome::Refuse => &self.refuse,
        }
    }

    /// Why a value cannot be a destination: the key and the reason.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        for (key, value) in self.entries() {
            let v = value.trim();
            if v.is_empty() {
                return Err((key, "must name a place, e.g. \"B-STOCK\" (or be left out)".into()));
            }
            // What is stored is what the band shows and the label prints: nothing hidden.
            if v.chars().any(char::is_control) || super::text::in_file(v) != v {
                return Err((key, "holds a control, invisible or reordering character".into()));
            }
            if v.replace(SUPPLIER, "").contains(['{', '}']) {
                return Err((key, format!("\"{v}\": the only placeholder is {SUPPLIER}")));
            }
            if v.chars().count() > LONGEST {
                return Err((key, format!("\"{v}\" is longer than {LONGEST} characters")));
            }
        }
        Ok(())
    }

    /// The same, each value trimmed.
    pub fn trimmed(mut self) -> Self {
        for v in [
            &mut self.accept,
            &mut self.second_hand_b,
            &mut self.second_hand_c,
            &mut self.scrap,
            &mut self.return_to_supplier,
            &mut self.refuse,
        ] {
            *v = v.trim().to_string();
        }
        self
    }
}

/// A destination with its supplier put in (`supplier` as the catalog has it; none gives
/// [`NO_SUPPLIER`]), cut to [`LONGEST`] characters.
pub fn place(template: &str, supplier: Option<&str>) -> String {
    let supplier = supplier.map(str::trim).filter(|s| !s.is_empty()).unwrap_or(NO_SUPPLIER);
    let cut: String = template.replace(SUPPLIER, supplier).chars().take(LONGEST).collect();
    cut.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outcome_and_grade_has_its_place() {
        let d = Disposition::default();
        assert_eq!(d.template(Outcome::Accept, Some(Grade::A)), "STOCK");
        assert_eq!(d.template(Outcome::SecondHand, Some(Grade::B)), "B-STOCK");
        assert_eq!(d.template(Outcome::SecondHand, None), "B-STOCK");
        assert_eq!(d.template(Outcome::SecondHand, Some(Grade::C)), "C-STOCK");
        assert_eq!(d.template(Outcome::Scrap, None), "SCRAP");
        assert_eq!(d.template(Outcome::Refuse, None), "REFUSED-HOLD");
        assert_eq!(place(d.template(Outcome::ReturnToSupplier, None), Some("ACME")), "RTV-ACME");
        assert_eq!(place(d.template(Outcome::ReturnToSupplier, None), None), "RTV-NO-SUPPLIER");
        assert_eq!(place("RTV-{supplier}", Some(" ")), "RTV-NO-SUPPLIER");
        assert_eq!(place(&"X".repeat(39), Some("ACME")).chars().count(), 39);
        assert_eq!(place("RTV-{supplier}", Some(&"S".repeat(60))).chars().count(), LONGEST);
    }

    #[test]
    fn a_destination_that_names_no_place_is_refused_with_its_key() {
        let bad = |f: fn(&mut Disposition)| {
            let mut d = Disposition::default();
            f(&mut d);
            d.check().unwrap_err()
        };
        assert_eq!(bad(|d| d.scrap = " ".into()).0, "scrap");
        assert_eq!(bad(|d| d.accept = "A\tB".into()).0, "accept");
        assert_eq!(bad(|d| d.accept = "A\u{202e}B-STOCK".into()).0, "accept");
        assert_eq!(bad(|d| d.scrap = "SCR\u{200b}AP".into()).0, "scrap");
        assert!(bad(|d| d.return_to_supplier = "RTV-{vendor}".into()).1.contains("only placeholder"));
        assert!(bad(|d| d.refuse = "R".repeat(41)).1.contains("longer than 40"));
        assert!(Disposition::default().check().is_ok());
    }
}
