-- version: 20260318000001
-- name: change_archive_fk_to_restrict
-- kind: schema
-- release: 1.4.0
-- transaction: true
-- changes-data: false
-- note: remove_foreign_key (if_exists) as Rails does it: when points has any foreign key to points_raw_data_archives, the first one on raw_data_archive_id in constraint-name order is dropped. Installs loaded from the 1.0.0-era schema.rb carry a second, hand-named fk_rails_points_raw_data_archives (ON DELETE SET NULL, NOT VALID); it sorts after fk_rails_98d7bdf4ad, so Rails (and this file) keeps it.
DO $$
DECLARE
  fk text;
BEGIN
  IF EXISTS (SELECT 1 FROM pg_constraint
             WHERE contype = 'f' AND conrelid = 'points'::regclass
               AND confrelid = 'points_raw_data_archives'::regclass) THEN
    SELECT c.conname INTO fk
    FROM pg_constraint c
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
    WHERE c.contype = 'f' AND c.conrelid = 'points'::regclass
      AND c.confrelid = 'points_raw_data_archives'::regclass
      AND a.attname = 'raw_data_archive_id'
    ORDER BY c.conname
    LIMIT 1;
    IF fk IS NULL THEN
      RAISE EXCEPTION 'Table ''points'' has no foreign key for points_raw_data_archives with column raw_data_archive_id';
    END IF;
    EXECUTE format('ALTER TABLE points DROP CONSTRAINT %I', fk);
  END IF;
END
$$;
ALTER TABLE points ADD CONSTRAINT fk_rails_98d7bdf4ad FOREIGN KEY (raw_data_archive_id) REFERENCES points_raw_data_archives (id) ON DELETE RESTRICT NOT VALID;
