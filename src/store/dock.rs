//! The dock's operations, as the station and the commands ask for them. Each one is a whole
//! step: a write opens its own transaction, does the step, reads back what the screen will
//! show in that same transaction and commits, so an answer only ever confirms what is on disk.
//! Nothing outside the store sees a connection, a transaction or SQL: this is the boundary a
//! second engine is added behind.

use super::boxes::Rest;
use super::review::{self as rv, Decision, ReviewItem, ReviewRefusal, Supervisor};
use super::sql::{in_tx, Mode};
use super::station::{self as st, Actor, DockInfo, ParcelLookup, ParcelView, Policy, Product, Refusal, User};
use super::{DbResult, Store};
use crate::domain::codes::Reason;
use crate::domain::parcel::Discrepancy;
use chrono::{DateTime, FixedOffset};

/// What a station is told when someone signs in: who (None for an unknown badge), the parcel
/// they left open at this station, and the dock's figures.
pub struct SignedIn {
    pub user: Option<User>,
    pub resume: Option<ParcelView>,
    pub dock: DockInfo,
}

/// A step's answer with the parcel as it stands after it.
pub type WithView<T> = (Result<T, Refusal>, ParcelView);

impl Store {
    /// The user behind a badge or id, active or not.
    pub fn find_user(&self, id: &str) -> DbResult<Option<User>> {
        st::find_user(self.db(), id)
    }

    /// Signs the user of `badge` in at `station`: starts their shift, closes returns that
    /// awaited boxes too long, and finds the parcel they left open here. An unknown or
    /// inactive badge writes nothing and gets the dock's figures only.
    pub fn sign_in(
        &mut self,
        badge: &str,
        station: &str,
        now: DateTime<FixedOffset>,
        await_boxes_days: u32,
    ) -> DbResult<SignedIn> {
        let user = st::find_user(self.db(), badge)?;
        let actor = Actor {
            station: station.to_string(),
            dock: String::new(),
            user: user.as_ref().map_or(String::new(), |u| u.id.clone()),
            now,
        };
        let active = user.as_ref().is_some_and(|u| u.active);
        let (resume, dock) = st::in_write(self.db(), |tx| {
            let mut resume = None;
            if active {
                st::start_shift_in(tx, &actor)?;
                super::boxes::close_overdue(tx, now, await_boxes_days)?;
                if let Some(p) = st::open_parcel_at(tx, station)? {
                    resume = Some(st::load_parcel(tx, p)?);
                }
            }
            Ok((resume, st::dock_info(tx, station, &now)?))
        })?;
        Ok(SignedIn { user, resume, dock })
    }

    /// What a parcel scan at `station` names: expected returns, a parcel already received, or
    /// nothing known.
    pub fn lookup_parcel(&self, station: &str, scan: &str) -> DbResult<ParcelLookup> {
        st::lookup_parcel(self.db(), station, scan)
    }

    /// The product a scanned code names, with the box number when it is a box label
    /// (`…-2/3`) of a product in several boxes.
    pub fn find_product_box(&self, code: &str) -> DbResult<Option<(Product, Option<i64>)>> {
        st::find_product_box(self.db(), code)
    }

    /// A parcel as the station shows it (one statement, so one snapshot).
    pub fn parcel(&self, id: i64) -> DbResult<ParcelView> {
        st::load_parcel(self.db(), id)
    }

    /// What a unit's label says; None for no such unit.
    pub fn unit_facts(&self, id: i64) -> DbResult<Option<st::UnitFacts>> {
        st::unit_facts(self.db(), id)
    }

    /// Opens a parcel for the scan, matched to `returns` (none: unidentified).
    pub fn open_parcel(
        &mut self,
        actor: &Actor,
        scan: &str,
        returns: &[i64],
    ) -> DbResult<Result<ParcelView, Refusal>> {
        let opened = st::in_write(self.db(), |tx| {
            Ok(match st::open_parcel_in(tx, actor, scan, returns)? {
                Ok(id) => Ok(st::load_parcel(tx, id)?),
                Err(r) => Err(r),
            })
        });
        st::lost_race(self.db(), returns, opened)
    }

