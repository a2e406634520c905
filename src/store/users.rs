//! Operators and supervisors.

use super::timestamp;
use crate::domain::codes::{Coded, Role};
use chrono::{DateTime, FixedOffset};
use rusqlite::{params, Connection, OptionalExtension};

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
pub fn user_id_of(conn: &Connection, text: &str) -> rusqlite::Result<String> {
    let t = text.trim();
    let bare = without_badge_prefix(t);
    let known: Option<String> = conn
        .prepare_cached("SELECT id FROM users WHERE id = ?1 OR id = ?2 ORDER BY id = ?1 DESC LIMIT 1")?
        .query_row([t, bare], |r| r.get(0))
        .optional()?;
    Ok(known.unwrap_or_else(|| bare.to_string()))
}

/// A known user's role and whether they are active.
pub fn role_and_active(conn: &Connection, id: &str) -> rusqlite::Result<Option<(Role, bool)>> {
    Ok(conn
        .prepare_cached("SELECT role, active FROM users WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?)))
        .optional()?
        .map(|(role, active)| (Role::parse(&role).unwrap_or(Role::Operator), active)))
}

/// How many active supervisors there are besides `id`.
pub fn other_active_supervisors(conn: &Connection, id: &str) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT count(*) FROM users WHERE role = ?1 AND active AND id <> ?2")?
        .query_row(params![Role::Supervisor.code(), id], |r| r.get(0))
}

/// The stored PIN hash of a user, to check a PIN against before hashing it anew.
pub fn pin_hash(conn: &Connection, id: &str) -> rusqlite::Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT pin_hash FROM users WHERE id = ?1")?
        .query_row([id], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// What writing `u` would do, found by reading only.
pub fn check_user(conn: &Connection, u: &UserWrite) -> rusqlite::Result<UserWritten> {
    plan(conn, u).map(|(w, _)| w)
}

/// What writing `u` does, and the PIN hash it then stores.
fn plan(conn: &Connection, u: &UserWrite) -> rusqlite::Result<(UserWritten, Option<String>)> {
    let existing: Option<(String, String, Option<String>, bool)> = conn
        .prepare_cached("SELECT name, role, pin_hash, active FROM users WHERE id = ?1")?
        .query_row([&u.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
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

pub fn write_user(
    conn: &Connection,
    u: &UserWrite,
    now: DateTime<FixedOffset>,
) -> rusqlite::Result<UserWritten> {
    let (written, hash) = plan(conn, u)?;
    let now = timestamp(now);
    match written {
        UserWritten::Created => {
            conn.prepare_cached(
                "INSERT INTO users (id, name, role, pin_hash, active, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            )?
            .execute(params![u.id, u.name, u.role.code(), hash, u.active, now])?;
        }
        UserWritten::Updated => {
            conn.prepare_cached(
                "UPDATE users SET name = ?2, role = ?3, pin_hash = ?4, active = ?5, updated_at = ?6
                 WHERE id = ?1",
            )?
            .execute(params![u.id, u.name, u.role.code(), hash, u.active, now])?;
        }
        UserWritten::Unchanged => {}
    }
    Ok(written)
}
