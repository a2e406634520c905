//! What leaves the dock in a manifest: the return-to-supplier units not yet shipped (a box per
//! supplier) and the scrapped units not yet written off (finance's list), and the batches that
//! close them.
//!
//! A unit counts by its outcome as it stands now (a supervisor's overturn moves it in or out),
//! once its parcel is signed or refused; a unit of a parcel still open at a station is not on
//! the bench's paper yet. A unit whose parcel has an undecided review, or that still awaits some
//! of its boxes, is listed but held: a close leaves it for a later batch. A unit in a batch is
//! never listed again, by either list: the box left with it.
//!
//! A close reads the list and records the batch in one write transaction, so what it prints is
//! what it recorded. Each unit is in at most one batch (the primary key of `manifest_units`)
//! and each kind's numbers are unique: of two closes at once (two terminals, or two docks on a
//! central database), one records its batch and the other, refused by a key, reads the list
//! again and closes what is left (usually nothing).

use super::chain::{self, By};
use super::sql::{args, in_tx, is_constraint, Mode, Sql, SqlExt};
use super::{timestamp, DbError, DbResult, Store};
use crate::domain::disposition::NO_SUPPLIER;
use chrono::{DateTime, FixedOffset};

/// Which manifest: the units going back to their suppliers, or the units written off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Rtv,
    Scrap,
}

impl Kind {
    /// As stored (`manifests.kind`) and in JSON.
    pub fn code(self) -> &'static str {
        match self {
            Kind::Rtv => "rtv",
            Kind::Scrap => "scrap",
        }
    }

    /// The unit outcome this manifest lists.
    fn outcome(self) -> &'static str {
        match self {
            Kind::Rtv => "return_to_supplier",
            Kind::Scrap => "scrap",
        }
    }
}

/// Why a listed unit is not closed yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Its parcel has a review the supervisor has not decided.
    ReviewPending,
    /// It still awaits some of its product's boxes.
    BoxesAwaited,
}

impl Hold {
    pub fn code(self) -> &'static str {
        match self {
            Hold::ReviewPending => "review_pending",
            Hold::BoxesAwaited => "boxes_awaited",
        }
    }
}

/// One unit of a manifest, as read (text from outside as stored: the report cleans it).
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub unit_id: i64,
    pub parcel_id: i64,
    pub sku: Option<String>,
    /// The catalog's name of the product, else its return line's title.
    pub name: Option<String>,
    pub serial: Option<String>,
    pub rma_no: Option<String>,
    pub reason: Option<String>,
    /// Its return line's value, else the catalog's (as `review list` gives it).
    pub value_cents: Option<i64>,
    pub destination: Option<String>,
    /// The catalog's supplier of the product, `NO-SUPPLIER` when it names none.
    pub supplier: String,
    pub hold: Option<Hold>,
    /// The batch it was closed in by this close (None: listed only).
    pub batch: Option<i64>,
}

/// What a report takes: which units, of which supplier and dock.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Only this supplier's units (as the catalog names it, case aside; `NO-SUPPLIER` for
    /// products it names none for).
    pub supplier: Option<String>,
    /// Only the units of parcels received at this dock.
    pub dock: Option<String>,
}

impl Filter {
    fn takes(&self, u: &Listed) -> bool {
        self.supplier.as_deref().is_none_or(|s| same_supplier(s, &u.supplier))
    }
}

/// Suppliers are named as the catalog writes them; a command line may differ in case and blanks.
pub fn same_supplier(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// A batch recorded by a close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    /// Its number among the batches of its kind (`RTV batch 3`).
    pub number: i64,
    pub units: usize,
    pub value_cents: i64,
}

/// What a close did: the list as it read it (the units it closed carry the batch), and the
/// batch (None: nothing could be closed, nothing was recorded).
#[derive(Debug, Clone, PartialEq)]
pub struct Closed {
    pub listed: Vec<Listed>,
    pub batch: Option<Batch>,
}

/// Why a close recorded nothing.
#[derive(Debug)]
pub enum CloseFailed {
    Db(DbError),
    /// What had to be done before the commit (writing the manifest's file) failed.
    Before(std::io::Error),
}

impl From<DbError> for CloseFailed {
    fn from(e: DbError) -> Self {
        CloseFailed::Db(e)
    }
}

