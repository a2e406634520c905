//! Pure types and rules of the returns dock: identifiers and their check digits, the scan
//! grammar, money, and the trade's vocabularies. Nothing here does IO or reads the clock.

pub mod codes;
pub mod disposition;
pub mod gs1;
pub mod gtin;
pub mod ids;
pub mod money;
pub mod parcel;
pub mod scan;
pub mod text;
pub mod tracking;
