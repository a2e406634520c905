-- returns-dock schema, version 1. Append-only: never edit a migration that has shipped;
-- add the next numbered file instead. Times are RFC 3339 text with their UTC offset.
-- Money is integer cents. Every table is STRICT.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Products and every barcode that identifies them. Codes are stored as 14-digit GTINs when
-- they are GTINs, otherwise in upper case as printed.
CREATE TABLE products (
    sku              TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    serialised       INTEGER NOT NULL DEFAULT 0 CHECK (serialised IN (0, 1)),
    supplier         TEXT,
    unit_value_cents INTEGER CHECK (unit_value_cents >= 0),
    updated_at       TEXT NOT NULL
) STRICT;

CREATE TABLE product_barcodes (
    code TEXT PRIMARY KEY,
    sku  TEXT NOT NULL REFERENCES products (sku) ON UPDATE CASCADE ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX product_barcodes_sku ON product_barcodes (sku);

CREATE TABLE users (
    id         TEXT PRIMARY KEY COLLATE NOCASE,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('operator', 'supervisor')),
    pin_hash   TEXT,              -- argon2id PHC string; never the PIN itself
    active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

-- One row per file loaded; returns point at the import that last wrote them.
CREATE TABLE imports (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('returns', 'catalog', 'users')),
    file        TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    created     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    refused     INTEGER NOT NULL DEFAULT 0,
    conflicts   INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Expected returns (RMAs) as after-sales authorised them. A number is looked up as given
-- and under its key (upper case, letters and digits only); the *_key columns hold the key
-- only where it differs from the number, so the usual numbers cost one index, not two.
CREATE TABLE returns (
    id           INTEGER PRIMARY KEY,
    rma_no       TEXT NOT NULL UNIQUE,
    rma_key      TEXT,
    order_no     TEXT NOT NULL,
    order_key    TEXT,
    tracking_no  TEXT,
    tracking_key TEXT,
    carrier      TEXT,
    customer     TEXT,
    phone        TEXT,
    reason       TEXT,
    resolution   TEXT NOT NULL DEFAULT 'refund' CHECK (resolution IN ('refund', 'exchange', 'repair')),
    requested_at TEXT,
    content_hash INTEGER NOT NULL,
    import_id    INTEGER,   -- the last import that contained it (imports.id)
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;
CREATE INDEX returns_rma_key ON returns (rma_key) WHERE rma_key IS NOT NULL;
CREATE INDEX returns_order_no ON returns (order_no);
CREATE INDEX returns_order_key ON returns (order_key) WHERE order_key IS NOT NULL;
CREATE INDEX returns_tracking_no ON returns (tracking_no) WHERE tracking_no IS NOT NULL;
CREATE INDEX returns_tracking_key ON returns (tracking_key) WHERE tracking_key IS NOT NULL;

-- A line is named by its return and its number.
CREATE TABLE return_lines (
    return_id        INTEGER NOT NULL REFERENCES returns (id) ON DELETE CASCADE,
    line_no          INTEGER NOT NULL,
    sku              TEXT NOT NULL,
    barcode          TEXT,
    title            TEXT,
    qty              INTEGER NOT NULL CHECK (qty > 0),
    serials          TEXT,          -- expected serial numbers, separated by ';'
    unit_value_cents INTEGER CHECK (unit_value_cents >= 0),
    PRIMARY KEY (return_id, line_no)
) STRICT, WITHOUT ROWID;

-- The append-only record of everything that matters: signatures, reviews, imports, undo.
-- Its id orders events, which is how exports know what is new since the last batch.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    station TEXT,
    actor   TEXT,
    action  TEXT NOT NULL,
    subject TEXT,
    detail  TEXT
) STRICT;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- A user signed in at a station.
CREATE TABLE shifts (
    id         INTEGER PRIMARY KEY,
    station    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    started_at TEXT NOT NULL,
    ended_at   TEXT
) STRICT;

-- A physical box received at the dock.
CREATE TABLE parcels (
    id              INTEGER PRIMARY KEY,
    scan            TEXT NOT NULL,
    tracking_no     TEXT,
    tracking_key    TEXT,
    carrier         TEXT,
    state           TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'signed', 'refused')),
    unidentified    INTEGER NOT NULL DEFAULT 0 CHECK (unidentified IN (0, 1)),
    has_discrepancy INTEGER NOT NULL DEFAULT 0 CHECK (has_discrepancy IN (0, 1)),
    station         TEXT NOT NULL,
    operator        TEXT NOT NULL REFERENCES users (id),
    received_at     TEXT NOT NULL,
    closed_at       TEXT,
    closed_by       TEXT REFERENCES users (id),
    closed_audit_id INTEGER REFERENCES audit_log (id),
    refuse_reason   TEXT,
    note            TEXT
) STRICT;
CREATE INDEX parcels_tracking_key ON parcels (tracking_key) WHERE tracking_key IS NOT NULL;
CREATE INDEX parcels_open ON parcels (station) WHERE state = 'open';
CREATE INDEX parcels_closed_audit ON parcels (closed_audit_id) WHERE closed_audit_id IS NOT NULL;

