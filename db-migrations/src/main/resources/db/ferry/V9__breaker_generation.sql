-- Shared circuit breakers: the admission epoch. Incremented on every transition and whenever
-- HALF_OPEN hands out its trial permits anew (the earlier ones expired). Worker calls carry the
-- epoch they were admitted in; in HALF_OPEN only outcomes of calls admitted in the current epoch
-- count as trial results, so a call admitted before a trip (or under an expired permit) that
-- finishes late never counts as, nor completes, one of the trial calls.
ALTER TABLE ferry.circuit_breakers
    ADD COLUMN IF NOT EXISTS epoch bigint NOT NULL DEFAULT 0;

-- Existing rows: start each epoch at its generation, so it is at least as new as every
-- transition made so far.
UPDATE ferry.circuit_breakers SET epoch = generation WHERE epoch < generation;

COMMENT ON COLUMN ferry.circuit_breakers.epoch IS
    'Admission epoch: +1 on every transition and on each renewal of HALF_OPEN trial permits; only calls admitted in the current epoch are HALF_OPEN trials.';