/// The units of `kind` not yet in a batch, of parcels signed or refused, that `filter` takes:
/// by supplier (in byte order, as both engines give it), then SKU, then unit.
fn listed(db: &dyn Sql, kind: Kind, filter: &Filter) -> DbResult<Vec<Listed>> {
    let mut out = db.map(
        "SELECT u.id, u.parcel_id, u.sku, coalesce(k.name, l.title), u.serial,
                coalesce(r.rma_no, (SELECT min(r2.rma_no) FROM parcel_returns pr JOIN returns r2 ON r2.id = pr.return_id
                                    WHERE pr.parcel_id = u.parcel_id HAVING count(*) = 1)),
                u.reason, coalesce(u.unit_value_cents, l.unit_value_cents, k.unit_value_cents), u.destination,
                k.supplier,
                CASE WHEN EXISTS (SELECT 1 FROM reviews v WHERE v.parcel_id = u.parcel_id AND v.decision IS NULL)
                     THEN 1 ELSE 0 END,
                CASE WHEN u.boxes_in < k.boxes THEN 1 ELSE 0 END
         FROM units u JOIN parcels p ON p.id = u.parcel_id
         LEFT JOIN products k ON k.sku = u.sku
         LEFT JOIN return_lines l ON l.return_id = u.return_id AND l.line_no = u.line_no
         LEFT JOIN returns r ON r.id = u.return_id
         WHERE u.outcome = ?1 AND p.state IN ('signed', 'refused')
           AND NOT EXISTS (SELECT 1 FROM manifest_units m WHERE m.unit_id = u.id)
           AND (CAST(?2 AS TEXT) IS NULL OR p.dock = ?2)",
        args![kind.outcome(), filter.dock],
        |r| {
            let supplier: Option<String> = r.get(9)?;
            let hold = match (r.get::<i64>(10)?, r.get::<i64>(11)?) {
                (1, _) => Some(Hold::ReviewPending),
                (_, 1) => Some(Hold::BoxesAwaited),
                _ => None,
            };
            Ok(Listed {
                unit_id: r.get(0)?,
                parcel_id: r.get(1)?,
                sku: r.get(2)?,
                name: r.get(3)?,
                serial: r.get(4)?,
                rma_no: r.get(5)?,
                reason: r.get(6)?,
                value_cents: r.get(7)?,
                destination: r.get(8)?,
                supplier: supplier_of(supplier.as_deref()),
                hold,
                batch: None,
            })
        },
    )?;
    out.retain(|u| filter.takes(u));
    out.sort_by(|a, b| (&a.supplier, &a.sku, a.unit_id).cmp(&(&b.supplier, &b.sku, b.unit_id)));
    Ok(out)
}

/// The catalog's supplier as a destination names it: trimmed, `NO-SUPPLIER` for none.
fn supplier_of(catalog: Option<&str>) -> String {
    match catalog.map(str::trim) {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => NO_SUPPLIER.to_string(),
    }
}

/// How many times a close that lost a race to another is made again.
const ATTEMPTS: usize = 5;

impl Store {
    /// The manifest of `kind` as it stands: every unit not yet in a batch, held ones included.
    pub fn manifest(&mut self, kind: Kind, filter: &Filter) -> DbResult<Vec<Listed>> {
        in_tx(self.db(), Mode::Read, |tx| listed(tx, kind, filter))
    }

    /// The suppliers the catalog names (trimmed), in byte order.
    pub fn suppliers(&self) -> DbResult<Vec<String>> {
        let mut all: Vec<String> = self
            .db()
            .map("SELECT DISTINCT supplier FROM products WHERE supplier IS NOT NULL", args![], |r| {
                r.get::<String>(0)
            })?
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        all.sort();
        all.dedup();
        Ok(all)
    }

