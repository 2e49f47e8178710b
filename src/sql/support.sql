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

-- Resume points of batched backfills: the next primary key to do, committed with each batch.
CREATE TABLE IF NOT EXISTS dawarich_doctor.backfill_checkpoint (
  kind text NOT NULL,
  version text NOT NULL,
  statement int NOT NULL,
  next_id bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, version, statement)
);
