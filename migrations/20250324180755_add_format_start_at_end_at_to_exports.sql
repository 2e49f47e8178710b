-- version: 20250324180755
-- name: add_format_start_at_end_at_to_exports
-- kind: schema
-- release: 0.25.4
-- transaction: true
-- changes-data: false
ALTER TABLE exports ADD file_format integer DEFAULT 0;
ALTER TABLE exports ADD start_at timestamp(6) without time zone;
ALTER TABLE exports ADD end_at timestamp(6) without time zone;
