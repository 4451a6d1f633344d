package dev.ferry.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.core.config.SettingGroup;
import dev.ferry.core.json.FerryJson;
import dev.ferry.core.model.JobStatus;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

@Command(
    name = "jobs",
    mixinStandardHelpOptions = true,
    description = "Lists recent jobs, newest first, optionally by status, type or parent.")
final class JobsCommand extends ConfigurableCommand implements Callable<Integer> {
  @Option(names = "--status", description = "Only jobs in this status (${COMPLETION-CANDIDATES}).")
  JobStatus status;

  @Option(names = "--type", description = "Only jobs of this type.")
  String type;

  @Option(names = "--parent", description = "Only the children of this job.")
  java.util.UUID parent;

  @Option(
      names = "--limit",
      defaultValue = "50",
      description = "Most rows (default ${DEFAULT-VALUE}).")
  int limit;

  @Option(
      names = "--output",
      paramLabel = "FORMAT",
      defaultValue = "text",
      converter = Output.Converter.class,
      completionCandidates = Output.Names.class,
      description = "text (default) or json: one JSON document {\"jobs\": [...]} for scripts.")
  Output output;

  @Override
  Set<SettingGroup> settingGroups() {
    return EnumSet.of(SettingGroup.DATABASE);
  }

  @Override
  public Integer call() throws Exception {
    if (limit < 1) {
      throw new ParameterException(spec.commandLine(), "--limit must be >= 1 but was " + limit);
    }
    try (Connection c = Sql.connect(config());
        PreparedStatement ps =
            c.prepareStatement(
                """
            SELECT id, type, status, attempts, max_attempts AS max, next_run_at, updated_at,
                   ferry.waiting_for(j) AS waiting_for, last_error
            FROM ferry.jobs j
            WHERE (?::text IS NULL OR status = ?) AND (?::text IS NULL OR type = ?)
              AND (?::uuid IS NULL OR parent_id = ?::uuid)
            ORDER BY created_at DESC LIMIT ?
            """)) {
      String s = status == null ? null : status.name();
      ps.setString(1, s);
      ps.setString(2, s);
      ps.setString(3, type);
      ps.setString(4, type);
      ps.setObject(5, parent);
      ps.setObject(6, parent);
      ps.setInt(7, limit);
      try (ResultSet rs = ps.executeQuery()) {
        switch (output) {
          case TEXT -> {
            int n = Sql.printTable(rs, 60);
            System.out.println("(" + n + " jobs)");
          }
          case JSON -> {
            ObjectNode doc = FerryJson.object();
            doc.set("jobs", Sql.jsonRows(rs, Set.of()));
            Output.print(doc);
          }
        }
      }
    }
    return 0;
  }
}
