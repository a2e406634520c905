//! Photos: pictures attached to a unit, or to a parcel, as evidence for after-sales.
//!
//! A picture is kept once under the SHA-256 of its bytes (`pictures`), however often it is
//! attached; an attachment (`photos`) says to what, by whom, where and when, and its state is in
//! the audit log like a unit's. On a dock's file the bytes are a file in the folder beside the
//! database (`<database>-photos/<sha256>.jpg`, private, written whole before the attachment
//! commits); on the central database they are in the picture's row, so every dock and
//! after-sales reach them.

use super::chain;
use super::sql::{args, Cell, Engine, Sql, SqlExt};
use super::station::Actor;
use super::{timestamp, DbError, DbResult};
use crate::evidence::picture::{Kind, Picture};
use std::path::{Path, PathBuf};

/// What a photo is attached to: a unit of a parcel, or the parcel itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Target {
    pub parcel: i64,
    pub unit: Option<i64>,
}

/// What attaching did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    /// The attachment's id (`PH12` in the log).
    pub id: i64,
    /// What it went to: the unit may have been taken back meanwhile, and then it is the
    /// parcel's.
    pub target: Target,
    /// The unit's number in its parcel (as the screen lists it), when it went to a unit.
    pub seq: Option<i64>,
    /// How many photos the unit (or the parcel) has now: this is photo number `count`.
    pub count: i64,
    /// The same picture was attached to it already: nothing new was recorded.
    pub again: bool,
}

/// The folder a dock's file keeps its pictures in: `<database>-photos` beside it.
pub fn folder_of(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-photos");
    PathBuf::from(name)
}

/// The file a picture is kept in, in `folder`.
pub fn file_of(folder: &Path, sha256: &str, kind: Kind) -> PathBuf {
    folder.join(format!("{sha256}.{}", kind.extension()))
}

/// Writes the picture's file into `folder` unless it is there (its name is its content):
/// private, through a temporary name, synced, renamed, the folder synced. Before the
/// attachment commits, so a photo the screen confirms is on disk.
pub fn keep_file(folder: &Path, pic: &Picture, bytes: &[u8]) -> std::io::Result<()> {
    let path = file_of(folder, &pic.sha256, pic.kind);
    // There already, and the picture it names (a file changed behind the program is written
    // again from the picture in hand).
    if std::fs::metadata(&path).is_ok_and(|m| m.len() == pic.bytes)
        && std::fs::read(&path).is_ok_and(|b| crate::evidence::picture::sha256_hex(&b) == pic.sha256)
    {
        return Ok(());
    }
    crate::files::private_folder(folder)?;
    crate::files::write_durably(&path, bytes)
}

/// Attaches picture `pic` (its bytes: `bytes`, already in the folder on a file) to `target`,
/// inside the caller's write transaction: the picture once, the attachment once per target,
/// logged. A unit taken back meanwhile: the photo goes to its parcel.
pub fn attach_in(
    tx: &dyn Sql,
    actor: &Actor,
    target: Target,
    file_name: &str,
    pic: &Picture,
    bytes: &[u8],
) -> DbResult<Attached> {
    let now = timestamp(actor.now);
    let unit: Option<(i64, i64)> = match target.unit {
        Some(u) => tx
            .row("SELECT id, seq FROM units WHERE id = ?1", args![u])?
            .map(|r| Ok::<_, DbError>((r.get(0)?, r.get(1)?)))
            .transpose()?,
        None => None,
    };
    let target = Target { parcel: target.parcel, unit: unit.map(|u| u.0) };
    let seq = unit.map(|u| u.1);
    match tx.engine() {
        Engine::Sqlite => tx.exec(
            "INSERT INTO pictures (sha256, kind, bytes, width, height, stored_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (sha256) DO NOTHING",
            args![pic.sha256, pic.kind.code(), pic.bytes, pic.width, pic.height, now],
        )?,
        Engine::Postgres => tx.exec(
            "INSERT INTO pictures (sha256, kind, bytes, width, height, stored_at, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (sha256) DO NOTHING",
            args![pic.sha256, pic.kind.code(), pic.bytes, pic.width, pic.height, now, Cell::Bytes(bytes.to_vec())],
        )?,
    };
    let count = |tx: &dyn Sql| -> DbResult<i64> {
        tx.one(
            "SELECT count(*) FROM photos WHERE parcel_id = ?1 AND coalesce(unit_id, 0) = coalesce(?2, 0)",
            args![target.parcel, target.unit],
        )
    };
    let before: Option<i64> = tx.value(
        "SELECT id FROM photos WHERE sha256 = ?1 AND parcel_id = ?2 AND coalesce(unit_id, 0) = coalesce(?3, 0)",
        args![pic.sha256, target.parcel, target.unit],
    )?;
    if let Some(id) = before {
        return Ok(Attached { id, target, seq, count: count(tx)?, again: true });
    }
    let station = Some(actor.station.as_str()).filter(|s| !s.is_empty());
    let row = tx
        .row(
            &format!(
                "INSERT INTO photos (sha256, parcel_id, unit_id, file_name, station, operator, attached_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) {}",
                chain::returning(&chain::PHOTOS)
            ),
            args![pic.sha256, target.parcel, target.unit, file_name, station, actor.user, now],
        )?
        .ok_or_else(|| DbError::shape("no row from the photo's insert".into()))?;
    let by = chain::By { at: &now, station, actor: Some(&actor.user) };
    chain::log_written(tx, by, &chain::PHOTOS, &row, "attached", None)?;
    Ok(Attached { id: row.get(0)?, target, seq, count: count(tx)?, again: false })
}

