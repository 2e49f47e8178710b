-- version: 20251208210410
-- name: add_composite_index_to_stats
-- kind: schema
-- release: 0.36.3
-- transaction: false
-- changes-data: true
-- job: BulkStatsCalculatingJob: recalculates every active and trial user's monthly stats in Ruby (Stats::BulkCalculator); not done here.
-- follow-up: BulkStatsCalculatingJob.perform_later
-- note: Rails deletes the duplicate stats rows (same user_id, year, month; the highest id is kept) with plain DELETEs in batches of 1000; here they are moved to quarantine in one statement (restorable with undo).
-- note: A failed 0.36.3 attempt may have left an INVALID index_stats_on_user_id_year_month (#2034/#2051); IF NOT EXISTS alone would keep it, the runner rebuilds it.
SELECT dawarich_doctor.quarantine_delete('stats', $$id IN (SELECT s1.id FROM stats s1 WHERE EXISTS (SELECT 1 FROM stats s2 WHERE s2.user_id = s1.user_id AND s2.year = s1.year AND s2.month = s1.month AND s2.id > s1.id))$$, 'duplicate stats row (user_id, year, month); the newest row is kept (migration 20251208210410)');
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS index_stats_on_user_id_year_month ON stats (user_id, year, month);
