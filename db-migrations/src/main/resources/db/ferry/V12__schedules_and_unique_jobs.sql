-- Recurring schedules and unique jobs (issue 17, DESIGN section 11).

ALTER TABLE ferry.jobs
    ADD COLUMN IF NOT EXISTS unique_key    text,
    ADD COLUMN IF NOT EXISTS unique_for_ms bigint,
    ADD COLUMN IF NOT EXISTS schedule_name text;

-- "unique": {"key": K, "while": "active"}: at most one unfinished job per key. The database
-- enforces it: an insert of a second one is a conflict that intake's ON CONFLICT DO NOTHING
-- skips, whichever orchestrator and partition the submissions came through.
CREATE UNIQUE INDEX IF NOT EXISTS jobs_unique_active_idx ON ferry.jobs (unique_key)
    WHERE unique_key IS NOT NULL AND unique_for_ms IS NULL
      AND status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED');

-- Finding the jobs of a key (SELECT ... WHERE unique_key = ...), whatever their status.
CREATE INDEX IF NOT EXISTS jobs_unique_key_idx ON ferry.jobs (unique_key)
    WHERE unique_key IS NOT NULL;

-- "unique": {"key": K, "forMs": N}: a key is taken for N ms from the creation of its job. One
-- row per key; intake takes it with INSERT ... ON CONFLICT DO UPDATE ... WHERE expired, which
-- the row lock makes race-free.
CREATE TABLE IF NOT EXISTS ferry.unique_keys (
    key         text        PRIMARY KEY,
    job_id      uuid        NOT NULL,
    expires_at  timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS ferry.schedules (
    name          text        PRIMARY KEY,
    cron          text        NOT NULL,
    time_zone     text        NOT NULL DEFAULT 'UTC',
    template      jsonb       NOT NULL,
    misfire       text        NOT NULL DEFAULT 'skip',
    enabled       boolean     NOT NULL DEFAULT true,
    next_fire_at  timestamptz,
    last_fire_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT schedules_misfire_check CHECK (misfire IN ('skip', 'run-once'))
);

-- The scheduler's due scan.
CREATE INDEX IF NOT EXISTS schedules_due_idx ON ferry.schedules (next_fire_at) WHERE enabled;

-- A schedule's jobs, newest first.
CREATE INDEX IF NOT EXISTS jobs_schedule_idx ON ferry.jobs (schedule_name, created_at)
    WHERE schedule_name IS NOT NULL;
