//! Evidence for after-sales: the photos taken at the bench and the bundle a dispute is
//! fought with.
//!
//! - [`picture`]: what a photo is (a whole JPEG or PNG) and its SHA-256;
//! - [`inbox`]: the camera's folder, watched by the station.
//! - [`preview`]: a photo drawn in the terminal;
//! - [`bundle`]: the evidence of one return, zipped for a marketplace.

pub mod bundle;
pub mod inbox;
pub mod picture;
pub mod preview;
