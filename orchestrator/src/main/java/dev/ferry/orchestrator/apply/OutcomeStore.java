package dev.ferry.orchestrator.apply;

import dev.ferry.orchestrator.store.AttemptRow;
import dev.ferry.orchestrator.store.UnnestBinder;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.UUID;

/**
 * The SQL only the outcome applier runs: giving back deferred attempts and turning jobs whose
 * handler spawned children into parents. The statements it shares with the dispatcher and the
 * rescuer are in {@link dev.ferry.orchestrator.store.JobStore}. Runs in the caller's transaction.
 * Stateless and thread-safe.
 */
final class OutcomeStore {
  private static final String DELETE_ATTEMPTS =
      """
      DELETE FROM ferry.job_attempts a
      USING unnest(?::uuid[], ?::int[]) AS u(job_id, attempt)
      WHERE a.job_id = u.job_id AND a.attempt = u.attempt
      """;

  private static final String MARK_SPAWNED =
      """
      UPDATE ferry.jobs j SET children_total = u.n, spawned = true,
             failure_policy = coalesce(j.failure_policy, 'fail-fast')
      FROM unnest(?::uuid[], ?::int[]) AS u(id, n) WHERE j.id = u.id
      """;

  /** A job whose handler spawned {@code children} children (dynamic fan-out). */
  record Spawning(UUID id, int children) {}

  /** Removes the rows of attempts that were given back (deferred). */
  void deleteAttempts(Connection c, List<AttemptRow> givenBack) throws SQLException {
    if (givenBack.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(DELETE_ATTEMPTS)) {
      new UnnestBinder(c, ps)
          .uuids(givenBack, AttemptRow::jobId)
          .ints(givenBack, AttemptRow::attempt);
      ps.executeUpdate();
    }
  }

  /**
   * Makes each spawning job a parent of its spawned children: it then completes with their
   * aggregate (fail-fast unless the job said otherwise).
   */
  void markSpawned(Connection c, List<Spawning> parents) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(MARK_SPAWNED)) {
      new UnnestBinder(c, ps).uuids(parents, Spawning::id).ints(parents, Spawning::children);
      ps.executeUpdate();
    }
  }
}