    /// Takes over a parcel left open at another station.
    pub fn take_over(&mut self, actor: &Actor, id: i64) -> DbResult<Result<ParcelView, Refusal>> {
        st::in_write(self.db(), |tx| {
            Ok(match st::take_over_in(tx, actor, id)? {
                Ok(()) => Ok(st::load_parcel(tx, id)?),
                Err(r) => Err(r),
            })
        })
    }

    /// Records a unit scanned into `parcel`.
    pub fn record_unit(
        &mut self,
        actor: &Actor,
        parcel: i64,
        unit: &st::NewUnit,
    ) -> DbResult<WithView<(i64, crate::domain::parcel::Placement)>> {
        st::in_write(self.db(), |tx| {
            let result = st::record_unit_in(tx, actor, parcel, unit)?;
            Ok((result, st::load_parcel(tx, parcel)?))
        })
    }

    /// Records a unit's inspection.
    pub fn inspect(
        &mut self,
        actor: &Actor,
        parcel: i64,
        unit: i64,
        inspection: &st::Inspection,
    ) -> DbResult<WithView<st::Inspected>> {
        st::in_write(self.db(), |tx| {
            let result = st::inspect_unit_in(tx, actor, unit, inspection)?;
            Ok((result, st::load_parcel(tx, parcel)?))
        })
    }

    /// Takes back the last step of `parcel`.
    pub fn undo(&mut self, actor: &Actor, parcel: i64) -> DbResult<WithView<st::Undone>> {
        st::in_write(self.db(), |tx| {
            let result = st::undo_last_in(tx, actor, parcel)?;
            Ok((result, st::load_parcel(tx, parcel)?))
        })
    }

    /// Signs `parcel` (its discrepancies confirmed as `shown`), with the dock's figures after;
    /// a refused signature comes with the parcel as it stands.
    #[allow(clippy::too_many_arguments)]
    pub fn sign(
        &mut self,
        actor: &Actor,
        parcel: i64,
        confirmed: bool,
        shown: &[Discrepancy],
        policy: &Policy,
        rest: Rest,
    ) -> DbResult<(Result<st::SignedBox, Refusal>, DockInfo, Option<ParcelView>)> {
        st::in_write(self.db(), |tx| {
            let result = st::sign_parcel_in(tx, actor, parcel, confirmed, Some(shown), policy, rest)?;
            let view = if result.is_err() { Some(st::load_parcel(tx, parcel)?) } else { None };
            Ok((result, st::dock_info(tx, &actor.station, &actor.now)?, view))
        })
    }

    /// Refuses the whole parcel, with the dock's figures after.
    pub fn refuse_parcel(
        &mut self,
        actor: &Actor,
        parcel: i64,
        reason: Reason,
        note: Option<&str>,
    ) -> DbResult<(Result<(), Refusal>, DockInfo)> {
        self.refuse_parcel_with(actor, parcel, reason, note, &Policy::default())
    }

    /// [`Store::refuse_parcel`] under the station's policy (a photo it requires first).
    pub fn refuse_parcel_with(
        &mut self,
        actor: &Actor,
        parcel: i64,
        reason: Reason,
        note: Option<&str>,
        policy: &Policy,
    ) -> DbResult<(Result<(), Refusal>, DockInfo)> {
        st::in_write(self.db(), |tx| {
            let result = st::refuse_parcel_in(tx, actor, parcel, reason, note, policy)?;
            Ok((result, st::dock_info(tx, &actor.station, &actor.now)?))
        })
    }

    /// Closes every return that has awaited boxes longer than `days`, in its own transaction.
    pub fn close_overdue(&mut self, now: DateTime<FixedOffset>, days: u32) -> DbResult<Vec<i64>> {
        super::boxes::close_overdue_now(self.db(), now, days)
    }

