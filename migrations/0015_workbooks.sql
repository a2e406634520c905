-- returns-dock schema, version 15: an export batch may be a workbook (`export --format xlsx`).
--
-- SQLite cannot change a CHECK constraint in place; widening one changes nothing stored, and
-- SQLite's own documentation gives this way for it: the table's recorded definition is
-- edited, in this migration's transaction, and the schema's version moved on.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, 'CHECK (format IN (''csv'', ''json''))', 'CHECK (format IN (''csv'', ''json'', ''xlsx''))')
 WHERE type = 'table' AND name = 'export_batches';
PRAGMA writable_schema = OFF;
