//! Importing operators and supervisors, and adding one from the command line. A PIN is stored
//! only as a salted argon2id hash.

use super::check;
use super::fields::{users as f, USERS};
use super::source::Source;
use super::{ImportOptions, ImportReport, Pass, Problem};
use crate::domain::codes::Role;
use crate::domain::text::on_screen;
use crate::store::auth::{hash_pin, verify_pin};
use crate::store::users::{
    check_user, other_active_supervisors, pin_hash, role_and_active, user_id_of, write_in_chunk, write_one,
};
use crate::store::{Store, StoreError, UserWrite, UserWritten};
use argon2::password_hash::PasswordHash;
use std::collections::HashMap;

pub fn import(
    store: &mut Store,
    sources: &[Source],
    opts: &ImportOptions,
) -> Result<ImportReport, StoreError> {
    if let Some(refused) = needs_supervisor(store, opts)? {
        let mut report = super::new_report("users", opts);
        let file = sources.first().map(|s| s.display()).unwrap_or_default();
        report.errors.push(Problem::new(&file, None, refused));
        return Ok(report);
    }
    super::run_import(store, sources, opts, "users", |job, report| {
        let (store, source, opts) = (job.store, job.source, job.opts);
        let (table, mut file) = super::open_table(source, USERS, opts, &mut report.errors);
        let display = file.file.clone();
        let Some(table) = table else { return Ok(file) };
        // A new PIN is hashed (slow, on purpose) only when it is written.
        let hashing = matches!(job.pass, Pass::Write(_));
        let mut seen: HashMap<String, u64> = HashMap::new();
        for row in table.rows {
            file.rows += 1;
            let result = row.map_err(|p| (p.line, vec![p.message])).and_then(|row| {
                let line = row.line;
                let u = from_row(store, &row, hashing, opts.by.as_ref()).map_err(|m| (Some(line), m))?;
                if let Some(first) = seen.insert(u.id.to_lowercase(), line) {
                    return Err((
                        Some(line),
                        vec![format!("user {} is listed twice (first on line {first})", on_screen(&u.id))],
                    ));
                }
                Ok(u)
            });
            let written = match (result, &job.pass) {
                (Ok(u), Pass::Check) => Ok(check_user(store, &u)?),
                // One user a transaction: the next user's PIN is hashed with no lock held. The
                // supervisor's authority is checked again with each user written: one taken
                // away meanwhile (by another supervisor) stops the rest.
                (Ok(u), Pass::Write(chunks)) => write_in_chunk(chunks, &u, opts.by.as_ref(), opts.now)?
                    .ok_or_else(|| (seen.get(&u.id.to_lowercase()).copied(), vec![authority_lost(opts)])),
                (Err(e), _) => Err(e),
            };
            match written {
                Ok(UserWritten::Created) => file.created += 1,
                Ok(UserWritten::Updated) => file.updated += 1,
                Ok(UserWritten::Unchanged) => file.unchanged += 1,
                Err((line, msgs)) => {
                    file.refused += 1;
                    file.refused_rows += 1;
                    for m in msgs {
                        report.errors.push(Problem::new(&display, line, m));
                    }
                }
            }
        }
        Ok(file)
    })
}

/// A user as given on the command line (`users add`), checked like a row of a file.
pub fn add(
    store: &mut Store,
    id: &str,
    name: &str,
    role: &str,
    pin: Option<&str>,
    opts: &ImportOptions,
) -> Result<Result<UserWritten, Vec<String>>, StoreError> {
    let mut values = vec![String::new(); USERS.len()];
    values[f::ID] = id.to_string();
    values[f::NAME] = name.to_string();
    values[f::ROLE] = role.to_string();
    values[f::PIN] = pin.unwrap_or("").to_string();
    let row = super::table::Row { line: 0, item: None, values };
    // Checked (and the PIN hashed) before the write lock is asked for.
    let u = match from_row(store, &row, true, opts.by.as_ref()) {
        Ok(u) => u,
        Err(m) => return Ok(Err(m)),
    };
    if let Some(refused) = needs_supervisor(store, opts)? {
        return Ok(Err(vec![refused]));
    }
    let written = write_one(store, &u, opts.by.as_ref(), opts.now, opts.dry_run).map_err(|e| store.err(e))?;
    Ok(written.ok_or_else(|| vec![authority_lost(opts)]))
}

