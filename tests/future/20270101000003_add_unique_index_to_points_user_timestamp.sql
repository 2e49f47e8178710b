-- kind: schema
-- transaction: false
-- Rails' disable_ddl_transaction!: each statement commits on its own and the version is recorded after
-- the last. Two points of one user at the same timestamp make the first statement fail with
-- PG::UniqueViolation and leave the index INVALID; the next attempt then fails with PG::DuplicateTable
-- until the index is dropped.
CREATE UNIQUE INDEX CONCURRENTLY index_points_on_user_timestamp_future ON points (user_id, "timestamp")
;
CREATE INDEX CONCURRENTLY index_points_on_doctor_future_note ON points (doctor_future_note)
