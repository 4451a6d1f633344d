-- jobs_dependency_idx (V3) is read by no query. The dispatcher's claim and intake's direct
-- dispatch hold back jobs of OPEN dependencies by looking the breaker up from the job
-- (circuit_breakers by its primary key); nothing looks jobs up by dependency. EXPLAIN of the
-- statements that search ferry.jobs (claim, next due, intake insert, rescue, retention, fan-in,
-- operator cancel/retry, `ferry jobs`) on 210,000 rows never chose it, not even with sequential
-- scans disabled. It only cost index writes whenever a job with a dependency changed status.
DROP INDEX IF EXISTS ferry.jobs_dependency_idx;
