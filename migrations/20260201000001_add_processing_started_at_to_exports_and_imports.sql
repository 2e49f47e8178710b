-- version: 20260201000001
-- name: add_processing_started_at_to_exports_and_imports
-- kind: schema
-- release: 1.1.0
-- transaction: true
-- changes-data: false
ALTER TABLE exports ADD processing_started_at timestamp(6) without time zone;
ALTER TABLE imports ADD processing_started_at timestamp(6) without time zone;
