//! Who may decide. A supervisor proves who they are with their PIN; every wrong PIN is counted
//! with the user, so after too many in a row that supervisor is locked for a while at every
//! station and on the command line at once. Each failure, each lock and each success is in the
//! audit log with the station and the time.
//!
//! The slow hash is computed with no write lock held: the attempt is counted first (in a short
//! transaction, as if it were wrong), then the PIN is checked, then the count is cleared when
//! it was right. Guessing in parallel gains nothing, and a crash in between counts as a failure.

use super::sql::{args, in_tx, Mode, Sql, SqlExt};
use super::{audit, timestamp, DbResult, Store};
use crate::domain::codes::{Coded, Role};
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, FixedOffset};

/// How many wrong PINs in a row lock a supervisor, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinRules {
    pub attempts: u32,
    pub lock_minutes: u32,
}

impl Default for PinRules {
    fn default() -> Self {
        PinRules { attempts: 5, lock_minutes: 15 }
    }
}

/// A supervisor who has just given their right PIN. Only [`check_pin`] makes one, so a
/// decision that takes one cannot be made on a typed id or a badge alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proven {
    id: String,
}

impl Proven {
    pub fn id(&self) -> &str {
        &self.id
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinRefusal {
    #[error("{0} is not an active supervisor")]
    NotSupervisor(String),
    #[error("wrong PIN for {id} ({left} more wrong and {id} is locked)")]
    Wrong { id: String, left: u32 },
    /// Locked until this time (in the offset of the check's clock), `HH:MM` when shown.
    #[error("{id} is locked after too many wrong PINs, until {}", until.format("%H:%M"))]
    Locked { id: String, until: DateTime<FixedOffset> },
}

/// The argon2id cost of a new PIN hash: about 60 ms a try on the station's kind of machine, so
/// that a stolen copy of the database does not give up a 4-digit PIN in seconds.
const MEMORY_KIB: u32 = 32 * 1024;
const PASSES: u32 = 3;

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, 1, None).expect("fixed argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// An argon2id hash of `pin` with a random salt, as a PHC string.
pub fn hash_pin(pin: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher().hash_password(pin.as_bytes(), &salt).map(|h| h.to_string()).unwrap_or_default()
}

/// True when `pin` is the one `hash` was made from (at the hash's own cost).
pub fn verify_pin(hash: &str, pin: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(pin.as_bytes(), &h).is_ok())
}

/// True when `hash` was made at less than today's cost: it is made again at the next right PIN.
fn weaker_than_now(hash: &str) -> bool {
    let Ok(h) = PasswordHash::new(hash) else { return false };
    let num = |k: &str| h.params.get_decimal(k).unwrap_or(0);
    h.algorithm.as_str() != "argon2id" || num("m") < MEMORY_KIB || num("t") < PASSES
}

/// A user's row as the PIN check reads it.
struct PinState {
    id: String,
    supervisor: bool,
    active: bool,
    hash: Option<String>,
    failures: u32,
    locked: Option<String>,
}

/// What the first step of a check found: a refusal already, or the attempt counted and what
/// the PIN is checked against.
struct Counted {
    id: String,
    hash: String,
    failures: u32,
    until: DateTime<FixedOffset>,
    locks: bool,
}

/// Checks `pin` for supervisor `user` at `station`, counting a failure and locking as the
/// rules say. The answer is the proof a decision needs, or why not.
pub fn check_pin(
    db: &dyn Sql,
    user: &str,
    pin: &str,
    station: Option<&str>,
    now: DateTime<FixedOffset>,
    rules: &PinRules,
) -> DbResult<Result<Proven, PinRefusal>> {
    // 1. Count the attempt as a failure before the slow check (a refusal is committed too).
    let counted = in_tx(db, Mode::Write, |tx| {
        let found: Option<PinState> = tx
            .row(
                "SELECT id, role, active, pin_hash, pin_failures, locked_until FROM users WHERE id = ?1",
                args![user],
            )?
            .map(|r| {
                Ok::<_, super::DbError>(PinState {
                    id: r.get(0)?,
                    supervisor: Role::parse(&r.get::<String>(1)?) == Some(Role::Supervisor),
                    active: r.get(2)?,
                    hash: r.get(3)?,
                    failures: r.get(4)?,
                    locked: r.get(5)?,
                })
            })
            .transpose()?;
        let Some(PinState { id, hash: Some(hash), failures, locked, .. }) =
            found.filter(|f| f.active && f.supervisor && f.hash.is_some())
        else {
            // Recorded too: someone tried a PIN for an id that cannot decide.
            let shown = crate::domain::text::in_file(user);
            audit(tx, now, station, None, "pin_refused", Some(&shown), Some("not an active supervisor"))?;
            return Ok(Err(PinRefusal::NotSupervisor(user.to_string())));
        };
        let locked_until = locked.as_deref().and_then(|t| DateTime::parse_from_rfc3339(t).ok());
        if let Some(until) = locked_until.filter(|u| *u > now) {
            let until = until.with_timezone(now.offset());
            audit(
                tx,
                now,
                station,
                Some(&id),
                "pin_refused",
                Some(&id),
                Some(&format!("locked until {}", timestamp(until))),
            )?;
            return Ok(Err(PinRefusal::Locked { id, until }));
        }
        // A lock that ran out starts a new count.
        let failures = if locked_until.is_some() { 1 } else { failures + 1 };
        let until = now + chrono::Duration::minutes(i64::from(rules.lock_minutes));
        let locks = failures >= rules.attempts;
        tx.exec(
            "UPDATE users SET pin_failures = ?2, locked_until = ?3 WHERE id = ?1",
            args![id, failures, locks.then(|| timestamp(until))],
        )?;
        Ok(Ok(Counted { id, hash, failures, until, locks }))
    })?;
    let Counted { id, hash, failures, until, locks } = match counted {
        Ok(c) => c,
        Err(refusal) => return Ok(Err(refusal)),
    };

    // 2. The slow part, with no lock held.
    let right = verify_pin(&hash, pin);
    let rehash = (right && weaker_than_now(&hash)).then(|| hash_pin(pin));

    // 3. Clear the count, or record the failure and the lock.
    in_tx(db, Mode::Write, |tx| {
        if right {
            tx.exec(
                "UPDATE users SET pin_failures = 0, locked_until = NULL, pin_hash = coalesce(?2, pin_hash) WHERE id = ?1",
                args![id, rehash],
            )?;
            audit(tx, now, station, Some(&id), "pin_ok", Some(&id), None)?;
            return Ok(());
        }
        audit(
            tx,
            now,
            station,
            Some(&id),
            "pin_failed",
            Some(&id),
            Some(&format!("{failures} of {} in a row", rules.attempts)),
        )?;
        if locks {
            audit(
                tx,
                now,
                station,
                Some(&id),
                "pin_locked",
                Some(&id),
                Some(&format!("until {}", timestamp(until))),
            )?;
        }
        Ok(())
    })?;
    Ok(if right {
        Ok(Proven { id })
    } else if locks {
        Err(PinRefusal::Locked { id, until })
    } else {
        Err(PinRefusal::Wrong { id, left: rules.attempts - failures })
    })
}

/// True once the database has had a supervisor: from then on only a supervisor may add users
/// or change a role or PIN. Taking every supervisor's role away later does not open it again.
pub fn has_supervisor(store: &Store) -> DbResult<bool> {
    let db = store.db();
    db.one(
        "SELECT EXISTS (SELECT 1 FROM users WHERE role = ?1) OR EXISTS (SELECT 1 FROM meta WHERE key = ?2)",
        args![Role::Supervisor.code(), GUARDED],
    )
}

/// The mark, in `meta`, that the database has had a supervisor.
const GUARDED: &str = "users_need_a_supervisor";

/// Marks the database as having had a supervisor (called as one is written).
pub fn mark_supervised(db: &dyn Sql) -> DbResult<()> {
    db.exec("INSERT INTO meta (key, value) VALUES (?1, '1') ON CONFLICT DO NOTHING", args![GUARDED])
        .map(|_| ())
}

/// Checks, inside a decision's transaction, that the proven supervisor is still an active
/// supervisor (a role can be taken away between the PIN and the decision).
pub fn still_supervisor(db: &dyn Sql, who: &Proven) -> DbResult<bool> {
    db.one(
        "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1 AND role = ?2 AND active <> 0)",
        args![who.id, Role::Supervisor.code()],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(hash: &str) -> crate::store::Store {
        let store = crate::store::Store::open_in_memory().unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO users (id, name, role, pin_hash, active, created_at, updated_at)
                 VALUES ('S1', 'Sam', 'supervisor', ?1, 1, 'x', 'x')",
                [hash],
            )
            .unwrap();
        store
    }

    #[test]
    fn a_new_hash_costs_what_a_guess_must_cost() {
        let hash = hash_pin("2468");
        let h = PasswordHash::new(&hash).unwrap();
        assert_eq!(h.algorithm.as_str(), "argon2id");
        assert!(
            h.params.get_decimal("m").unwrap() >= MEMORY_KIB && h.params.get_decimal("t").unwrap() >= PASSES
        );
        assert!(verify_pin(&hash, "2468") && !verify_pin(&hash, "2469"));
    }

    #[test]
    fn a_hash_made_cheaper_is_made_again_at_the_next_right_pin() {
        let salt = SaltString::generate(&mut OsRng);
        let cheap = Argon2::default().hash_password(b"2468", &salt).unwrap().to_string();
        let mut store = store_with(&cheap);
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T09:00:00+08:00").unwrap();
        let rules = PinRules::default();
        assert!(check_pin(store.conn_mut(), "S1", "2468", None, now, &rules).unwrap().is_ok());
        let stored: String =
            store.conn().query_row("SELECT pin_hash FROM users WHERE id = 'S1'", [], |r| r.get(0)).unwrap();
        assert_ne!(stored, cheap);
        assert!(!weaker_than_now(&stored) && verify_pin(&stored, "2468"));
    }

    #[test]
    fn a_lock_runs_out_and_starts_a_new_count() {
        let mut store = store_with(&hash_pin("2468"));
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T09:00:00+08:00").unwrap();
        let rules = PinRules { attempts: 2, lock_minutes: 15 };
        let mut check = |pin: &str, minutes: i64| {
            check_pin(
                store.conn_mut(),
                "S1",
                pin,
                Some("ST01"),
                at + chrono::Duration::minutes(minutes),
                &rules,
            )
            .unwrap()
        };
        assert!(matches!(check("1111", 0), Err(PinRefusal::Wrong { left: 1, .. })));
        let Err(PinRefusal::Locked { until, .. }) = check("1111", 0) else { panic!("locked") };
        assert_eq!(until.format("%H:%M").to_string(), "09:15");
        assert!(matches!(check("2468", 14), Err(PinRefusal::Locked { .. })), "the right PIN waits too");
        assert!(matches!(check("1111", 16), Err(PinRefusal::Wrong { left: 1, .. })), "a new count");
        assert!(check("2468", 16).is_ok());
        assert!(matches!(check("1111", 16), Err(PinRefusal::Wrong { left: 1, .. })), "a right PIN clears it");
    }
}
