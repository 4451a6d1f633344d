-- Ferry schema, version 1. The table and column names are Ferry's public contract
-- (DESIGN.md section 4): users query them directly.

CREATE TABLE IF NOT EXISTS ferry.jobs (
    id              uuid        PRIMARY KEY,
    parent_id       uuid,
    type            text,
    dependency      text,
    payload         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    status          text        NOT NULL,
    attempts        int         NOT NULL DEFAULT 0,
    max_attempts    int         NOT NULL,
    next_run_at     timestamptz NOT NULL DEFAULT now(),
    timeout_ms      int         NOT NULL,
    backoff         jsonb,
    result          jsonb,
    last_error      text,
    key             text,
    failure_policy  text,
    worker_id       text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    CONSTRAINT jobs_status_check CHECK (status IN ('PENDING', 'QUEUED', 'RUNNING', 'RETRY_WAIT',
        'WAITING_CHILDREN', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
    CONSTRAINT jobs_attempts_check CHECK (attempts >= 0 AND max_attempts >= 1)
);

COMMENT ON TABLE ferry.jobs IS 'One row per job: its current status, attempt count, schedule and result.';

-- The dispatcher's claim: due jobs in run-time order. Partial, so it stays small however many
-- finished jobs the table holds.
CREATE INDEX IF NOT EXISTS jobs_due_idx ON ferry.jobs (next_run_at)
    WHERE status IN ('PENDING', 'RETRY_WAIT');

-- Fan-in and `ferry jobs --parent`.
CREATE INDEX IF NOT EXISTS jobs_parent_idx ON ferry.jobs (parent_id) WHERE parent_id IS NOT NULL;

-- `ferry jobs --status S`, re-drive by status and type, and operators' dashboards.
CREATE INDEX IF NOT EXISTS jobs_status_type_idx ON ferry.jobs (status, type);

CREATE TABLE IF NOT EXISTS ferry.job_attempts (
    job_id       uuid        NOT NULL,
    attempt      int         NOT NULL,
    worker_id    text,
    started_at   timestamptz,
    finished_at  timestamptz,
    outcome      text,
    error        text,
    PRIMARY KEY (job_id, attempt)
);

COMMENT ON TABLE ferry.job_attempts IS 'One row per attempt of a job: who ran it, when, and how it ended.';

CREATE TABLE IF NOT EXISTS ferry.circuit_breakers (
    dependency   text        PRIMARY KEY,
    state        text        NOT NULL DEFAULT 'CLOSED',
    opened_at    timestamptz,
    retry_at     timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    generation   bigint      NOT NULL DEFAULT 0,
    CONSTRAINT circuit_breakers_state_check CHECK (state IN ('CLOSED', 'OPEN', 'HALF_OPEN'))
);

CREATE TABLE IF NOT EXISTS ferry.rejected_submissions (
    id           bigserial   PRIMARY KEY,
    topic        text        NOT NULL,
    partition    int         NOT NULL,
    "offset"     bigint      NOT NULL,
    reason       text        NOT NULL,
    raw          text,
    received_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rejected_submissions_position UNIQUE (topic, partition, "offset")
);

COMMENT ON TABLE ferry.rejected_submissions IS 'Submissions that failed validation, kept for inspection (also on the dlq topic).';

CREATE TABLE IF NOT EXISTS ferry.workers (
    id            text        PRIMARY KEY,
    host          text        NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    concurrency   int         NOT NULL,
    in_flight     int         NOT NULL DEFAULT 0,
    stopped_at    timestamptz
);
