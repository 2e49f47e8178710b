-- version: 20241206163450
-- name: create_telemetry_notification
-- kind: data
-- release: 0.19.3
-- transaction: true
-- changes-data: false
-- note: The 1.7.5 migration has an empty up method; only the version is recorded.

-- no-op
