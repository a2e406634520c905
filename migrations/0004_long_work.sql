-- Long work in progress (imports, exports), so that a writer kept waiting can say who holds
-- the database. A row is inserted when the work starts and deleted when it ends, each in a
-- short transaction; a row whose process is gone (killed) is stale and ignored.
CREATE TABLE running_work (
    id         INTEGER PRIMARY KEY,
    what       TEXT NOT NULL,
    file       TEXT,
    pid        INTEGER NOT NULL,
    host       TEXT NOT NULL,
    started_at TEXT NOT NULL
) STRICT;

-- An import now writes in short transactions as it goes, so its row in `imports` is written
-- when it starts (finished_at NULL) and completed at the end. Which process runs it tells an
-- import still running from one that was interrupted; resumed_by names the later run that
-- found it unfinished and completed the work.
ALTER TABLE imports ADD COLUMN pid INTEGER;
ALTER TABLE imports ADD COLUMN host TEXT;
ALTER TABLE imports ADD COLUMN resumed_by INTEGER;
