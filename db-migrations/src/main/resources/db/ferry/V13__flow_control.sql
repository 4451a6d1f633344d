-- Flow control (issue 18, DESIGN section 11): priorities, per-key concurrency, fleet-wide
-- dependency limits. See docs/flow-control.md.

ALTER TABLE ferry.jobs
    ADD COLUMN IF NOT EXISTS priority          int  NOT NULL DEFAULT 3,
    ADD COLUMN IF NOT EXISTS concurrency_key   text,
    ADD COLUMN IF NOT EXISTS concurrency_limit int,
    -- Submission order among the jobs of one concurrency key is (created_at, concurrency_seq):
    -- the position of the job in its intake batch (set for keyed jobs only).
    ADD COLUMN IF NOT EXISTS concurrency_seq   bigint;

ALTER TABLE ferry.jobs
    ADD CONSTRAINT jobs_priority_check CHECK (priority BETWEEN 1 AND 5);

ALTER TABLE ferry.jobs
    ADD CONSTRAINT jobs_concurrency_check
        CHECK ((concurrency_key IS NULL) = (concurrency_limit IS NULL)
               AND (concurrency_limit IS NULL OR concurrency_limit >= 1));

-- The dispatcher's claim orders due jobs by priority, then run time.
CREATE INDEX IF NOT EXISTS jobs_due_priority_idx ON ferry.jobs (priority, next_run_at)
    WHERE status IN ('PENDING', 'RETRY_WAIT');
DROP INDEX IF EXISTS ferry.jobs_due_idx;
CREATE INDEX IF NOT EXISTS jobs_due_idx ON ferry.jobs (next_run_at)
    WHERE status IN ('PENDING', 'RETRY_WAIT');

-- Keys with waiting jobs, and each key's waiting jobs in submission order.
CREATE INDEX IF NOT EXISTS jobs_key_pending_idx ON ferry.jobs (concurrency_key, created_at, concurrency_seq)
    WHERE status = 'PENDING' AND concurrency_key IS NOT NULL;

-- The slots a key has in use: its QUEUED, RUNNING and RETRY_WAIT jobs.
CREATE INDEX IF NOT EXISTS jobs_key_active_idx ON ferry.jobs (concurrency_key)
    WHERE status IN ('QUEUED', 'RUNNING', 'RETRY_WAIT') AND concurrency_key IS NOT NULL;

-- A dependency's jobs on their way or running (max_concurrent), and its due jobs.
CREATE INDEX IF NOT EXISTS jobs_dependency_active_idx ON ferry.jobs (dependency, status)
    WHERE status IN ('PENDING', 'RETRY_WAIT', 'QUEUED', 'RUNNING') AND dependency IS NOT NULL;

-- Live limits per dependency; a null column means no such limit.
CREATE TABLE IF NOT EXISTS ferry.dependency_limits (
    dependency      text        PRIMARY KEY,
    rate_limit      int,
    rate_period_ms  int,
    max_concurrent  int,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT dependency_limits_rate_check
        CHECK ((rate_limit IS NULL) = (rate_period_ms IS NULL)
               AND (rate_limit IS NULL OR (rate_limit >= 1 AND rate_period_ms >= 1))),
    CONSTRAINT dependency_limits_concurrent_check
        CHECK (max_concurrent IS NULL OR max_concurrent >= 1)
);

COMMENT ON TABLE ferry.dependency_limits IS
    'Fleet-wide limits per dependency: rate (starts per period) and max concurrent jobs.';

-- Start permits granted by the rate limiter: one row per permit, kept for one window.
CREATE TABLE IF NOT EXISTS ferry.dependency_starts (
    dependency  text        NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS dependency_starts_idx ON ferry.dependency_starts (dependency, at);
