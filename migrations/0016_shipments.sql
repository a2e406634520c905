-- returns-dock schema, version 16: units shipped per SKU and day (`import shipments`), what a
-- product's return rate is set against.
CREATE TABLE shipments (
    sku        TEXT NOT NULL,
    shipped_on TEXT NOT NULL CHECK (shipped_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    qty        INTEGER NOT NULL CHECK (qty >= 0),
    PRIMARY KEY (sku, shipped_on)
) STRICT;

-- An import may be of shipments: the imports table's CHECK widened as version 15 widened the
-- export batches' (the recorded definition edited, the schema version moved on after).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, 'CHECK (kind IN (''returns'', ''catalog'', ''users''))', 'CHECK (kind IN (''returns'', ''catalog'', ''users'', ''shipments''))')
 WHERE type = 'table' AND name = 'imports';
PRAGMA writable_schema = OFF;
