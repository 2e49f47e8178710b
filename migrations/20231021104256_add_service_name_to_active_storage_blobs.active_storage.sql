-- version: 20231021104256
-- name: add_service_name_to_active_storage_blobs.active_storage
-- kind: schema
-- release: 0.1.6
-- transaction: true
-- changes-data: true
-- env: STORAGE_BACKEND (default local): Rails fills service_name with the configured Active Storage service name; here always 'local'
-- note: Rails writes the configured service (ENV STORAGE_BACKEND, default local) into every blob; this file always writes 'local'.
-- note: Unreachable in practice: the guard only fires when active_storage_blobs exists without service_name, which no Dawarich release produces.

-- Does nothing unless active_storage_blobs exists without service_name (never the case on a
-- Dawarich database: 20240324161309 creates the table later, with service_name).
DO $do$
BEGIN
  IF to_regclass('active_storage_blobs') IS NULL THEN
    RETURN;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_attribute
             WHERE attrelid = to_regclass('active_storage_blobs')
               AND attname = 'service_name' AND attnum > 0 AND NOT attisdropped) THEN
    RETURN;
  END IF;
  EXECUTE 'ALTER TABLE active_storage_blobs ADD COLUMN service_name character varying';
  EXECUTE $sql$UPDATE active_storage_blobs SET service_name = 'local'$sql$;
  EXECUTE 'ALTER TABLE active_storage_blobs ALTER COLUMN service_name SET NOT NULL';
END
$do$;
