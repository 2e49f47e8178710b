-- version: 20231021104258
-- name: remove_not_null_on_active_storage_blobs_checksum.active_storage
-- kind: schema
-- release: 0.1.6
-- transaction: true
-- changes-data: false

-- Does nothing unless active_storage_blobs exists.
DO $do$
BEGIN
  IF to_regclass('active_storage_blobs') IS NULL THEN
    RETURN;
  END IF;
  EXECUTE 'ALTER TABLE active_storage_blobs ALTER COLUMN checksum DROP NOT NULL';
END
$do$;
