-- returns-dock schema, version 12: a unit carries the destination its outcome sent it to (the
-- `[disposition]` table of the station that gave the outcome, its supplier put in), as the
-- band said and the label printed; NULL while it has no outcome.

ALTER TABLE units ADD COLUMN destination TEXT;

-- Each step of a unit's history keeps the destination its outcome was given, so that undo
-- gives back the very destination (not the one today's table would give).
ALTER TABLE unit_steps ADD COLUMN destination TEXT;
