-- returns-dock schema, version 9: a return has at most one box open at a time, and the
-- database itself says so.
--
-- Two stations that scan boxes of the same return at the same moment must not both open one:
-- the station checks first, and one writer at a time made that check enough on one file. With
-- several writers at once (a central database) only a constraint decides, so the rule is one:
-- `open_box` is 1 on the links of a parcel still open (set and cleared by the triggers below)
-- and a unique index allows one such link per return. The loser's insert fails and it is told
-- which station has the return.

ALTER TABLE parcel_returns ADD COLUMN open_box INTEGER CHECK (open_box = 1);

-- Links of parcels open now. Should a database hold two open boxes of one return (which the
-- station never let happen), only the newest is marked, so the index can be made.
UPDATE parcel_returns SET open_box = 1
WHERE parcel_id IN (SELECT id FROM parcels WHERE state = 'open')
  AND parcel_id = (SELECT max(pr.parcel_id) FROM parcel_returns pr JOIN parcels p ON p.id = pr.parcel_id
                   WHERE pr.return_id = parcel_returns.return_id AND p.state = 'open');

CREATE UNIQUE INDEX parcel_returns_one_open_box ON parcel_returns (return_id) WHERE open_box = 1;

CREATE TRIGGER parcel_returns_open_box AFTER INSERT ON parcel_returns
WHEN (SELECT state FROM parcels WHERE id = NEW.parcel_id) = 'open'
BEGIN
    UPDATE parcel_returns SET open_box = 1 WHERE parcel_id = NEW.parcel_id AND return_id = NEW.return_id;
END;

CREATE TRIGGER parcels_box_closed AFTER UPDATE OF state ON parcels
WHEN NEW.state <> 'open' AND OLD.state = 'open'
BEGIN
    UPDATE parcel_returns SET open_box = NULL WHERE parcel_id = NEW.id;
END;
