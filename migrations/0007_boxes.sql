-- returns-dock schema, version 7: a return may arrive in several boxes.
--
-- A parcel is one box. `return_receipts` has a row for each return once a box of it was
-- signed or refused: how many boxes came, when the first one arrived, and, once no more are
-- awaited, how and when the return closed:
--   complete   every expected unit arrived;
--   last_box   the operator said at signing that this was the last box: what never came is
--              missing;
--   timed_out  nothing more came for `policy.await_boxes_days`: what never came is missing;
--   refused    a box of it was refused at the dock.
-- While `closed_at` is empty the return's units not yet arrived are awaited, not missing, and
-- a later box of it opens a new parcel instead of being called a duplicate.

CREATE TABLE return_receipts (
    return_id       INTEGER PRIMARY KEY REFERENCES returns(id),
    first_at        TEXT NOT NULL,
    boxes           INTEGER NOT NULL,
    last_parcel_id  INTEGER NOT NULL REFERENCES parcels(id),
    last_at         TEXT NOT NULL,
    closed_how      TEXT CHECK (closed_how IN ('complete', 'last_box', 'timed_out', 'refused')),
    closed_at       TEXT,
    closed_by       TEXT,
    closed_audit_id INTEGER,
    CHECK ((closed_how IS NULL) = (closed_at IS NULL))
);
-- The returns still awaiting boxes, by their last box: what closes by time is a short range.
CREATE INDEX return_receipts_awaiting ON return_receipts (last_at) WHERE closed_at IS NULL;
-- A closure places the return's last box in the export that covers it.
CREATE INDEX return_receipts_closed_audit ON return_receipts (closed_audit_id) WHERE closed_audit_id IS NOT NULL;

-- A product may itself come in several boxes (a trampoline in three): one unit of it is
-- complete when all its boxes have arrived. `units.boxes_in` counts the boxes of the unit
-- that arrived (empty for a product in one box), `units.box_marks` which ones, when their
-- labels number them (`...-2/3`).
ALTER TABLE products ADD COLUMN boxes INTEGER NOT NULL DEFAULT 1 CHECK (boxes BETWEEN 1 AND 20);
ALTER TABLE units ADD COLUMN boxes_in INTEGER CHECK (boxes_in >= 1);
ALTER TABLE units ADD COLUMN box_marks TEXT;

-- Before this version signing a parcel closed its returns, and what was not in it was missing.
INSERT OR IGNORE INTO return_receipts
    (return_id, first_at, boxes, last_parcel_id, last_at, closed_how, closed_at, closed_by, closed_audit_id)
SELECT pr.return_id, p.received_at, 1, p.id, p.closed_at,
       CASE p.state WHEN 'refused' THEN 'refused' ELSE 'last_box' END,
       p.closed_at, p.closed_by, p.closed_audit_id
FROM parcel_returns pr JOIN parcels p ON p.id = pr.parcel_id
WHERE p.state <> 'open' AND p.closed_at IS NOT NULL
ORDER BY pr.return_id, p.id;
