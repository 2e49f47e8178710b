-- version: 20260206202634
-- name: deduplicate_tracks
-- kind: schema
-- release: 1.1.0
-- transaction: false
-- changes-data: true
-- needs: 20260108192905
-- job: Tracks::DeduplicationJob per user not soft-deleted (Tracks::Deduplicator: per (user_id, start_at, end_at) keep the highest track id, delete the other tracks and their track_segments). Done here in SQL: the two statements below.
-- note: The Ruby deletes with plain DELETEs (segments, then tracks, one transaction per user); here the rows are moved to quarantine (restorable with undo), segments first. Each statement re-selects what is still duplicated, so a rerun after a crash between them converges.
-- note: The jobs ran later in Sidekiq (2 min + 30 s per user); here the work runs in the job phase, after every data migration. Points keep their track_id, as in the Ruby.

-- phase: job
SELECT dawarich_doctor.quarantine_delete('track_segments', $$track_id IN (SELECT t.id FROM tracks t WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = t.user_id AND u.deleted_at IS NULL) AND EXISTS (SELECT 1 FROM tracks k WHERE k.user_id = t.user_id AND k.start_at = t.start_at AND k.end_at = t.end_at AND k.id > t.id))$$, 'segment of a duplicate track (same user_id, start_at, end_at; highest id kept) (migration 20260206202634)');
SELECT dawarich_doctor.quarantine_delete('tracks', $$EXISTS (SELECT 1 FROM users u WHERE u.id = tracks.user_id AND u.deleted_at IS NULL) AND EXISTS (SELECT 1 FROM tracks k WHERE k.user_id = tracks.user_id AND k.start_at = tracks.start_at AND k.end_at = tracks.end_at AND k.id > tracks.id)$$, 'duplicate track (same user_id, start_at, end_at; highest id kept) (migration 20260206202634)');
