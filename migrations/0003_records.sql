-- returns-dock schema, version 3: records that order by instant and keep their history.
--
-- 1. Every time the dock writes is an instant in UTC, `YYYY-MM-DDTHH:MM:SS.SSSZ`, so that text
--    order is time order whatever the offset of the station that wrote it (a station run with
--    TZ=Asia/Shanghai and one with TZ=UTC wrote `+08:00` and `+00:00` before, which sorted
--    wrongly and doubled shift counts). Existing times are converted; a value SQLite cannot
--    read as a time is kept as it was. The audit log keeps its entries as written (it is
--    append-only, ordered by id) and new entries are UTC too. `returns.requested_at` is the
--    source file's value and is converted as well, for the same ordering.
-- 2. Grades belong to accept (A) and second-hand (B, C) only.
-- 3. Each unit's steps are kept: scanned, given an outcome, corrected, overturned by a
--    supervisor, taken back. `units` holds the current state; `unit_steps` the history,
--    append-only. Undo takes back the latest step that is not taken back yet.
-- 4. Indexes for the station's shift figures, so that signing does not count the whole
--    history.

UPDATE parcels SET received_at = coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', received_at), received_at),
                   closed_at = coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', closed_at), closed_at);
UPDATE units SET scanned_at = coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', scanned_at), scanned_at),
                 inspected_at = coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', inspected_at), inspected_at);
UPDATE shifts SET started_at = coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', started_at), started_at),
                  ended_at = coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', ended_at), ended_at);
UPDATE reviews SET created_at = coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', created_at), created_at),
                   decided_at = coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', decided_at), decided_at);
UPDATE discrepancies SET acknowledged_at = coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', acknowledged_at), acknowledged_at);
UPDATE parcel_returns SET linked_at = coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', linked_at), linked_at);
UPDATE export_batches SET created_at = coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', created_at), created_at);
UPDATE users SET created_at = coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', created_at), created_at),
                 updated_at = coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', updated_at), updated_at);
UPDATE products SET updated_at = coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', updated_at), updated_at);
UPDATE returns SET requested_at = coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', requested_at), requested_at),
                   created_at = coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', created_at), created_at),
                   updated_at = coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', updated_at), updated_at);
UPDATE imports SET started_at = coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', started_at), started_at),
                   finished_at = coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', finished_at), finished_at);

-- The history of every unit. No foreign key to `units`: a unit taken back by undo is deleted
-- from `units`, and its steps stay as the evidence that it was scanned and taken back.
CREATE TABLE unit_steps (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    parcel_id INTEGER NOT NULL REFERENCES parcels (id),
    unit_id   INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('scan', 'inspect', 'correct', 'overturn', 'undo')),
    -- The outcome this step gave the unit (inspect, correct, overturn), or after undo the
    -- outcome the unit went back to (NULL: none).
    outcome   TEXT CHECK (outcome IN ('accept', 'second_hand', 'scrap', 'return_to_supplier', 'refuse')),
    grade     TEXT CHECK (grade IN ('A', 'B', 'C')),
    reason    TEXT,
    cause     TEXT,
    note      TEXT,
    undoes    INTEGER REFERENCES unit_steps (id),
    review_id INTEGER REFERENCES reviews (id),
    station   TEXT,
    actor     TEXT NOT NULL,
    at        TEXT NOT NULL
) STRICT;
CREATE INDEX unit_steps_parcel ON unit_steps (parcel_id, id);
CREATE INDEX unit_steps_unit ON unit_steps (unit_id, id);
CREATE UNIQUE INDEX unit_steps_undone ON unit_steps (undoes) WHERE undoes IS NOT NULL;
CREATE TRIGGER unit_steps_no_update BEFORE UPDATE ON unit_steps
BEGIN
    SELECT RAISE(ABORT, 'unit_steps is append-only');
END;
CREATE TRIGGER unit_steps_no_delete BEFORE DELETE ON unit_steps
BEGIN
    SELECT RAISE(ABORT, 'unit_steps is append-only');