/// Before unit `unit_id` is taken back (its scan undone): its photos stay evidence, of its
/// parcel now, each change logged.
pub fn unit_goes(tx: &dyn Sql, actor: &Actor, unit_id: i64) -> DbResult<()> {
    let now = timestamp(actor.now);
    let station = Some(actor.station.as_str()).filter(|s| !s.is_empty());
    let rows = tx.map(
        &format!("UPDATE photos SET unit_id = NULL WHERE unit_id = ?1 {}", chain::returning(&chain::PHOTOS)),
        args![unit_id],
        |r| Ok(r.clone()),
    )?;
    for row in rows {
        let by = chain::By { at: &now, station, actor: Some(&actor.user) };
        chain::log_written(tx, by, &chain::PHOTOS, &row, "its unit was taken back: the parcel's now", None)?;
    }
    Ok(())
}

/// One photo as after-sales and the supervisor see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PhotoInfo {
    pub id: i64,
    pub sha256: String,
    #[serde(skip)]
    pub kind: Kind,
    pub parcel_id: i64,
    pub unit_id: Option<i64>,
    pub file_name: String,
    pub bytes: i64,
    pub width: i64,
    pub height: i64,
    pub station: Option<String>,
    pub operator: String,
    pub attached_at: String,
}

const INFO: &str =
    "SELECT f.id, f.sha256, p.kind, f.parcel_id, f.unit_id, f.file_name, p.bytes, p.width, p.height,
                           f.station, f.operator, f.attached_at
                    FROM photos f LEFT JOIN pictures p ON p.sha256 = f.sha256";

fn info(r: &super::sql::Row) -> DbResult<PhotoInfo> {
    // A photo whose picture is gone from the database (removed behind the program) is still
    // listed, so that what reads its bytes says so.
    let kind: Option<String> = r.get(2)?;
    Ok(PhotoInfo {
        id: r.get(0)?,
        sha256: r.get(1)?,
        kind: kind.as_deref().and_then(Kind::from_code).unwrap_or(Kind::Jpeg),
        parcel_id: r.get(3)?,
        unit_id: r.get(4)?,
        file_name: r.get(5)?,
        bytes: r.get::<Option<i64>>(6)?.unwrap_or(0),
        width: r.get::<Option<i64>>(7)?.unwrap_or(0),
        height: r.get::<Option<i64>>(8)?.unwrap_or(0),
        station: r.get(9)?,
        operator: r.get(10)?,
        attached_at: r.get(11)?,
    })
}

/// The photos of the parcels `parcels` (their units' and their own), in the order attached.
pub fn of_parcels(db: &dyn Sql, parcels: &[i64]) -> DbResult<Vec<PhotoInfo>> {
    let mut all = Vec::new();
    for p in parcels {
        all.extend(db.map(&format!("{INFO} WHERE f.parcel_id = ?1 ORDER BY f.id"), args![p], info)?);
    }
    // By the box each was taken at: a unit that went home to its first box is found with the
    // photos taken at the later box too, since both boxes are the return's.
    Ok(all)
}

/// The photos of units `units` and of their parcels, in the order attached.
pub fn of_units(db: &dyn Sql, units: &[i64]) -> DbResult<Vec<PhotoInfo>> {
    let mut all = Vec::new();
    for u in units {
        all.extend(db.map(&format!("{INFO} WHERE f.unit_id = ?1 ORDER BY f.id"), args![u], info)?);
    }
    Ok(all)
}

