-- Records that prove themselves.
--
-- 1. Every audit entry carries `hash`: the SHA-256 of its content and of the entry before it.
--    An entry edited, removed or slipped in behind the program breaks the chain, and
--    `returns-dock audit verify` names the first entry that does not fit. The entries already
--    in the log are sealed in order when this migration runs (by the program, not in SQL), and
--    every unit already recorded gets one entry with its state as it stands, so that from now
--    on each unit's current state is what its last entry says.
-- 2. PIN failures in a row and the lock they led to are kept with the user, so that a lock
--    holds at every station and on the command line.
ALTER TABLE audit_log ADD COLUMN hash TEXT;
DROP TRIGGER audit_log_no_update;
CREATE INDEX audit_log_subject ON audit_log (subject, id) WHERE subject IS NOT NULL;
ALTER TABLE users ADD COLUMN pin_failures INTEGER NOT NULL DEFAULT 0 CHECK (pin_failures >= 0);
ALTER TABLE users ADD COLUMN locked_until TEXT;
