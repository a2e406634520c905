-- An export batch names the dock whose parcels it took (as the file's schema version 11); a
-- parcel's dock is part of the state the audit log carries (logged by the program right after).
ALTER TABLE export_batches ADD COLUMN dock TEXT;
