-- returns-dock schema, version 14: what left the dock in a manifest. A return-to-supplier
-- batch (`report rtv --close`) is the box that went to a supplier; a write-off batch
-- (`report scrap --close`) is the list finance wrote off. Each unit is in at most one batch of
-- either kind (the primary key), so two closes at once can never ship one unit twice, and
-- batch numbers are unique for each kind.

CREATE TABLE manifests (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('rtv', 'scrap')),
    number      INTEGER NOT NULL CHECK (number >= 1),
    created_at  TEXT NOT NULL,
    created_by  TEXT,
    station     TEXT,
    -- The --supplier and --dock the batch was limited to (NULL: every one).
    supplier    TEXT,
    dock        TEXT,
    units       INTEGER NOT NULL CHECK (units >= 1),
    value_cents INTEGER NOT NULL CHECK (value_cents >= 0),
    UNIQUE (kind, number)
) STRICT;

-- No reference to `units`: a unit's record is the station's, and nothing here may ever stop a
-- station's step; the audit log carries both tables, so a row added or removed behind the
-- program is found by `audit verify`.
CREATE TABLE manifest_units (
    unit_id     INTEGER PRIMARY KEY,
    manifest_id INTEGER NOT NULL REFERENCES manifests (id),
    supplier    TEXT NOT NULL,
    destination TEXT,
    value_cents INTEGER CHECK (value_cents >= 0)
) STRICT;
CREATE INDEX manifest_units_manifest ON manifest_units (manifest_id);
