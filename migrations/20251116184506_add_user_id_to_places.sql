-- version: 20251116184506
-- name: add_user_id_to_places
-- kind: schema
-- release: 0.36.0
-- transaction: false
-- changes-data: false
-- note: Rails returns early when places.user_id already exists, skipping the index too; here each statement is guarded on its own (IF NOT EXISTS), so a rerun after a partial run still builds index_places_on_user_id (which schema.rb has). No foreign key, as in Rails.
ALTER TABLE places ADD COLUMN IF NOT EXISTS user_id bigint;
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_places_on_user_id ON places (user_id);