    /// Checks a supervisor's PIN, counting failures and locking as `rules` say.
    pub fn check_pin(
        &mut self,
        user: &str,
        pin: &str,
        station: Option<&str>,
        now: DateTime<FixedOffset>,
        rules: &super::auth::PinRules,
    ) -> DbResult<Result<super::auth::Proven, super::auth::PinRefusal>> {
        super::auth::check_pin(self.db(), user, pin, station, now, rules)
    }

    /// The reviews waiting for a supervisor, of the parcels received at `dock` (None: all).
    pub fn open_reviews_at(&self, dock: Option<&str>) -> DbResult<Vec<ReviewItem>> {
        in_tx(self.db(), Mode::Read, |tx| rv::open_reviews_at(tx, dock))
    }

    /// The reviews waiting for a supervisor.
    pub fn open_reviews(&self) -> DbResult<Vec<ReviewItem>> {
        in_tx(self.db(), Mode::Read, rv::open_reviews)
    }

    /// What a review is about, unit by unit.
    pub fn review_details(&self, parcel: i64) -> DbResult<rv::ReviewDetails> {
        in_tx(self.db(), Mode::Read, |tx| rv::review_details(tx, parcel))
    }

    /// A supervisor's decision on review `id`.
    pub fn decide(
        &mut self,
        sup: Supervisor<'_>,
        id: i64,
        decision: &Decision,
        comment: Option<&str>,
        now: DateTime<FixedOffset>,
    ) -> DbResult<Result<(), ReviewRefusal>> {
        rv::decide(self.db(), sup, id, decision, comment, now)
    }

    /// Links the unidentified parcel of review `id` to the return `rma`.
    pub fn link(
        &mut self,
        sup: Supervisor<'_>,
        id: i64,
        rma: &str,
        now: DateTime<FixedOffset>,
    ) -> DbResult<Result<(), ReviewRefusal>> {
        rv::link(self.db(), sup, id, rma, now)
    }

    /// The user id a typed id or scanned badge names (as typed when there is no such user).
    pub fn user_id_of(&self, text: &str) -> DbResult<String> {
        super::users::user_id_of(self, text)
    }

    /// Claims station id `station` for this process; Err names who runs it already.
    pub fn claim_station(&self, station: &str, now: DateTime<FixedOffset>) -> DbResult<Result<i64, String>> {
        super::work::claim_station(self.db(), station, now)
    }

    /// Whether this is a demo's database (made by `returns-dock demo`).
    pub fn is_demo(&self) -> DbResult<bool> {
        super::demo::is_demo(self.db())
    }

    /// A demo's returns still to come, with what to scan (empty outside a demo).
    pub fn demo_waiting(&self, limit: Option<i64>) -> DbResult<Vec<super::demo::WaitingReturn>> {
        super::demo::waiting(self.db(), limit)
    }

    /// Checks the whole audit chain.
    /// Reads the log and the records in one snapshot: a station writing meanwhile adds to
    /// neither half of what is compared, so its work never looks like an edit behind the
    /// program.
    pub fn verify_audit(&self) -> DbResult<super::chain::Verdict> {
        let folder = self.photo_folder();
        in_tx(self.db(), Mode::Read, |tx| {
            let mut v = super::chain::verify(tx)?;
            // Each picture is what its name says: the log names pictures by their SHA-256.
            let (_, mut problems) = super::photos::check_pictures(tx, folder.as_deref())?;
            v.problems.append(&mut problems);
            Ok(v)
        })
    }

    /// Checks the newest `n` entries of the chain; what is wrong, if anything.
    pub fn verify_audit_tail(&self, n: i64) -> DbResult<Option<String>> {
        in_tx(self.db(), Mode::Read, |tx| super::chain::verify_tail(tx, n))
    }

    /// A parcel's or a unit's history, from the audit log.
    pub fn history(&self, record: &super::chain::Record) -> DbResult<Vec<super::chain::Entry>> {
        super::chain::history(self.db(), record)
    }
}
