-- version: 20250910224538
-- name: add_sharing_fields_to_stats
-- kind: schema
-- release: 0.32.0
-- transaction: true
-- changes-data: false
-- job: BulkStatsCalculatingJob (enqueued with a 5-minute delay): recalculates every active and trial user's monthly stats in Ruby (Stats::BulkCalculator); not done here.
-- follow-up: BulkStatsCalculatingJob.perform_later
-- note: The job enqueue was added to this file after 0.32.0 shipped; databases migrated by 0.32.0 never ran it.
ALTER TABLE stats ADD sharing_settings jsonb;
ALTER TABLE stats ADD sharing_uuid uuid;
ALTER TABLE stats ALTER COLUMN sharing_settings SET DEFAULT '{}'::jsonb;
