-- The central database's own mark and schema version. A database that has tables but not
-- this one is somebody else's, and is left untouched.
CREATE TABLE returns_dock_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO returns_dock_meta (key, value) VALUES ('made_by', 'returns-dock');
