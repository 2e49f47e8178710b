-- Dawarich Doctor's own schema: quarantine (restorable copies of removed rows) and the audit log.
-- Installed idempotently before any change; never touches Dawarich's tables.
CREATE SCHEMA IF NOT EXISTS dawarich_doctor;

CREATE TABLE IF NOT EXISTS dawarich_doctor.audit_log (
  id bigserial PRIMARY KEY,
  run_id text NOT NULL,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  action text NOT NULL,
  statement text NOT NULL,
  rows_affected bigint,
  duration_ms double precision,
  outcome text NOT NULL DEFAULT 'ok'
);
CREATE INDEX IF NOT EXISTS audit_log_run_id ON dawarich_doctor.audit_log (run_id);

-- Copies the rows of SOURCE matching CONDITION into dawarich_doctor.quarantine_<table> (all columns,
-- plus the run id, reason and time), then deletes them, in one statement. Returns the row count.
CREATE OR REPLACE FUNCTION dawarich_doctor.quarantine_delete(source regclass, condition text, reason text)
RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
  rel text := (SELECT c.relname FROM pg_class c WHERE c.oid = source);
  qtable text := 'quarantine_' || rel;
  col record;
  cols text;
  n bigint;
BEGIN
  EXECUTE format('CREATE TABLE IF NOT EXISTS dawarich_doctor.%I (_run_id text NOT NULL, _reason text NOT NULL, '
                 '_quarantined_at timestamptz NOT NULL DEFAULT now(), _restored_at timestamptz)', qtable);
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON dawarich_doctor.%I (_run_id)', qtable || '_run_id', qtable);
  FOR col IN
    SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS typ
    FROM pg_attribute a WHERE a.attrelid = source AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
  LOOP
    EXECUTE format('ALTER TABLE dawarich_doctor.%I ADD COLUMN IF NOT EXISTS %I %s', qtable, col.attname, col.typ);
  END LOOP;
  SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) INTO cols
    FROM pg_attribute a WHERE a.attrelid = source AND a.attnum > 0 AND NOT a.attisdropped;
  EXECUTE format('WITH moved AS (DELETE FROM %s WHERE %s RETURNING %s) '
                 'INSERT INTO dawarich_doctor.%I (_run_id, _reason, %s) SELECT $1, $2, %s FROM moved',
                 source, condition, cols, qtable, cols, cols)
    USING coalesce(current_setting('dawarich_doctor.run_id', true), 'manual'), reason;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$fn$;

-- Resume points of batched backfills, committed with each batch: the first primary key not done
-- (next_id) and every finished key interval as [lo1, hi1, lo2, hi2, ...] (done; NULL: all below next_id).
CREATE TABLE IF NOT EXISTS dawarich_doctor.backfill_checkpoint (
  kind text NOT NULL,
  version text NOT NULL,
  statement int NOT NULL,
  next_id bigint NOT NULL,
  done bigint[],
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, version, statement)
);
ALTER TABLE dawarich_doctor.backfill_checkpoint ADD COLUMN IF NOT EXISTS done bigint[];

-- Indexes a walk set aside while Dawarich was stopped (dropped in a committed transaction), each
-- until the transaction that creates it again from its definition removes it.
CREATE TABLE IF NOT EXISTS dawarich_doctor.index_aside (
  qualified text PRIMARY KEY,
  table_name text NOT NULL,
  name text NOT NULL,
  definition text NOT NULL,
  run_id text NOT NULL,
  set_aside_at timestamptz NOT NULL DEFAULT now()
);

