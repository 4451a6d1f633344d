package dev.ferry.orchestrator.store;

import dev.ferry.core.model.JobStatus;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Counts applied attempt outcomes per minute and job type in {@code ferry.job_activity}: one
 * statement per batch, in the batch's transaction, so a count is exactly as durable as the outcome
 * it counts. Rows are written in type order, so two appliers never wait on each other in a cycle.
 */
public final class ActivityStore {
  private static final String UPSERT =
      """
      INSERT INTO ferry.job_activity AS a (minute, type, succeeded, failed, retried)
      SELECT ?, u.type, u.succeeded, u.failed, u.retried
      FROM unnest(?::text[], ?::int[], ?::int[], ?::int[]) AS u(type, succeeded, failed, retried)
      ORDER BY u.type
      ON CONFLICT (minute, type) DO UPDATE
      SET succeeded = a.succeeded + excluded.succeeded, failed = a.failed + excluded.failed,
          retried = a.retried + excluded.retried
      """;

  /** An applied outcome: the job's type (null for none) and its new status. */
  public record Outcome(String type, JobStatus status) {}

  private record Row(String type, int succeeded, int failed, int retried) {}

  /** Adds the outcomes to the minute of {@code now}; statuses other than the three are ignored. */
  public void record(Connection c, Instant now, List<Outcome> outcomes) throws SQLException {
    Map<String, int[]> byType = new TreeMap<>();
    for (Outcome o : outcomes) {
      int column =
          switch (o.status()) {
            case SUCCEEDED -> 0;
            case FAILED -> 1;
            case RETRY_WAIT -> 2;
            default -> -1;
          };
      if (column >= 0) {
        byType.computeIfAbsent(o.type() == null ? "" : o.type(), t -> new int[3])[column]++;
      }
    }
    if (byType.isEmpty()) {
      return;
    }
    List<Row> rows = new ArrayList<>();
    byType.forEach((type, n) -> rows.add(new Row(type, n[0], n[1], n[2])));
    try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
      new UnnestBinder(c, ps)
          .timestamp(now.truncatedTo(ChronoUnit.MINUTES))
          .texts(rows, Row::type)
          .ints(rows, Row::succeeded)
          .ints(rows, Row::failed)
          .ints(rows, Row::retried);
      ps.executeUpdate();
    }
  }
}
