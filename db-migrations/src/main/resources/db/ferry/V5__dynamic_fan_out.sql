-- Dynamic fan-out: a job whose handler spawned children waits for them and then completes
-- with their aggregate (its handler does not run again).
ALTER TABLE ferry.jobs ADD COLUMN IF NOT EXISTS spawned boolean NOT NULL DEFAULT false;