/// Why users may not be changed without a supervisor: once the database has one, only a
/// supervisor (proven by PIN) adds users or changes a role or PIN. The first is how a dock
/// starts.
fn needs_supervisor(store: &Store, opts: &ImportOptions) -> Result<Option<String>, StoreError> {
    if opts.by.is_some() || opts.dry_run {
        return Ok(None);
    }
    let has = crate::store::auth::has_supervisor(store).map_err(|e| store.err(e))?;
    Ok(has.then(|| {
        "changing users needs a supervisor: give --by SUPERVISOR and their PIN (only the first supervisor of a \
         database is added without one)"
            .to_string()
    }))
}

/// Why the supervisor given with `--by` no longer may change users: their role or active flag
/// was taken away since their PIN was checked (the store reads it in the write's own
/// transaction, and writes nothing then).
fn authority_lost(opts: &ImportOptions) -> String {
    let by = opts.by.as_ref().map_or("", |b| b.id());
    format!("{} is no longer an active supervisor: nothing more was changed", on_screen(by))
}

/// The user of a row. `hashing` false (the check pass) stands a placeholder in for a new PIN's
/// hash, which is all a check needs to know.
fn from_row(
    store: &Store,
    row: &super::table::Row,
    hashing: bool,
    by: Option<&crate::store::auth::Proven>,
) -> Result<UserWrite, Vec<String>> {
    let mut errors = Vec::new();
    let id = check::required_identifier("id", row.get(f::ID)).map_err(|e| errors.push(e)).ok();
    // A badge's text names its user: `OP-ZHANG01` in a file is the user ZHANG01.
    let id = match id {
        Some(id) => Some(user_id_of(store, &id).map_err(|e| vec![e.to_string()])?),
        None => None,
    };
    if let Some(id) = &id {
        if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.') {
            errors.push(format!(
                "id \"{}\" must be letters, digits, - _ or . (it is printed on a badge)",
                on_screen(id)
            ));
        }
    }
    let name = check::text("name", row.get(f::NAME))
        .and_then(|n| n.ok_or_else(|| "name is missing".to_string()))
        .map_err(|e| errors.push(e))
        .ok();
    // A role or active flag left out keeps what a known user has (an old file imported again
    // never demotes a supervisor or brings back someone deactivated); a new user is an active
    // operator.
    let known = id.as_deref().map(|id| role_and_active(store, id)).transpose();
    let known = known.map_err(|e| vec![e.to_string()])?.flatten();
    let role = match row.get(f::ROLE) {
        "" => Some(known.map_or(Role::Operator, |k| k.0)),
        r => Role::parse(r).or_else(|| {
            errors.push(format!("role \"{}\" is not operator or supervisor", on_screen(r)));
            None
        }),
    };
    let active = check::yes_no("active", row.get(f::ACTIVE))
        .map_err(|e| errors.push(e))
        .ok()
        .flatten()
        .unwrap_or(known.is_none_or(|k| k.1));
    let pin = row.get(f::PIN);
    let given_hash = row.get(f::PIN_HASH);
    if !pin.is_empty() && !(4..=12).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        errors.push("pin must be 4 to 12 digits".into());
    }
    if !given_hash.is_empty() && PasswordHash::new(given_hash).is_err() {
        errors.push("pin_hash is not an argon2 hash string".into());
    }
    let (Some(id), Some(name), Some(role)) = (id, name, role) else { return Err(errors) };
    if !errors.is_empty() {
        return Err(errors);
    }
    let stored = pin_hash(store, &id).map_err(|e| vec![e.to_string()])?;
    let pin_hash = if !pin.is_empty() {
        // The same PIN again keeps the stored hash, so a re-import changes nothing.
        if stored.as_deref().is_some_and(|h| verify_pin(h, pin)) {
            None
        } else {
            Some(if hashing { hash_pin(pin) } else { "(a new PIN)".to_string() })
        }
    } else if !given_hash.is_empty() {
        Some(given_hash.to_string())
    } else {
        None
    };
    if role == Role::Supervisor && pin_hash.is_none() && stored.is_none() {
        return Err(vec![format!("supervisor {} needs a pin (4 to 12 digits)", on_screen(&id))]);
    }
    // A supervisor stops being one only by another supervisor's hand, and never the last.
    let was_active_supervisor = known.is_some_and(|k| k.0 == Role::Supervisor && k.1);
    if was_active_supervisor && (role != Role::Supervisor || !active) {
        if by.is_some_and(|b| b.id().eq_ignore_ascii_case(&id)) {
            return Err(vec![format!(
                "{} cannot take away their own supervisor role: another supervisor must",
                on_screen(&id)
            )]);
        }
        let others = other_active_supervisors(store, &id).map_err(|e| vec![e.to_string()])?;
        if others == 0 {
            return Err(vec![format!(
                "{} is the last active supervisor: add another supervisor first",
                on_screen(&id)
            )]);
        }
    }
    Ok(UserWrite { id, name, role, pin_hash, active })
}
