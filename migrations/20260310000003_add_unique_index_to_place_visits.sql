-- version: 20260310000003
-- name: add_unique_index_to_place_visits
-- kind: schema
-- release: 1.3.3
-- transaction: false
-- changes-data: true
-- note: The Ruby DELETEs the duplicate place_visits rows (same visit_id, place_id; lowest id kept, ROW_NUMBER as in the 1.3.4+ copy of the file, #2375); here they are moved to dawarich_doctor.quarantine_place_visits (restorable with undo). The condition is the Ruby's, so a rerun finds nothing left to move.
SELECT dawarich_doctor.quarantine_delete('place_visits', $$id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY visit_id, place_id ORDER BY id) AS rn FROM place_visits) duplicates WHERE rn > 1)$$, 'duplicate place_visits row (same visit_id, place_id; lowest id kept) (migration 20260310000003)');
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx_place_visits_visit_id_place_id ON place_visits (visit_id, place_id);
DROP INDEX CONCURRENTLY IF EXISTS index_place_visits_on_visit_id;
