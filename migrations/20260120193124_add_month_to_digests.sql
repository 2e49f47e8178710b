-- version: 20260120193124
-- name: add_month_to_digests
-- kind: schema
-- release: 1.0.2
-- transaction: false
-- changes-data: false
-- note: Rails finds the old unique index by its columns (user_id, year, period_type), whatever its name; here it is dropped by the name Rails gave it.
ALTER TABLE digests ADD COLUMN IF NOT EXISTS month integer;
DROP INDEX IF EXISTS index_digests_on_user_id_and_year_and_period_type;
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS index_digests_on_user_year_month_period_type ON digests (user_id, year, month, period_type);
