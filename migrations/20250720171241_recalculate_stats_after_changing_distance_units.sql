-- version: 20250720171241
-- name: recalculate_stats_after_changing_distance_units
-- kind: data
-- release: 0.30.0
-- transaction: true
-- changes-data: false
-- job: BulkStatsCalculatingJob (stats of all active and trial users); not done here: the stats calculation is Ruby.
-- follow-up: BulkStatsCalculatingJob.perform_later

-- no-op in SQL: the work is the follow-up above.
