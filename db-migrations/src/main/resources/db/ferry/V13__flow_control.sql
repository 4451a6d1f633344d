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

-- Start permits granted by the rate limiter: one row per permit, kept for two windows. `slot` is
-- when its job may start; `at` is the slot, moved to the moment the worker called the dependency
-- once it reports that.
CREATE TABLE IF NOT EXISTS ferry.dependency_starts (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dependency  text        NOT NULL,
    slot        timestamptz NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS dependency_starts_idx ON ferry.dependency_starts (dependency, at);

-- Why a job waits (ferry status, ferry jobs, the console): the first of breaker OPEN, key slots
-- full, older jobs of its key first, max_concurrent reached, rate reached, low priority behind a
-- backlog; null for a job that does not wait. Computed on demand, never stored.
-- Usage: SELECT id, ferry.waiting_for(j) FROM ferry.jobs j WHERE status = 'PENDING';
CREATE OR REPLACE FUNCTION ferry.waiting_for(j ferry.jobs) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN j.status = 'QUEUED' AND l.rate_limit IS NOT NULL
      THEN 'queued: starts when a start permit of ' || j.dependency || ' (rate '
           || l.rate_limit || '/' || l.rate_period_ms || 'ms) frees'
    WHEN j.status NOT IN ('PENDING', 'RETRY_WAIT') THEN NULL
    WHEN j.next_run_at > now()
      THEN 'not due before ' || to_char(j.next_run_at AT TIME ZONE 'UTC',
                                        'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    WHEN b.dependency IS NOT NULL
      THEN 'breaker of ' || j.dependency || ' is OPEN'
           || coalesce(' until ' || to_char(b.retry_at AT TIME ZONE 'UTC',
                                            'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), '')
    WHEN j.status = 'PENDING' AND j.concurrency_key IS NOT NULL
         AND k.used >= j.concurrency_limit
      THEN 'key ' || j.concurrency_key || ': ' || k.used || ' of ' || j.concurrency_limit
           || ' slots in use'
    WHEN j.status = 'PENDING' AND j.concurrency_key IS NOT NULL AND k.older
      THEN 'key ' || j.concurrency_key || ': older jobs of the key start first'
    WHEN l.max_concurrent IS NOT NULL AND d.active >= l.max_concurrent
      THEN j.dependency || ': max concurrent ' || l.max_concurrent || ' reached'
    WHEN l.rate_limit IS NOT NULL AND d.queued >= l.rate_limit
      THEN j.dependency || ': rate ' || l.rate_limit || '/' || l.rate_period_ms
           || 'ms reached'
    WHEN j.priority >= 4
      THEN 'priority ' || j.priority || ': waits while the work topics have a backlog'
           || ' (at most priority.aging.ms)'
    ELSE 'due: the next dispatcher round takes it'
  END
  FROM (SELECT 1) AS one
  LEFT JOIN ferry.circuit_breakers b
    ON b.dependency = j.dependency AND b.state = 'OPEN'
       AND (b.retry_at IS NULL OR b.retry_at > now())
  LEFT JOIN ferry.dependency_limits l ON l.dependency = j.dependency
  LEFT JOIN LATERAL (
    SELECT (SELECT count(*) FROM ferry.jobs a
            WHERE a.concurrency_key = j.concurrency_key
              AND a.status IN ('QUEUED', 'RUNNING', 'RETRY_WAIT')) AS used,
           EXISTS (SELECT 1 FROM ferry.jobs o
                   WHERE o.concurrency_key = j.concurrency_key AND o.status = 'PENDING'
                     AND (o.created_at, o.concurrency_seq) < (j.created_at, j.concurrency_seq))
             AS older
    WHERE j.concurrency_key IS NOT NULL) k ON true
  LEFT JOIN LATERAL (
    SELECT count(*) AS active, count(*) FILTER (WHERE s.status = 'QUEUED') AS queued
    FROM ferry.jobs s
    WHERE s.dependency = j.dependency AND s.status IN ('QUEUED', 'RUNNING')
      AND l.dependency IS NOT NULL) d ON true
$$;
