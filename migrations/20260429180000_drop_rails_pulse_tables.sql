-- version: 20260429180000
-- name: drop_rails_pulse_tables
-- kind: schema
-- release: 1.7.2
-- transaction: true
-- changes-data: true
-- note: Drops the rails_pulse_* tables (and their rows: request metrics of the removed rails_pulse gem) with CASCADE, as Rails does; irreversible in Rails too.
DROP TABLE IF EXISTS rails_pulse_operations CASCADE;
DROP TABLE IF EXISTS rails_pulse_summaries CASCADE;
DROP TABLE IF EXISTS rails_pulse_requests CASCADE;
DROP TABLE IF EXISTS rails_pulse_queries CASCADE;
DROP TABLE IF EXISTS rails_pulse_routes CASCADE;