    /// Closes the manifest of `kind`: in one write transaction, reads the list, records the units
    /// not held as the next batch of that kind and appends the batch and each unit to the audit
    /// log; `before_commit` runs with the list, batch numbers in, before the commit (the
    /// report's file is written there, so no batch is recorded without its file). Nothing to
    /// close records nothing (and does not run `before_commit`). A close that loses a race to
    /// another (a key of `manifests` or `manifest_units`) is made again from a fresh reading.
    pub fn close_manifest(
        &mut self,
        kind: Kind,
        filter: &Filter,
        by: Option<&str>,
        now: DateTime<FixedOffset>,
        before_commit: &mut dyn FnMut(&Closed) -> std::io::Result<()>,
    ) -> Result<Closed, CloseFailed> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut failed: Option<std::io::Error> = None;
            let done = in_tx(self.db(), Mode::Write, |tx| {
                let closed = close_in(tx, kind, filter, by, now)?;
                if closed.batch.is_some() {
                    if let Err(e) = before_commit(&closed) {
                        failed = Some(e);
                        return Err(DbError::shape("the manifest's file could not be written".into()));
                    }
                }
                Ok(closed)
            });
            match done {
                Ok(closed) => return Ok(closed),
                Err(_) if failed.is_some() => return Err(CloseFailed::Before(failed.expect("just seen"))),
                Err(e) if is_constraint(&e) && attempt < ATTEMPTS => continue,
                Err(e) => return Err(CloseFailed::Db(e)),
            }
        }
    }
}

/// [`Store::close_manifest`] inside its transaction.
fn close_in(
    tx: &dyn Sql,
    kind: Kind,
    filter: &Filter,
    by: Option<&str>,
    now: DateTime<FixedOffset>,
) -> DbResult<Closed> {
    let mut listed = listed(tx, kind, filter)?;
    let ready: Vec<usize> = (0..listed.len()).filter(|i| listed[*i].hold.is_none()).collect();
    if ready.is_empty() {
        return Ok(Closed { listed, batch: None });
    }
    let value_cents: i64 = ready.iter().filter_map(|i| listed[*i].value_cents).sum();
    let at = timestamp(now);
    let log = By { at: &at, station: None, actor: by };
    let number: i64 =
        tx.one("SELECT coalesce(max(number), 0) + 1 FROM manifests WHERE kind = ?1", args![kind.code()])?;
    let row = tx
        .row(
            &format!(
                "INSERT INTO manifests (kind, number, created_at, created_by, station, supplier, dock, units, value_cents)
                 VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6, ?7, ?8) {}",
                chain::returning(&chain::MANIFESTS)
            ),
            args![kind.code(), number, at, by, filter.supplier, filter.dock, ready.len(), value_cents],
        )?
        .ok_or_else(|| DbError::shape("no row from the batch's insert".into()))?;
    let id: i64 = row.get(0)?;
    chain::log_written(tx, log, &chain::MANIFESTS, &row, "closed", None)?;
    let insert_unit = format!(
        "INSERT INTO manifest_units (unit_id, manifest_id, supplier, destination, value_cents)
         VALUES (?1, ?2, ?3, ?4, ?5) {}",
        chain::returning(&chain::MANIFEST_UNITS)
    );
    for i in &ready {
        let u = &mut listed[*i];
        let row = tx
            .row(&insert_unit, args![u.unit_id, id, u.supplier, u.destination, u.value_cents])?
            .ok_or_else(|| DbError::shape("no row from a unit's insert".into()))?;
        chain::log_written(tx, log, &chain::MANIFEST_UNITS, &row, kind.code(), None)?;
        u.batch = Some(number);
    }
    Ok(Closed { listed, batch: Some(Batch { number, units: ready.len(), value_cents }) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppliers_are_named_as_destinations_name_them() {
        assert_eq!(supplier_of(Some(" ACME ")), "ACME");
        assert_eq!(supplier_of(Some("  ")), NO_SUPPLIER);
        assert_eq!(supplier_of(None), NO_SUPPLIER);
        assert!(same_supplier("acme", " ACME"));
        assert!(same_supplier("no-supplier", NO_SUPPLIER));
        assert!(!same_supplier("ACME", "ACME2"));
    }

    /// Closing with nothing listed records nothing and does not write the file.
    #[test]
    fn a_close_with_nothing_to_close_records_nothing() {
        let mut store = Store::open_in_memory().unwrap();
        let now = DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap();
        let mut wrote = false;
        let closed = store
            .close_manifest(Kind::Rtv, &Filter::default(), None, now, &mut |_| {
                wrote = true;
                Ok(())
            })
            .map_err(|_| ())
            .unwrap();
        assert_eq!(closed, Closed { listed: vec![], batch: None });
        assert!(!wrote);
        let batches: i64 = store.db().one("SELECT count(*) FROM manifests", args![]).unwrap();
        assert_eq!(batches, 0);
    }
}