/// A picture's bytes: from its row on the central database, from its file on a dock's.
pub fn bytes_of(db: &dyn Sql, folder: Option<&Path>, sha256: &str, kind: Kind) -> DbResult<Vec<u8>> {
    match db.engine() {
        Engine::Postgres => db
            .value::<Vec<u8>>("SELECT data FROM pictures WHERE sha256 = ?1", args![sha256])?
            .ok_or_else(|| DbError::File(format!("no picture {sha256} in the database"))),
        Engine::Sqlite => {
            let folder =
                folder.ok_or_else(|| DbError::File("a database in memory keeps no pictures".into()))?;
            let path = file_of(folder, sha256, kind);
            std::fs::read(&path).map_err(|e| DbError::File(format!("{}: {e}", path.display())))
        }
    }
}

/// Every picture whose bytes are not what its name says (changed, cut, or gone), for `audit
/// verify`: the log names the picture of each photo, and the name is the bytes' SHA-256.
pub fn check_pictures(db: &dyn Sql, folder: Option<&Path>) -> DbResult<(u64, Vec<String>)> {
    // Every photo's picture is there (its row and its bytes).
    let mut problems: Vec<String> = db.map(
        "SELECT f.id, f.sha256 FROM photos f WHERE NOT EXISTS (SELECT 1 FROM pictures p WHERE p.sha256 = f.sha256)
         ORDER BY f.id",
        args![],
        |r| {
            let (id, sha): (i64, String) = (r.get(0)?, r.get(1)?);
            Ok(format!("photo PH{id}: its picture {sha} is not in the database: removed behind the program"))
        },
    )?;
    let mut n = 0;
    match db.engine() {
        Engine::Postgres => {
            // Hashed where the bytes are.
            db.each(
                "SELECT sha256, bytes, length(data), encode(sha256(data), 'hex') FROM pictures ORDER BY sha256",
                args![],
                &mut |r| {
                    n += 1;
                    let (name, bytes, len, hash): (String, i64, i64, String) =
                        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                    if hash != name || len != bytes {
                        problems.push(format!("picture {name}: its bytes are not the picture it names: changed behind the program"));
                    }
                    Ok(())
                },
            )?;
        }
        Engine::Sqlite => {
            let pictures: Vec<(String, String, i64)> =
                db.map("SELECT sha256, kind, bytes FROM pictures ORDER BY sha256", args![], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
            for (name, kind, bytes) in pictures {
                n += 1;
                let kind = Kind::from_code(&kind).unwrap_or(Kind::Jpeg);
                let Some(folder) = folder else { continue };
                let path = file_of(folder, &name, kind);
                match std::fs::read(&path) {
                    Ok(b) if b.len() as i64 == bytes && crate::evidence::picture::sha256_hex(&b) == name => {}
                    Ok(_) => problems.push(format!(
                        "picture {}: its bytes are not the picture it names: changed behind the program",
                        path.display()
                    )),
                    Err(e) => {
                        problems.push(format!("picture {}: {e}: removed behind the program", path.display()))
                    }
                }
            }
        }
    }
    Ok((n, problems))
}

impl super::Store {
    /// Where a dock's file keeps its pictures; None on the central database (they are in it)
    /// and in memory.
    pub fn photo_folder(&self) -> Option<PathBuf> {
        (!self.is_central() && self.path() != Path::new(":memory:")).then(|| folder_of(self.path()))
    }

    /// Attaches a picture to `target` (see [`attach_in`]), with the parcel as it stands after.
    /// On a file the picture's own file is written, whole and synced, before the attachment
    /// commits.
    pub fn attach_photo(
        &mut self,
        actor: &Actor,
        target: Target,
        file_name: &str,
        pic: &Picture,
        bytes: &[u8],
    ) -> DbResult<(Attached, super::station::ParcelView)> {
        if !self.is_central() {
            let folder = self
                .photo_folder()
                .ok_or_else(|| DbError::File("a database in memory keeps no photos".into()))?;
            keep_file(&folder, pic, bytes)
                .map_err(|e| DbError::File(format!("{}: {e}", folder.display())))?;
        }
        super::station::in_write(self.db(), |tx| {
            let done = attach_in(tx, actor, target, file_name, pic, bytes)?;
            Ok((done, super::station::load_parcel(tx, target.parcel)?))
        })
    }

    /// The photos of parcels `parcels`, in the order attached.
    pub fn photos_of_parcels(&self, parcels: &[i64]) -> DbResult<Vec<PhotoInfo>> {
        of_parcels(self.db(), parcels)
    }

    /// The photos of units `units`, in the order attached.
    pub fn photos_of_units(&self, units: &[i64]) -> DbResult<Vec<PhotoInfo>> {
        of_units(self.db(), units)
    }

    /// A picture's bytes.
    pub fn picture(&self, p: &PhotoInfo) -> DbResult<Vec<u8>> {
        bytes_of(self.db(), self.photo_folder().as_deref(), &p.sha256, p.kind)
    }
}
