-- A unit carries the destination its outcome sent it to (as the file's schema version 12).
ALTER TABLE units ADD COLUMN destination TEXT;
