-- The reviews of a parcel: the export and the review screen look them up by parcel, and
-- without this every lookup read the whole table (slow once a year of reviews builds up).
CREATE INDEX reviews_parcel ON reviews (parcel_id, unit_id);
