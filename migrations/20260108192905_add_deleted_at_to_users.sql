-- version: 20260108192905
-- name: add_deleted_at_to_users
-- kind: schema
-- release: 1.3.1
-- transaction: false
-- changes-data: false
-- note: Shipped in 1.3.1, after 1.3.0 had already shipped later versions (out of order); 20260112192240 and later files rely on users.deleted_at.
-- note: Rails skips the index when any index covers exactly (deleted_at), whatever its name; here the guard is the index name Rails gives it (a CONCURRENTLY build cannot run inside a lookup block).
ALTER TABLE users ADD COLUMN IF NOT EXISTS deleted_at timestamp(6) without time zone;
CREATE INDEX CONCURRENTLY IF NOT EXISTS index_users_on_deleted_at ON users (deleted_at);
