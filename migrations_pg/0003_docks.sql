-- A parcel carries the dock it was received at (as the file's schema version 10).
ALTER TABLE parcels ADD COLUMN dock TEXT;
