-- version: 20250104204852
-- name: create_photon_load_notification
-- kind: data
-- release: 0.21.3
-- transaction: true
-- changes-data: false
-- note: The 1.7.5 migration returns at the top of its up method, so the notifications it once created are never written; only the version is recorded.

-- no-op