-- Which expected returns a parcel carries (a box can hold several RMAs).
CREATE TABLE parcel_returns (
    parcel_id INTEGER NOT NULL REFERENCES parcels (id),
    return_id INTEGER NOT NULL REFERENCES returns (id),
    linked_at TEXT NOT NULL,
    linked_by TEXT NOT NULL,
    PRIMARY KEY (parcel_id, return_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX parcel_returns_return ON parcel_returns (return_id);

-- One physical unit taken out of a parcel, and its inspection.
CREATE TABLE units (
    id               INTEGER PRIMARY KEY,
    parcel_id        INTEGER NOT NULL REFERENCES parcels (id),
    seq              INTEGER NOT NULL,
    return_id        INTEGER REFERENCES returns (id),   -- with line_no: the expected line it matched
    line_no          INTEGER,
    scan             TEXT NOT NULL,
    sku              TEXT,
    gtin             TEXT,
    serial           TEXT,
    lot              TEXT,
    expiry           TEXT,
    discrepancy      TEXT CHECK (discrepancy IN ('wrong_item', 'unexpected', 'qty_over', 'serial_mismatch')),
    outcome          TEXT CHECK (outcome IN ('accept', 'second_hand', 'scrap', 'return_to_supplier', 'refuse')),
    grade            TEXT CHECK (grade IN ('A', 'B', 'C')),
    reason           TEXT,
    cause            TEXT,
    note             TEXT,
    unit_value_cents INTEGER CHECK (unit_value_cents >= 0),
    station          TEXT NOT NULL,
    operator         TEXT NOT NULL REFERENCES users (id),
    scanned_at       TEXT NOT NULL,
    inspected_at     TEXT,
    UNIQUE (parcel_id, seq),
    FOREIGN KEY (return_id, line_no) REFERENCES return_lines (return_id, line_no)
) STRICT;
CREATE INDEX units_return_line ON units (return_id, line_no) WHERE return_id IS NOT NULL;

-- Discrepancies as they stood when the parcel was signed or refused, with who acknowledged.
CREATE TABLE discrepancies (
    id              INTEGER PRIMARY KEY,
    parcel_id       INTEGER NOT NULL REFERENCES parcels (id),
    kind            TEXT NOT NULL CHECK (kind IN ('missing', 'wrong_item', 'unexpected', 'qty_over', 'serial_mismatch', 'uninspected')),
    return_id       INTEGER REFERENCES returns (id),
    line_no         INTEGER,
    unit_id         INTEGER REFERENCES units (id),
    qty             INTEGER NOT NULL DEFAULT 1 CHECK (qty > 0),
    acknowledged_by TEXT REFERENCES users (id),
    acknowledged_at TEXT,
    FOREIGN KEY (return_id, line_no) REFERENCES return_lines (return_id, line_no)
) STRICT;
CREATE INDEX discrepancies_parcel ON discrepancies (parcel_id);

-- The supervisor's queue: refusals, flagged parcels, unidentified parcels.
CREATE TABLE reviews (
    id               INTEGER PRIMARY KEY,
    parcel_id        INTEGER NOT NULL REFERENCES parcels (id),
    unit_id          INTEGER REFERENCES units (id),
    kind             TEXT NOT NULL CHECK (kind IN ('refused_unit', 'refused_parcel', 'discrepancy', 'unidentified')),
    mandatory        INTEGER NOT NULL DEFAULT 0 CHECK (mandatory IN (0, 1)),
    created_at       TEXT NOT NULL,
    decision         TEXT CHECK (decision IN ('confirmed', 'overturned')),
    decided_by       TEXT REFERENCES users (id),
    decided_at       TEXT,
    decided_audit_id INTEGER REFERENCES audit_log (id),
    comment          TEXT,
    new_outcome      TEXT CHECK (new_outcome IN ('accept', 'second_hand', 'scrap', 'return_to_supplier', 'refuse')),
    new_grade        TEXT CHECK (new_grade IN ('A', 'B', 'C'))
) STRICT;
CREATE INDEX reviews_open ON reviews (created_at) WHERE decision IS NULL;

-- Each export to after-sales: which span of the audit log it covered, so it can be re-issued.
CREATE TABLE export_batches (
    id            INTEGER PRIMARY KEY,
    created_at    TEXT NOT NULL,
    created_by    TEXT,
    format        TEXT NOT NULL CHECK (format IN ('csv', 'json')),
    path          TEXT,
    all_rows      INTEGER NOT NULL DEFAULT 0 CHECK (all_rows IN (0, 1)),
    from_audit_id INTEGER NOT NULL,
    to_audit_id   INTEGER NOT NULL,
    rows          INTEGER NOT NULL
) STRICT;