END;

-- An overturn decided before this version changed only the review; the unit now carries the
-- decided outcome, and the history keeps the operator's.
INSERT INTO unit_steps (parcel_id, unit_id, seq, kind, station, actor, at)
    SELECT parcel_id, id, seq, 'scan', station, operator, scanned_at FROM units ORDER BY scanned_at, parcel_id, seq;
INSERT INTO unit_steps (parcel_id, unit_id, seq, kind, outcome, grade, reason, cause, note, station, actor, at)
    SELECT parcel_id, id, seq, 'inspect', outcome,
           CASE WHEN outcome IN ('accept', 'second_hand') THEN grade END, reason, cause, note, station, operator, inspected_at
    FROM units WHERE outcome IS NOT NULL ORDER BY inspected_at, parcel_id, seq;
INSERT INTO unit_steps (parcel_id, unit_id, seq, kind, outcome, grade, reason, cause, note, review_id, station, actor, at)
    SELECT u.parcel_id, u.id, u.seq, 'overturn', v.new_outcome,
           CASE WHEN v.new_outcome IN ('accept', 'second_hand') THEN v.new_grade END,
           CASE WHEN v.new_outcome <> 'accept' THEN u.reason END, u.cause, u.note, v.id, NULL, v.decided_by, v.decided_at
    FROM reviews v JOIN units u ON u.id = v.unit_id
    WHERE v.decision = 'overturned' AND v.new_outcome IS NOT NULL ORDER BY v.decided_at, v.id;
UPDATE units SET
    outcome = (SELECT v.new_outcome FROM reviews v WHERE v.unit_id = units.id AND v.decision = 'overturned'
               AND v.new_outcome IS NOT NULL ORDER BY v.id DESC LIMIT 1),
    grade = (SELECT v.new_grade FROM reviews v WHERE v.unit_id = units.id AND v.decision = 'overturned'
             AND v.new_outcome IS NOT NULL ORDER BY v.id DESC LIMIT 1),
    reason = CASE WHEN (SELECT v.new_outcome FROM reviews v WHERE v.unit_id = units.id AND v.decision = 'overturned'
                        AND v.new_outcome IS NOT NULL ORDER BY v.id DESC LIMIT 1) = 'accept' THEN NULL ELSE reason END
    WHERE id IN (SELECT unit_id FROM reviews WHERE decision = 'overturned' AND new_outcome IS NOT NULL);

UPDATE units SET grade = NULL WHERE outcome IS NULL OR outcome NOT IN ('accept', 'second_hand');
UPDATE reviews SET new_grade = NULL WHERE new_outcome IS NULL OR new_outcome NOT IN ('accept', 'second_hand');
CREATE TRIGGER units_grade_insert BEFORE INSERT ON units
    WHEN NEW.grade IS NOT NULL AND (NEW.outcome IS NULL OR NEW.outcome NOT IN ('accept', 'second_hand'))
BEGIN
    SELECT RAISE(ABORT, 'a grade belongs to accept or second-hand only');
END;
CREATE TRIGGER units_grade_update BEFORE UPDATE OF grade, outcome ON units
    WHEN NEW.grade IS NOT NULL AND (NEW.outcome IS NULL OR NEW.outcome NOT IN ('accept', 'second_hand'))
BEGIN
    SELECT RAISE(ABORT, 'a grade belongs to accept or second-hand only');
END;

-- The shift's figures (parcels closed and units inspected at a station since a time) and the
-- dock's (unidentified parcels) from indexes.
CREATE INDEX units_station_inspected ON units (station, inspected_at) WHERE inspected_at IS NOT NULL;
CREATE INDEX parcels_station_closed ON parcels (station, closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX parcels_unidentified ON parcels (id) WHERE unidentified = 1;
CREATE INDEX parcels_station ON parcels (station, id);
CREATE INDEX shifts_station_open ON shifts (station, id) WHERE ended_at IS NULL;
