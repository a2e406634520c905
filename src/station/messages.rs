//! The messages of the station's state machine: what happened ([`Msg`]: input, or the answer
//! to an effect) and what the loop must do ([`Effect`]).

use super::app::Tone;
use super::keys::Action;
use crate::domain::codes::Reason;
use crate::domain::parcel::{Discrepancy, Placement};
use crate::export::feedback::Feedback;
use crate::store::auth::{PinRefusal, Proven};
use crate::store::review::{Decision, ReviewItem, ReviewRefusal};
use crate::store::station::{
    DockInfo, Inspected, Inspection, NewUnit, ParcelLookup, ParcelView, Product, Refusal, Rest, SignedBox,
    Undone, User,
};

/// What happened: input, or the answer to an effect.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// A whole scan (or a typed code ended with Enter).
    Scan(String),
    Action(Action),
    Char(char),
    Backspace,
    SignedIn {
        id: String,
        user: Option<User>,
        resume: Option<ParcelView>,
        dock: DockInfo,
    },
    Dock(DockInfo),
    Looked {
        scan: String,
        found: ParcelLookup,
        /// The product the scan names, when it matched no parcel: a product's barcode scanned
        /// where the parcel's label was expected.
        product: Option<Product>,
    },
    Opened {
        view: ParcelView,
        resumed: bool,
    },
    OpenRefused(Refusal),
    ProductFound {
        code: String,
        expected_check: Option<u8>,
        unit: NewUnit,
        product: Option<Product>,
    },
    UnitRecorded {
        result: Result<(i64, Placement), Refusal>,
        view: ParcelView,
        serial: Option<String>,
    },
    Inspected {
        result: Result<Inspected, Refusal>,
        unit_id: i64,
        view: ParcelView,
    },
    Undone {
        result: Result<Undone, Refusal>,
        view: ParcelView,
    },
    Signed {
        result: Result<SignedBox, Refusal>,
        parcel: i64,
        dock: DockInfo,
        /// The parcel as it stands, when it was not signed.
        view: Option<ParcelView>,
    },
    ParcelRefused {
        result: Result<(), Refusal>,
        parcel: i64,
        dock: DockInfo,
    },
    /// A database step failed; nothing of it was saved.
    Storage(String),
    Reviews(Vec<ReviewItem>),
    PinChecked(Result<Proven, PinRefusal>),
    Decided {
        id: i64,
        result: Result<(), ReviewRefusal>,
        items: Vec<ReviewItem>,
    },
    Linked {
        id: i64,
        rma: String,
        result: Result<(), ReviewRefusal>,
        items: Vec<ReviewItem>,
    },
    DashboardLoaded {
        today: Box<Feedback>,
        week: Box<Feedback>,
    },
    /// The background export finished (or failed).
    Exported(Result<ExportDone, String>),
    /// The print queue tried a label.
    Printed(crate::labels::queue::PrintNews),
    /// A label was queued again.
    Reprinting(String),
    NoPrinter,
    /// What became of the pictures of the camera's folder; `asked`: by `CMD-PHOTO`. The parcel
    /// as it stands after, when a photo went to it.
    Photos {
        news: Vec<PhotoNews>,
        asked: bool,
        view: Option<ParcelView>,
    },
    /// The photos of a review entry, made small for the screen (or why not).
    PhotosShown(Shown),
    /// A photo handed to the desktop's viewer (or why not).
    PhotoOpened(Result<String, String>),
}

/// A review entry's photos made small for the screen, with what could not be shown; or why
/// none could.
pub type Shown =
    Result<(Vec<(crate::store::photos::PhotoInfo, crate::evidence::preview::Thumb)>, Vec<String>), String>;

/// One picture of the camera's folder, handled.
#[derive(Debug, Clone, PartialEq)]
pub enum PhotoNews {
    Attached {
        name: String,
        done: crate::store::photos::Attached,
    },
    /// Not a picture: it stays in the folder.
    NotAPicture {
        name: String,
        why: crate::evidence::picture::NotAPicture,
    },
    /// Not read, or not saved: it stays in the folder.
    Refused {
        name: String,
        why: String,
    },
    /// It came while no parcel was open: it waits in the folder for `CMD-PHOTO`.
    Waiting {
        name: String,
    },
    /// `CMD-PHOTO` took a handful: this many more are in the folder.
    More {
        n: usize,
    },
    /// The folder itself cannot be read.
    Folder {
        dir: String,
        why: String,
    },
}

/// What a background export did.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportDone {
    Written {
        rows: usize,
        path: String,
    },
    /// Nothing changed since batch `last` (None: there never was one): no file written.
    NothingNew {
        last: Option<i64>,
    },
}

/// What the loop must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// `CMD-PHOTO`: attach everything in the camera's folder now to this.
    TakePhotos(crate::store::photos::Target),
    /// The photos of a review entry: its unit's, or (None) its parcel's.
    ShowPhotos {
        parcel: i64,
        unit: Option<i64>,
    },
    /// A photo to the desktop's viewer.
    OpenPhoto(crate::store::photos::PhotoInfo),
    SignIn(String),
    LookupParcel(String),
    OpenParcel {
        scan: String,
        returns: Vec<i64>,
    },
    ResumeParcel(i64),
    /// A supervisor takes over a parcel open at another station.
    TakeOver(i64),
    FindProduct {
        code: String,
        expected_check: Option<u8>,
        unit: NewUnit,
    },
    RecordUnit {
        parcel: i64,
        unit: NewUnit,
    },
    Inspect {
        parcel: i64,
        unit_id: i64,
        inspection: Inspection,
    },
    Undo(i64),
    Sign {
        parcel: i64,
        confirmed: bool,
        /// The discrepancies the operator was shown.
        shown: Vec<Discrepancy>,
        /// What the units not in the box are: missing (the last box) or awaited.
        rest: Rest,
    },
    RefuseParcel {
        parcel: i64,
        reason: Reason,
    },
    LoadReviews,
    CheckPin(String),
    Decide {
        id: i64,
        decision: Decision,
        comment: Option<String>,
        who: Proven,
    },
    /// Links the unidentified parcel of review `id` to the return `rma`.
    Link {
        id: i64,
        rma: String,
        who: Proven,
    },
    LoadDashboard,
    StartExport,
    /// Print this unit's label again.
    Reprint(i64),
    Bell,
    /// The configured sound of a band's tone (an OK, a warning or an error).
    Sound(Tone),
    Quit,
}
