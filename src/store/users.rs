//! Operators and supervisors.

use super::auth::{self, Proven};
use super::imports::Chunks;
use super::sql::{args, in_tx, Mode, Sql, SqlExt};
use super::{timestamp, DbError, DbResult, Store};
use crate::domain::codes::{Coded, Role};
use chrono::{DateTime, FixedOffset};

#[derive(Debug, Clone, PartialEq)]
pub struct UserWrite {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The argon2 PHC string to store, or None to keep the stored one.
    pub pin_hash: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserWritten {
    Created,
    Updated,
    Unchanged,
}

/// `X` of a badge text `OP-X` (in any case), else the text as it is.
pub fn without_badge_prefix(text: &str) -> &str {
    let t = text.trim();
    match t.get(..3) {
        Some(p) if p.eq_ignore_ascii_case("OP-") && t.len() > 3 => &t[3..],
        _ => t,
    }
}

/// The id a user given as `text` is stored under: a known user's id as stored (ids are alike in
/// any case), else the text without a badge's `OP-` (a new user `OP-X` is the user `X`). A user
/// stored with the whole badge text as their id is found by it first.
pub fn user_id_of(store: &Store, text: &str) -> DbResult<String> {
    let t = text.trim();
    let bare = without_badge_prefix(t);
    let db = store.db();
    let known: Option<String> = db.value(
        "SELECT id FROM users WHERE id = ?1 OR id = ?2 ORDER BY id = ?1 DESC LIMIT 1",
        args![t, bare],
    )?;
    Ok(known.unwrap_or_else(|| bare.to_string()))
}

/// A known user's role and whether they are active.
pub fn role_and_active(store: &Store, id: &str) -> DbResult<Option<(Role, bool)>> {
    let db = store.db();
    let found = db
        .row("SELECT role, active FROM users WHERE id = ?1", args![id])?
        .map(|r| Ok::<_, DbError>((r.get::<String>(0)?, r.get::<bool>(1)?)))
        .transpose()?;
    Ok(found.map(|(role, active)| (Role::parse(&role).unwrap_or(Role::Operator), active)))
}

/// How many active supervisors there are besides `id`.
pub fn other_active_supervisors(store: &Store, id: &str) -> DbResult<i64> {
    let db = store.db();
    db.one(
        "SELECT count(*) FROM users WHERE role = ?1 AND active = 1 AND id <> ?2",
        args![Role::Supervisor.code(), id],
    )
}

/// The stored PIN hash of a user, to check a PIN against before hashing it anew.
pub fn pin_hash(store: &Store, id: &str) -> DbResult<Option<String>> {
    let db = store.db();
    Ok(db.value::<Option<String>>("SELECT pin_hash FROM users WHERE id = ?1", args![id])?.flatten())
}

/// What writing `u` would do, found by reading only.
pub fn check_user(store: &Store, u: &UserWrite) -> DbResult<UserWritten> {
    Ok(plan(store.db(), u)?.0)
}

/// What writing `u` does, and the PIN hash it then stores.
fn plan(db: &dyn Sql, u: &UserWrite) -> DbResult<(UserWritten, Option<String>)> {
    let existing = db
        .row("SELECT name, role, pin_hash, active FROM users WHERE id = ?1", args![u.id])?
        .map(|r| {
            Ok::<_, DbError>((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<Option<String>>(2)?,
                r.get::<bool>(3)?,
            ))
        })
        .transpose()?;
    Ok(match existing {
        None => (UserWritten::Created, u.pin_hash.clone()),
        Some((name, role, hash, active)) => {
            let new_hash = u.pin_hash.clone().or(hash.clone());
            if name == u.name && role == u.role.code() && hash == new_hash && active == u.active {
                (UserWritten::Unchanged, new_hash)
            } else {
                (UserWritten::Updated, new_hash)
            }
        }
    })
}

fn write_user(db: &dyn Sql, u: &UserWrite, now: DateTime<FixedOffset>) -> DbResult<UserWritten> {
    let (written, hash) = plan(db, u)?;
    let now = timestamp(now);
    match written {
        UserWritten::Created => {
            db.exec(
                "INSERT INTO users (id, name, role, pin_hash, active, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                args![u.id, u.name, u.role.code(), hash, u.active, now],
            )?;
        }
        UserWritten::Updated => {
            db.exec(
                "UPDATE users SET name = ?2, role = ?3, pin_hash = ?4, active = ?5, updated_at = ?6
                 WHERE id = ?1",
                args![u.id, u.name, u.role.code(), hash, u.active, now],
            )?;
        }
        UserWritten::Unchanged => {}
    }
    Ok(written)
}

/// Writes `u` in one transaction of the chunks of an import, with its audit entry, on behalf
/// of `by` (see [`write_as`]); None, writing nothing, when `by` is no longer an active supervisor.
pub fn write_in_chunk(
    chunks: &Chunks<'_>,
    u: &UserWrite,
    by: Option<&Proven>,
    now: DateTime<FixedOffset>,
) -> DbResult<Option<UserWritten>> {
    chunks.begin()?;
    let written = write_as(chunks.db(), u, by, now, true)?;
    chunks.commit()?;
    Ok(written)
}

/// Writes the one user `u` (`users add`) in a transaction of its own, with its audit entry, on
/// behalf of `by` (see [`write_as`]); None, writing nothing, when `by` is no longer an active
/// supervisor. A dry run writes and rolls the write back, so it answers what writing would do.
pub fn write_one(
    store: &mut Store,
    u: &UserWrite,
    by: Option<&Proven>,
    now: DateTime<FixedOffset>,
    dry_run: bool,
) -> DbResult<Option<UserWritten>> {
    in_tx(store.db(), Mode::Write, |tx| {
        // Kept only when written for real; a dry run (or a refusal) is rolled back to here.
        tx.batch("SAVEPOINT user_write")?;
        let written = write_as(tx, u, by, now, !dry_run)?;
        tx.batch(if written.is_some() && !dry_run {
            "RELEASE user_write"
        } else {
            "ROLLBACK TO user_write; RELEASE user_write"
        })?;
        Ok(written)
    })
}

/// Writes `u` in the open transaction on behalf of `by`, the supervisor proven by PIN (none only
/// while the database has no supervisor), and when `log`, its audit entry. `by`'s authority is
/// read again in this same transaction: a role or active flag taken away since the PIN was
/// checked (by another supervisor) writes nothing and answers None.
fn write_as(
    db: &dyn Sql,
    u: &UserWrite,
    by: Option<&Proven>,
    now: DateTime<FixedOffset>,
    log: bool,
) -> DbResult<Option<UserWritten>> {
    if let Some(by) = by {
        if !auth::still_supervisor(db, by)? {
            return Ok(None);
        }
    }
    let written = write_user(db, u, now)?;
    if log {
        log_change(db, u, &written, by, now)?;
    }
    Ok(Some(written))
}

/// The audit entry of a user written: who did it, and what the user now is.
fn log_change(
    db: &dyn Sql,
    u: &UserWrite,
    w: &UserWritten,
    by: Option<&Proven>,
    now: DateTime<FixedOffset>,
) -> DbResult<()> {
    let what = match w {
        UserWritten::Unchanged => return Ok(()),
        UserWritten::Created => "created",
        UserWritten::Updated => "updated",
    };
    let pin = if u.pin_hash.is_some() { ", new PIN" } else { "" };
    let active = if u.active { "" } else { ", inactive" };
    let detail = format!("{what}: {}{pin}{active}", u.role.code());
    if u.role == Role::Supervisor {
        auth::mark_supervised(db)?;
    }
    super::audit(db, now, None, by.map(Proven::id), "user", Some(&u.id), Some(&detail))?;
    Ok(())
}
