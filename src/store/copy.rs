//! Moving a dock: `returns-dock db copy --from FILE.db --to postgresql://…` copies a dock's
//! whole history from its SQLite file into a central database, ids and the audit chain as
//! they are, in one transaction, and checks the counts after.
//!
//! Only a central database that holds no records yet is copied into. A dock's ids are kept as
//! they are because they are printed on its units' labels and named in its log's chain; a
//! second dock's ids would clash with the first's. The other docks start their stations on the
//! central database, and their files keep the history they had.

use super::sql::{args, in_tx, Cell, Mode, Pg, Sql, SqlExt};
use super::{DbResult, Store, StoreError};

/// The tables copied, in an order where what a row refers to is there before it. Running work
/// is not history and is not copied.
const TABLES: &[&str] = &[
    "meta",
    "products",
    "product_barcodes",
    "users",
    "imports",
    "returns",
    "return_lines",
    "audit_log",
    "shifts",
    "parcels",
    "parcel_returns",
    "units",
    "discrepancies",
    "reviews",
    "export_batches",
    "unit_steps",
    "return_receipts",
    "export_due",
    "pictures",
    "photos",
    "shipments",
    "manifests",
    "manifest_units",
];

/// Tables whose ids the central database hands out itself from now on.
const WITH_IDS: &[&str] = &[
    "imports",
    "returns",
    "audit_log",
    "shifts",
    "parcels",
    "units",
    "discrepancies",
    "reviews",
    "export_batches",
    "unit_steps",
    "export_due",
    "photos",
    "manifests",
];

/// What was copied: each table with its count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub tables: Vec<(String, u64)>,
}

impl Copied {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.1).sum()
    }
}

/// Refuses `to` when it holds records already (naming the dock there when it can).
fn refusal(from: &Store, to: &dyn Sql, shown_to: &str) -> Result<(), StoreError> {
    let err = |e| super::classify_db(shown_to, e);
    let held: i64 = to
        .one(
            "SELECT (SELECT count(*) FROM parcels) + (SELECT count(*) FROM returns) + (SELECT count(*) FROM audit_log)",
            args![],
        )
        .map_err(err)?;
    if held == 0 {
        return Ok(());
    }
    let there = super::docks(to).map_err(err)?;
    let here = from.docks().map_err(|e| from.err(e))?;
    let detail = match here.iter().find(|d| there.contains(d)) {
        Some(same) => format!("it already holds the records of dock {same}: was this file copied before?"),
        None => format!(
            "it already holds records{}; a dock's history is copied only into an empty central \
             database, since its unit ids (on its labels) would clash with those there: start this \
             dock's stations on the central database and keep this file for its history",
            if there.is_empty() { String::new() } else { format!(" (of dock {})", there.join(", ")) }
        ),
    };
    Err(StoreError::Refused { path: shown_to.to_string(), detail })
}

