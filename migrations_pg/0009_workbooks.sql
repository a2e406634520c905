-- An export batch may be a workbook (as the file's schema version 15).
ALTER TABLE export_batches DROP CONSTRAINT IF EXISTS export_batches_format_check;
ALTER TABLE export_batches ADD CONSTRAINT export_batches_format_check CHECK (format IN ('csv', 'json', 'xlsx'));
