package dev.ferry.cli;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Shows one job (status, attempts, result, last error) and its attempts.")
final class StatusCommand extends ConfigurableCommand implements Callable<Integer> {
  @Parameters(paramLabel = "JOB_ID", description = "The job id.")
  UUID id;

  @Override
  public Integer call() throws Exception {
    try (Connection c = Sql.connect(config())) {
      try (PreparedStatement ps = c.prepareStatement(
          """
          SELECT id, parent_id, type, dependency, status, attempts, max_attempts, next_run_at,
                 timeout_ms, CASE WHEN children_total > 0 THEN children_done || ' / '
                   || children_total || ' done, ' || children_failed || ' failed' END AS children,
                 failure_policy, left(payload::text, 2000) AS payload,
                 left(result::text, 2000) AS result, last_error, created_at, started_at,
                 finished_at, split_part(traceparent, '-', 2) AS trace_id, traceparent
          FROM ferry.jobs WHERE id = ?
          """)) {
        ps.setObject(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            System.err.println("ferry: no job with id " + id);
            return 1;
          }
          var md = rs.getMetaData();
          for (int i = 1; i <= md.getColumnCount(); i++) {
            String v = rs.getString(i);
            System.out.printf("%-13s %s%n", md.getColumnLabel(i) + ":", v == null ? "" : v);
          }
        }
      }
      System.out.println();
      System.out.println("Attempts:");
      try (PreparedStatement ps = c.prepareStatement(
          """
          SELECT attempt, outcome, worker_id, started_at, finished_at,
                 round(extract(epoch FROM finished_at - started_at) * 1000) AS ms, error
          FROM ferry.job_attempts WHERE job_id = ? ORDER BY attempt
          """)) {
        ps.setObject(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          Sql.printTable(rs, 80);
        }
      }
    }
    return 0;
  }
}
