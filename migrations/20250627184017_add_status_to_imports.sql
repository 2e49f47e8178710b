-- version: 20250627184017
-- name: add_status_to_imports
-- kind: schema
-- release: 0.29.0
-- transaction: false
-- changes-data: true
-- note: The Ruby Import.update_all(status: :completed) is the UPDATE below (enum completed = 2 in app/models/import.rb at 1.7.5; update_all leaves updated_at alone). IF NOT EXISTS added to the DDL so a rerun converges.
ALTER TABLE imports ADD COLUMN IF NOT EXISTS status integer DEFAULT 0 NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_imports_on_status ON imports (status);
UPDATE imports SET status = 2;
