//! The scanning station: its records in the database (`records`), and the screen driven by
//! keys through the real loop (`screen`), and what the floor sees and may press (`floor`).

mod central;
mod engines;
mod evidence;
mod floor;
mod load;
mod model;
#[path = "../support/photos.rs"]
mod photos;
mod pty;
mod records;
mod screen;
mod security;
mod truth;
