-- version: 20231021104257
-- name: create_active_storage_variant_records.active_storage
-- kind: schema
-- release: 0.1.6
-- transaction: true
-- changes-data: false

-- Does nothing unless active_storage_blobs exists. blob_id takes the type of the blobs primary key,
-- as the Ruby introspects it.
DO $do$
DECLARE
  blob_pk_type text;
BEGIN
  IF to_regclass('active_storage_blobs') IS NULL THEN
    RETURN;
  END IF;
  SELECT format_type(a.atttypid, a.atttypmod) INTO blob_pk_type
    FROM pg_index i
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
   WHERE i.indrelid = to_regclass('active_storage_blobs') AND i.indisprimary;
  EXECUTE format('CREATE TABLE IF NOT EXISTS active_storage_variant_records ('
                 'id bigserial PRIMARY KEY, '
                 'blob_id %s NOT NULL, '
                 'variation_digest character varying NOT NULL, '
                 'CONSTRAINT fk_rails_993965df05 FOREIGN KEY (blob_id) REFERENCES active_storage_blobs (id))',
                 coalesce(blob_pk_type, 'bigint'));
  EXECUTE 'CREATE UNIQUE INDEX IF NOT EXISTS index_active_storage_variant_records_uniqueness '
          'ON active_storage_variant_records (blob_id, variation_digest)';
END
$do$;
