-- version: 20250625185030
-- name: add_file_type_to_exports
-- kind: schema
-- release: 0.29.0
-- transaction: false
-- changes-data: false
-- note: IF NOT EXISTS added to both statements (Rails has none) so a rerun after a partial run converges.
ALTER TABLE exports ADD COLUMN IF NOT EXISTS file_type integer DEFAULT 0 NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_exports_on_file_type ON exports (file_type);
