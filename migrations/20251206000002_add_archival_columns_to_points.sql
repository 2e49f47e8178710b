-- version: 20251206000002
-- name: add_archival_columns_to_points
-- kind: schema
-- release: 0.36.3
-- transaction: false
-- changes-data: false
-- note: IF NOT EXISTS / a pg_constraint guard added (Rails has none) so a rerun after a partial run converges.
ALTER TABLE points ADD COLUMN IF NOT EXISTS raw_data_archived boolean DEFAULT false NOT NULL;
ALTER TABLE points ADD COLUMN IF NOT EXISTS raw_data_archive_id bigint;
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_points_on_archived_true ON points (raw_data_archived) WHERE raw_data_archived = true;
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_points_on_raw_data_archive_id ON points (raw_data_archive_id);
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint
                 WHERE conrelid = 'points'::regclass AND conname = 'fk_rails_98d7bdf4ad') THEN
    ALTER TABLE points ADD CONSTRAINT fk_rails_98d7bdf4ad FOREIGN KEY (raw_data_archive_id)
      REFERENCES points_raw_data_archives (id) ON DELETE SET NULL NOT VALID;
  END IF;
END
$$;
