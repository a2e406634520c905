-- Units shipped per SKU and day (as the file's schema version 16).
CREATE TABLE shipments (
    sku        TEXT NOT NULL,
    shipped_on TEXT NOT NULL CHECK (shipped_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    qty        BIGINT NOT NULL CHECK (qty >= 0),
    PRIMARY KEY (sku, shipped_on)
);

-- An import may be of shipments.
ALTER TABLE imports DROP CONSTRAINT IF EXISTS imports_kind_check;
ALTER TABLE imports ADD CONSTRAINT imports_kind_check CHECK (kind IN ('returns', 'catalog', 'users', 'shipments'));
