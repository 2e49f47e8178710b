-- version: 20250823125940
-- name: remove_default_from_imports_source
-- kind: schema
-- release: 0.30.11
-- transaction: true
-- changes-data: false
ALTER TABLE imports ALTER COLUMN source DROP DEFAULT;
