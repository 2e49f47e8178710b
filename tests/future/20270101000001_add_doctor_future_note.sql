-- kind: schema
-- transaction: true
-- A cheap change: a nullable column, no rewrite.
ALTER TABLE points ADD COLUMN doctor_future_note text
