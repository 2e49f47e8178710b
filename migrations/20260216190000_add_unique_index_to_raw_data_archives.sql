-- version: 20260216190000
-- name: add_unique_index_to_raw_data_archives
-- kind: schema
-- release: 1.3.0
-- transaction: false
-- changes-data: false
-- note: IF NOT EXISTS added (Rails has no guard) so a rerun converges. Like the Ruby, it fails when points_raw_data_archives holds duplicate (user_id, year, month, chunk_number) rows; nothing is deleted here.
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS index_raw_data_archives_uniqueness ON points_raw_data_archives (user_id, year, month, chunk_number);
