//! The ids the dock prints and reads back: a parcel `P12`, a unit `U00000004` (as on its
//! label), a review `R3`, an export batch `b0007` (as in its file's name). Each is shown one
//! way and read in that form or as its bare number, in any letter case, so that what a screen,
//! a label or a file printed can be typed back anywhere.

use std::fmt;
use std::str::FromStr;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $width:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{:0width$}", $prefix, self.0, width = $width)
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, String> {
                let t = text.trim();
                let digits = t
                    .strip_prefix($prefix)
                    .or_else(|| t.strip_prefix(&$prefix.to_ascii_lowercase()))
                    .or_else(|| t.strip_prefix(&$prefix.to_ascii_uppercase()))
                    .unwrap_or(t);
                digits
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0 && digits.bytes().all(|b| b.is_ascii_digit()))
                    .map($name)
                    .ok_or_else(|| format!("{text} is not {}", $what))
            }
        }
    };
}

id!(
    /// A parcel (one box at the dock).
    ParcelId, "P", 0, "a parcel id (P and digits, as the station prints it)"
);
id!(
    /// A unit, as on its label.
    UnitId, "U", 8, "a unit id (U and digits, as on its label)"
);
id!(
    /// An entry of the supervisor's review queue.
    ReviewId, "R", 0, "a review id (R and digits, as `review list` prints it)"
);
id!(
    /// An export batch, as in its file's name.
    BatchId, "b", 4, "a batch (its number, or b and digits as in the file's name)"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_id_is_shown_one_way_and_read_back_as_printed_or_bare() {
        assert_eq!(UnitId(4).to_string(), "U00000004");
        assert_eq!(ParcelId(12).to_string(), "P12");
        assert_eq!(ReviewId(3).to_string(), "R3");
        assert_eq!(BatchId(7).to_string(), "b0007");
        for text in ["U00000004", "u00000004", "4", " U4 "] {
            assert_eq!(text.parse::<UnitId>(), Ok(UnitId(4)), "{text}");
        }
        for text in ["b0007", "B0007", "7"] {
            assert_eq!(text.parse::<BatchId>(), Ok(BatchId(7)), "{text}");
        }
        assert_eq!("p12".parse::<ParcelId>(), Ok(ParcelId(12)));
        assert_eq!("R3".parse::<ReviewId>(), Ok(ReviewId(3)));
        for bad in ["", "U", "U-4", "0", "R0", "P+3", "U4x", "X4", "R 3"] {
            let e = bad.parse::<UnitId>().err().or(bad.parse::<ReviewId>().err());
            assert!(e.is_some(), "{bad:?} read as an id");
        }
        assert_eq!(
            "U4x".parse::<UnitId>().unwrap_err(),
            "U4x is not a unit id (U and digits, as on its label)"
        );
    }
}
