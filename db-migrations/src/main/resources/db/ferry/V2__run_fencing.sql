-- Fencing token: incremented every time a job is dispatched. Work items and attempt reports
-- carry it, and the outcome applier only accepts a report whose run matches the job's, so a
-- late or duplicate report of an earlier dispatch can never be applied to a later one (even
-- when a deferral gave its attempt number back).
ALTER TABLE ferry.jobs ADD COLUMN IF NOT EXISTS run_seq bigint NOT NULL DEFAULT 0;
