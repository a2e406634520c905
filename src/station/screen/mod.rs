//! One module per screen of the station, each with what its keys and scans do, the keys it
//! takes now (which the footer and the help show) and how it is drawn.

pub mod dashboard;
pub mod dock;
pub mod parcel;
pub mod parcel_answers;
pub mod parcel_view;
pub mod photo;
pub mod pin;
pub mod review;
pub mod sign_in;
