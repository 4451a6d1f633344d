-- Fan-out / fan-in: a parent counts its finished children. The counters are bumped once per
-- parent per outcome batch (never per child), in the transaction that finishes the children.
ALTER TABLE ferry.jobs
    ADD COLUMN IF NOT EXISTS children_total  int NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS children_done   int NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS children_failed int NOT NULL DEFAULT 0;
