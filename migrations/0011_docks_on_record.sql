-- returns-dock schema, version 11: an export batch names the dock whose parcels it took
-- (`export --dock D`; NULL: every dock), and a parcel's dock is part of the state the audit log
-- carries (the program logs every parcel that has one, right after this step).

ALTER TABLE export_batches ADD COLUMN dock TEXT;
