package dev.ferry.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.core.config.SettingGroup;
import dev.ferry.core.json.FerryJson;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.EnumSet;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = "Shows one job (status, attempts, result, last error) and its attempts.")
final class StatusCommand extends ConfigurableCommand implements Callable<Integer> {
  /** Most characters of the payload and the result that the text output shows. */
  private static final int TEXT_JSON_CHARS = 2000;

  /** The job's columns; {@code %1$s} and {@code %2$s} are the payload and result expressions. */
  private static final String JOB =
      """
      SELECT id, parent_id, type, dependency, status, ferry.waiting_for(j) AS waiting_for,
             priority, concurrency_key, concurrency_limit, attempts, max_attempts, next_run_at,
             timeout_ms, CASE WHEN children_total > 0 THEN children_done || ' / '
               || children_total || ' done, ' || children_failed || ' failed' END AS children,
             failure_policy, schedule_name AS schedule, unique_key,
             %1$s AS payload, %2$s AS result, last_error, created_at, started_at,
             finished_at, split_part(traceparent, '-', 2) AS trace_id, traceparent
      FROM ferry.jobs j WHERE id = ?
      """;

  private static final String ATTEMPTS =
      """
      SELECT attempt, outcome, worker_id, started_at, finished_at,
             round(extract(epoch FROM finished_at - started_at) * 1000) AS ms, error
      FROM ferry.job_attempts WHERE job_id = ? ORDER BY attempt
      """;

  @Parameters(paramLabel = "JOB_ID", description = "The job id.")
  UUID id;

  @Option(
      names = "--output",
      paramLabel = "FORMAT",
      defaultValue = "text",
      converter = Output.Converter.class,
      completionCandidates = Output.Names.class,
      description =
          "text (default) or json: one JSON document {\"job\": {...}, \"attempts\":"
              + " [...]} for scripts, with the whole payload and result.")
  Output output;

  @Override
  Set<SettingGroup> settingGroups() {
    return EnumSet.of(SettingGroup.DATABASE);
  }

  @Override
  public Integer call() throws Exception {
    try (Connection c = Sql.connect(config())) {
      return switch (output) {
        case TEXT -> printText(c);
        case JSON -> printJson(c);
      };
    }
  }

  private int printText(Connection c) throws SQLException {
    String truncated = "left(%s::text, " + TEXT_JSON_CHARS + ")";
    try (PreparedStatement ps =
        c.prepareStatement(
            JOB.formatted(truncated.formatted("payload"), truncated.formatted("result")))) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return notFound();
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
    try (PreparedStatement ps = c.prepareStatement(ATTEMPTS)) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        Sql.printTable(rs, 80);
      }
    }
    return 0;
  }

  private int printJson(Connection c) throws Exception {
    ArrayNode job;
    try (PreparedStatement ps =
        c.prepareStatement(JOB.formatted("payload::text", "result::text"))) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        job = Sql.jsonRows(rs, Set.of("payload", "result"));
      }
    }
    if (job.isEmpty()) {
      return notFound();
    }
    ObjectNode doc = FerryJson.object();
    doc.set("job", job.get(0));
    try (PreparedStatement ps = c.prepareStatement(ATTEMPTS)) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        doc.set("attempts", Sql.jsonRows(rs, Set.of()));
      }
    }
    Output.print(doc);
    return 0;
  }

  private int notFound() {
    System.err.println("ferry: no job with id " + id);
    return 1;
  }
}
