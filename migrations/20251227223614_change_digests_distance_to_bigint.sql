-- version: 20251227223614
-- name: change_digests_distance_to_bigint
-- kind: schema
-- release: 0.37.0
-- transaction: false
-- changes-data: false
-- note: Exactly the Rails statement; every released copy of create_digests already makes distance bigint NOT NULL DEFAULT 0, so it changes nothing (no rewrite) and is safe to rerun as is.
ALTER TABLE digests ALTER COLUMN distance TYPE bigint, ALTER COLUMN distance SET DEFAULT 0, ALTER COLUMN distance SET NOT NULL;
