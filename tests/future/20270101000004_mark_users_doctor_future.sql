-- kind: data
-- transaction: true
-- A data migration (db/data, recorded in data_migrations): one transaction, as data_migrate runs them.
UPDATE users SET settings = COALESCE(settings, '{}'::jsonb) || jsonb_build_object('doctor_future', true)