/// Copies everything from the dock file `from` into the central database `to`.
pub fn copy(from: &Store, to: &Pg, shown_to: &str) -> Result<Copied, StoreError> {
    let err = |e| super::classify_db(shown_to, e);
    let src = from.conn();
    // The file is read in one snapshot, so what is copied is one moment of the dock.
    let source_err = |e| from.err(e);
    src.batch("BEGIN DEFERRED").map_err(source_err)?;
    // Checked under the appenders' lock, held to the end: a copy run at the same time into the
    // same database waits, then finds this one's records and is refused.
    let mut refused = None;
    let result = in_tx(to, Mode::Write, |tx| {
        tx.exec("SELECT pg_advisory_xact_lock(?1)", args![super::chain::AUDIT_LOG_LOCK])?;
        if let Err(e) = refusal(from, tx, shown_to) {
            refused = Some(e);
            return Err(super::DbError::shape("refused".into()));
        }
        let mut tables = Vec::new();
        for table in TABLES {
            if *table == "export_due" {
                // The central database marked closed parcels due as they were written; the
                // file's own marks (with the batches they went in) are what is copied.
                tx.exec("DELETE FROM export_due", args![])?;
            }
            let columns = columns(src, table)?;
            let n = match *table {
                // A picture's bytes, from its file beside the dock's file into its row.
                "pictures" => copy_pictures(src, to, &columns, from.photo_folder().as_deref())?,
                _ => copy_table(src, to, table, &columns)?,
            };
            tables.push((table.to_string(), n));
        }
        for table in WITH_IDS {
            tx.batch(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
            ))?;
        }
        // A unit taken back by undo keeps its id in its steps: the next unit comes after those.
        tx.batch(
            "SELECT setval(pg_get_serial_sequence('units', 'id'),
                 greatest((SELECT coalesce(max(id), 0) FROM units), (SELECT coalesce(max(unit_id), 0) FROM unit_steps)) + 1, false)",
        )?;
        // Counts after, on the central side, inside the same transaction.
        for (table, n) in &tables {
            let there: i64 = tx.one(&format!("SELECT count(*) FROM {table}"), args![])?;
            if there as u64 != *n {
                return Err(super::DbError::shape(format!("{table}: {n} rows copied but {there} there")));
            }
        }
        Ok(Copied { tables })
    });
    let _ = src.batch("COMMIT");
    if let Some(refused) = refused {
        return Err(refused);
    }
    let copied = result.map_err(err)?;
    // Tables filled by COPY have neither statistics nor a map of their visible pages until
    // autovacuum gets to them (while the stations work): the planner would guess, and a guess
    // can walk a whole index for one row. The stations that start on the copy find them ready.
    to.batch("VACUUM (ANALYZE)").map_err(err)?;
    Ok(copied)
}

/// A table's columns in the file, in order.
fn columns(src: &dyn Sql, table: &str) -> DbResult<Vec<String>> {
    src.map(&format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"), args![], |r| r.get(0))
}

fn copy_table(src: &dyn Sql, to: &Pg, table: &str, columns: &[String]) -> DbResult<u64> {
    let select = format!("SELECT {} FROM {table} ORDER BY 1", columns.join(", "));
    to.copy_in(table, columns, &mut |put| {
        src.each(&select, args![], &mut |row| {
            let cells: Vec<Cell> = (0..columns.len()).map(|i| row.get::<Cell>(i)).collect::<DbResult<_>>()?;
            put(&cells)
        })
    })
}

/// The file's pictures with their bytes, read from the folder beside it (checked against their
/// names: a picture changed or gone stops the copy, naming it).
fn copy_pictures(
    src: &dyn Sql,
    to: &Pg,
    columns: &[String],
    folder: Option<&std::path::Path>,
) -> DbResult<u64> {
    let select = format!("SELECT {} FROM pictures ORDER BY 1", columns.join(", "));
    let mut with_data = columns.to_vec();
    with_data.push("data".into());
    let (sha, kind) = (columns.iter().position(|c| c == "sha256"), columns.iter().position(|c| c == "kind"));
    let (Some(sha), Some(kind)) = (sha, kind) else {
        return Err(super::DbError::shape("pictures: no sha256 or kind column".into()));
    };
    to.copy_in("pictures", &with_data, &mut |put| {
        src.each(&select, args![], &mut |row| {
            let mut cells: Vec<Cell> =
                (0..columns.len()).map(|i| row.get::<Cell>(i)).collect::<DbResult<_>>()?;
            let name: String = row.get(sha)?;
            let k: String = row.get(kind)?;
            let k = crate::evidence::picture::Kind::from_code(&k)
                .ok_or_else(|| super::DbError::shape(format!("picture {name}: kind {k}")))?;
            let bytes = super::photos::bytes_of(src, folder, &name, k)?;
            if crate::evidence::picture::sha256_hex(&bytes) != name {
                return Err(super::DbError::File(format!(
                    "picture {name}: its file is not the picture it names"
                )));
            }
            cells.push(Cell::Bytes(bytes));
            put(&cells)
        })
    })
}
