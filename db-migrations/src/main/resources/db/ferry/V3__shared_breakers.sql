-- Shared circuit breakers: the state machine's data, so every worker replica applies the same
-- transitions under the row lock. One row per dependency.
ALTER TABLE ferry.circuit_breakers
    ADD COLUMN IF NOT EXISTS "window"            text        NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS window_calls        int         NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS window_failures     int         NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS failure_rate        real        NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS trips               int         NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS half_open_permits   int         NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS half_open_successes int         NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS forced              text,
    ADD COLUMN IF NOT EXISTS state_since         timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN IF NOT EXISTS last_reason         text;

COMMENT ON TABLE ferry.circuit_breakers IS
    'One circuit breaker per downstream dependency, shared by all workers: state, window, next retry.';

-- The dispatcher holds back jobs of OPEN dependencies; jobs find their breaker by dependency.
CREATE INDEX IF NOT EXISTS jobs_dependency_idx ON ferry.jobs (dependency)
    WHERE dependency IS NOT NULL AND status IN ('PENDING', 'RETRY_WAIT');
