package dev.ferry.migrations;

import java.util.regex.Pattern;

/**
 * Least-privilege database roles for Ferry's processes. The schema's owner (whoever runs
 * {@code ferry migrate}) keeps DDL; the orchestrator and the workers get only the rows they
 * touch:
 *
 * <ul>
 *   <li><b>orchestrator</b>: reads and writes jobs, attempts and rejected submissions; reads
 *       breakers and workers (dispatch holds back OPEN dependencies, the rescuer looks for dead
 *       workers); deletes old rows (retention). Run it with {@code --no-migrate}.
 *   <li><b>worker</b>: its own row in {@code ferry.workers}; the shared breakers; reads jobs
 *       (the redelivery check, which locks them {@code FOR SHARE} and so needs an
 *       {@code UPDATE} grant on one column: {@code updated_at}, nothing else). It cannot change
 *       a job's status, result or attempts, or read rejected submissions.
 * </ul>
 */
public final class Roles {
  private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  private Roles() {}

  /** The SQL that creates (if missing) both roles and grants them what they need. */
  public static String sql(String orchestrator, String worker) {
    check(orchestrator);
    check(worker);
    return """
        -- Ferry least-privilege roles. Run as the owner of schema ferry (after `ferry migrate`).
        -- Give each role a password afterwards, e.g. ALTER ROLE %1$s PASSWORD '…';
        DO $$ BEGIN CREATE ROLE %1$s LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
        DO $$ BEGIN CREATE ROLE %2$s LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;

        -- orchestrator: intake, dispatch, outcomes, fan-in, rescue, retention
        GRANT USAGE ON SCHEMA ferry TO %1$s;
        GRANT SELECT, INSERT, UPDATE, DELETE ON ferry.jobs, ferry.job_attempts TO %1$s;
        GRANT SELECT, INSERT, DELETE ON ferry.rejected_submissions TO %1$s;
        GRANT USAGE ON SEQUENCE ferry.rejected_submissions_id_seq TO %1$s;
        GRANT SELECT ON ferry.circuit_breakers TO %1$s;
        GRANT SELECT, DELETE ON ferry.workers TO %1$s;

        -- worker: its registry row, the shared breakers, the redelivery check
        GRANT USAGE ON SCHEMA ferry TO %2$s;
        GRANT SELECT, INSERT, UPDATE ON ferry.workers TO %2$s;
        GRANT SELECT, INSERT, UPDATE ON ferry.circuit_breakers TO %2$s;
        GRANT SELECT (id, status, run_seq), UPDATE (updated_at) ON ferry.jobs TO %2$s;
        """.formatted(orchestrator, worker);
  }

  private static void check(String role) {
    if (role == null || !NAME.matcher(role).matches()) {
      throw new IllegalArgumentException("not a plain role name (lower case letters, digits, _): '"
          + role + "'");
    }
  }
}
