-- Retention deletes finished jobs oldest first: find them without scanning live ones.
CREATE INDEX IF NOT EXISTS jobs_finished_idx ON ferry.jobs (finished_at)
    WHERE status IN ('SUCCEEDED', 'FAILED', 'CANCELLED');
-- ... and rejected submissions by age.
CREATE INDEX IF NOT EXISTS rejected_submissions_received_idx
    ON ferry.rejected_submissions (received_at);
