-- A unit carries the destination its outcome sent it to (as the file's schema version 12).
ALTER TABLE units ADD COLUMN destination TEXT;
-- And each step of its history the destination it was given (undo gives it back).
ALTER TABLE unit_steps ADD COLUMN destination TEXT;
