-- The console (issue 16).

-- Finished, failed and retried attempts per minute and job type, counted by the outcome
-- applier in the transaction that applies them (one statement per batch). The console's
-- overview reads an hour of it (at most 60 rows per type) instead of every job finished in the
-- hour. Retention deletes minutes older than retention.ms.
CREATE TABLE IF NOT EXISTS ferry.job_activity (
    minute     timestamptz NOT NULL,
    type       text        NOT NULL,
    succeeded  int         NOT NULL DEFAULT 0,
    failed     int         NOT NULL DEFAULT 0,
    retried    int         NOT NULL DEFAULT 0,
    PRIMARY KEY (minute, type)
);

-- The jobs list: newest first, keyset pagination on (created_at, id).
CREATE INDEX IF NOT EXISTS jobs_created_idx ON ferry.jobs (created_at, id);

-- A parent's children, newest first (the job page lists them): without it a parent whose
-- children are not the newest jobs walks jobs_created_idx past every newer job (1 s with
-- 1M jobs). It also serves every use of jobs_parent_idx (its first column), which goes.
CREATE INDEX IF NOT EXISTS jobs_parent_created_idx ON ferry.jobs (parent_id, created_at, id)
    WHERE parent_id IS NOT NULL;
DROP INDEX IF EXISTS ferry.jobs_parent_idx;
