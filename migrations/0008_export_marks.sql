-- returns-dock schema, version 8: an export takes what is marked due, not a span of the log.
--
-- Until now a batch covered a span of audit ids, which is only sound while ids are handed out
-- in commit order (one writer at a time). Now every change that puts a parcel into the next
-- export leaves a row in `export_due`, in the same transaction as the change (the triggers
-- below, so no writer can forget it), and an export marks the rows it took with its batch in
-- the transaction that records the batch. A change committed after the export's snapshot is
-- not marked, so the next export takes it, whatever order transactions commit in.
--
-- What makes a parcel due: it was signed or refused; a review of it was decided; a return
-- whose last box it is closed; the policy refused one of its units (boxes that never came).

CREATE TABLE export_due (
    id        INTEGER PRIMARY KEY,
    parcel_id INTEGER NOT NULL REFERENCES parcels (id),
    batch_id  INTEGER REFERENCES export_batches (id)
) STRICT;
CREATE INDEX export_due_waiting ON export_due (id) WHERE batch_id IS NULL;
CREATE INDEX export_due_batch ON export_due (batch_id) WHERE batch_id IS NOT NULL;

-- A batch made with `--all` took every parcel closed at its snapshot: made again, it takes
-- those closed up to the end of its span of the log (nothing is marked for it, so recording it
-- holds the write lock no longer for a large dock).

CREATE TRIGGER export_due_parcel_closed AFTER UPDATE OF closed_audit_id ON parcels
WHEN NEW.closed_audit_id IS NOT NULL AND NEW.closed_audit_id IS NOT OLD.closed_audit_id
BEGIN
    INSERT INTO export_due (parcel_id) VALUES (NEW.id);
END;

-- A parcel written closed (copied from another database, say) is due as well.
CREATE TRIGGER export_due_parcel_closed_new AFTER INSERT ON parcels
WHEN NEW.closed_audit_id IS NOT NULL
BEGIN
    INSERT INTO export_due (parcel_id) VALUES (NEW.id);
END;

CREATE TRIGGER export_due_review_decided AFTER UPDATE OF decided_audit_id ON reviews
WHEN NEW.decided_audit_id IS NOT NULL AND NEW.decided_audit_id IS NOT OLD.decided_audit_id
BEGIN
    INSERT INTO export_due (parcel_id) VALUES (NEW.parcel_id);
END;

CREATE TRIGGER export_due_return_closed AFTER UPDATE OF closed_audit_id ON return_receipts
WHEN NEW.closed_audit_id IS NOT NULL AND NEW.closed_audit_id IS NOT OLD.closed_audit_id
BEGIN
    INSERT INTO export_due (parcel_id) VALUES (NEW.last_parcel_id);
END;

CREATE TRIGGER export_due_return_closed_new AFTER INSERT ON return_receipts
WHEN NEW.closed_audit_id IS NOT NULL
BEGIN
    INSERT INTO export_due (parcel_id) VALUES (NEW.last_parcel_id);
END;

CREATE TRIGGER export_due_policy_unit AFTER INSERT ON audit_log
WHEN NEW.action = 'unit' AND NEW.actor = 'policy'
BEGIN
    INSERT INTO export_due (parcel_id)
    SELECT parcel_id FROM units WHERE id = CAST(substr(NEW.subject, 2) AS INTEGER);
END;
