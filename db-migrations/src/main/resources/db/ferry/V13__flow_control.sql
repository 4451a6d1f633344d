-- Flow control (issue 18, DESIGN section 11): priorities, per-key concurrency, fleet-wide
-- dependency limits. Work in progress: the columns and tables the plan in
-- docs/design/flow-control.md uses.

ALTER TABLE ferry.jobs
    ADD COLUMN IF NOT EXISTS priority          int  NOT NULL DEFAULT 3,
    ADD COLUMN IF NOT EXISTS concurrency_key   text,
    ADD COLUMN IF NOT EXISTS concurrency_limit int;

ALTER TABLE ferry.jobs
    ADD CONSTRAINT jobs_priority_check CHECK (priority BETWEEN 1 AND 5);

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