-- Job work a recorded migration enqueued and that is not done yet (Dawarich's Sidekiq queue): added
-- in the transaction that records the migration, removed with the job's last statement.
CREATE TABLE IF NOT EXISTS dawarich_doctor.job_queue (
  kind text NOT NULL,
  version text NOT NULL,
  run_id text NOT NULL,
  enqueued_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (kind, version)
);

-- Old values of rows a repair updated (only the changed columns), so `undo` can put them back.
-- Rows that had the same old values share one entry (row_ids), which keeps repairs fast.
CREATE TABLE IF NOT EXISTS dawarich_doctor.repair_undo (
  id bigserial PRIMARY KEY,
  run_id text NOT NULL,
  table_name text NOT NULL,
  row_ids bigint[] NOT NULL,
  old jsonb NOT NULL,
  restored_at timestamptz
);
CREATE INDEX IF NOT EXISTS repair_undo_run_id ON dawarich_doctor.repair_undo (run_id);

-- Undoes run RUN: reverts the updates it made (earliest old value per row), then puts the rows it
-- quarantined back (rows whose key is taken meanwhile are skipped and stay in quarantine).
-- Returns one row per table: rows reverted, rows restored, rows skipped.
CREATE OR REPLACE FUNCTION dawarich_doctor.undo_run(run text)
RETURNS TABLE (table_name text, reverted bigint, restored bigint, skipped bigint) LANGUAGE plpgsql AS $fn$
DECLARE
  t record;
  q record;
  sets text;
  cols text;
  vals text;
  n bigint;
  total bigint;
BEGIN
  FOR t IN SELECT DISTINCT u.table_name AS tn, (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(u.old) k) AS keys
           FROM dawarich_doctor.repair_undo u WHERE u.run_id = run AND u.restored_at IS NULL
  LOOP
    SELECT string_agg(format('%I = r.%I', k, k), ', ') INTO sets FROM unnest(t.keys) k;
    EXECUTE format('UPDATE %I d SET %s FROM (SELECT DISTINCT ON (x.row_id) x.row_id, (jsonb_populate_record(NULL::%I, u.old)).* '
                   'FROM dawarich_doctor.repair_undo u CROSS JOIN LATERAL unnest(u.row_ids) AS x(row_id) '
                   'WHERE u.run_id = $1 AND u.table_name = $2 AND u.restored_at IS NULL '
                   'AND (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(u.old) k) = $3 ORDER BY x.row_id, u.id) r WHERE d.id = r.row_id',
                   t.tn, sets, t.tn) USING run, t.tn, t.keys;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE dawarich_doctor.repair_undo u SET restored_at = now() WHERE u.run_id = run AND u.table_name = t.tn AND u.restored_at IS NULL
      AND (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(u.old) k) = t.keys;
    table_name := t.tn; reverted := n; restored := 0; skipped := 0;
    RETURN NEXT;
  END LOOP;
  FOR q IN SELECT c.relname::text AS qt, substr(c.relname, 12) AS src FROM pg_class c
           WHERE c.relnamespace = 'dawarich_doctor'::regnamespace AND c.relkind = 'r' AND c.relname LIKE 'quarantine\_%'
  LOOP
    EXECUTE format('SELECT count(*) FROM dawarich_doctor.%I WHERE _run_id = $1 AND _restored_at IS NULL', q.qt) INTO total USING run;
    CONTINUE WHEN total = 0 OR to_regclass(format('%I', q.src)) IS NULL;
    -- Columns added to the table after the rows were quarantined are NULL in quarantine: a NOT NULL
    -- one gets its default instead.
    SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum),
           string_agg(CASE WHEN a.attnotnull AND d.adbin IS NOT NULL
                           THEN format('COALESCE(%I, %s)', a.attname, pg_get_expr(d.adbin, d.adrelid))
                           ELSE format('%I', a.attname) END, ', ' ORDER BY a.attnum)
      INTO cols, vals
      FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = to_regclass(format('%I', q.src)) AND a.attnum > 0 AND NOT a.attisdropped
        AND EXISTS (SELECT 1 FROM pg_attribute b WHERE b.attrelid = format('dawarich_doctor.%I', q.qt)::regclass AND b.attname = a.attname AND NOT b.attisdropped);
    EXECUTE format('WITH back AS (INSERT INTO %I (%s) SELECT %s FROM dawarich_doctor.%I WHERE _run_id = $1 AND _restored_at IS NULL '
                   'ON CONFLICT DO NOTHING RETURNING id) UPDATE dawarich_doctor.%I q SET _restored_at = now() FROM back WHERE q.id = back.id AND q._run_id = $1',
                   q.src, cols, vals, q.qt, q.qt) USING run;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := q.src; reverted := 0; restored := n; skipped := total - n;
    RETURN NEXT;
  END LOOP;
END
$fn$;
