-- returns-dock schema, version 10: a parcel carries the dock it was received at (the
-- station's configured `dock`, else its host name), so that on a central database a parcel
-- scanned at another dock is a duplicate that says where. Parcels received before are of no
-- named dock (NULL).

ALTER TABLE parcels ADD COLUMN dock TEXT;
