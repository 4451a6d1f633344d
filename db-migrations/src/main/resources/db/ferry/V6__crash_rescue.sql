-- Crash safety: how many times a worker died (stopped heartbeating) while running the job.
-- The orchestrator's rescuer counts it when it takes a stuck attempt back; a job that keeps
-- killing its workers ends FAILED as poison instead of being redelivered forever.
ALTER TABLE ferry.jobs ADD COLUMN IF NOT EXISTS crashes int NOT NULL DEFAULT 0;

-- The rescuer looks for RUNNING jobs of dead workers.
CREATE INDEX IF NOT EXISTS jobs_running_worker_idx ON ferry.jobs (worker_id)
    WHERE status = 'RUNNING';
