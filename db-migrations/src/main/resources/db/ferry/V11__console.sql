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
