-- returns-dock schema, version 13: photos, the evidence a refusal is disputed with.
--
-- `pictures`: each picture once, under the SHA-256 of its bytes. On a dock's file the bytes
-- are a file of that name in the folder beside the database (`<database>-photos/`); on the
-- central database they are in the row.
CREATE TABLE pictures (
    sha256     TEXT PRIMARY KEY CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
    kind       TEXT NOT NULL CHECK (kind IN ('jpeg', 'png')),
    bytes      INTEGER NOT NULL CHECK (bytes > 0),
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    stored_at  TEXT NOT NULL
);

-- `photos`: a picture attached to a unit (or, with no unit, to the parcel), by whom, where
-- and when, under the name the camera gave the file. The same picture is attached to the
-- same unit once. A photo's state is in the audit log like a unit's.
CREATE TABLE photos (
    id          INTEGER PRIMARY KEY,
    sha256      TEXT NOT NULL REFERENCES pictures (sha256),
    parcel_id   INTEGER NOT NULL REFERENCES parcels (id),
    unit_id     INTEGER REFERENCES units (id),
    file_name   TEXT NOT NULL,
    station     TEXT,
    operator    TEXT NOT NULL,
    attached_at TEXT NOT NULL
);
CREATE UNIQUE INDEX photos_once ON photos (sha256, parcel_id, coalesce(unit_id, 0));
CREATE INDEX photos_of_unit ON photos (unit_id);
CREATE INDEX photos_of_parcel ON photos (parcel_id);
