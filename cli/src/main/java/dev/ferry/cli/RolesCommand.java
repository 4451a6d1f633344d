package dev.ferry.cli;

import dev.ferry.core.config.SettingGroup;
import dev.ferry.migrations.Roles;
import java.sql.Connection;
import java.sql.Statement;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "roles",
    mixinStandardHelpOptions = true,
    description = {
      "Prints (or applies) the SQL that creates least-privilege database roles.",
      "",
      "One role for orchestrators and one for workers.",
      "The schema's owner runs `ferry migrate`; orchestrators then run as the orchestrator role",
      "with --no-migrate, workers as the worker role. With --apply the SQL runs on the",
      "configured database as the configured user (the schema's owner)."
    })
final class RolesCommand extends ConfigurableCommand implements Callable<Integer> {
  @Option(
      names = "--orchestrator-role",
      paramLabel = "NAME",
      defaultValue = "ferry_orchestrator",
      description = "Role of orchestrators (default: ${DEFAULT-VALUE}).")
  String orchestratorRole;

  @Option(
      names = "--worker-role",
      paramLabel = "NAME",
      defaultValue = "ferry_worker",
      description = "Role of workers (default: ${DEFAULT-VALUE}).")
  String workerRole;

  @Option(names = "--apply", description = "Run the SQL instead of printing it.")
  boolean apply;

  @Override
  Set<SettingGroup> settingGroups() {
    return EnumSet.of(SettingGroup.DATABASE);
  }

  @Override
  public Integer call() throws Exception {
    String sql;
    try {
      sql = Roles.sql(orchestratorRole, workerRole);
    } catch (IllegalArgumentException e) {
      System.err.println("ferry roles: " + e.getMessage());
      return 2;
    }
    if (!apply) {
      System.out.print(sql);
      return 0;
    }
    try (Connection c = Sql.connect(config());
        Statement st = c.createStatement()) {
      st.execute(sql);
    }
    System.out.println(
        "Roles "
            + orchestratorRole
            + " and "
            + workerRole
            + " exist with Ferry's grants. Give them passwords (ALTER ROLE … PASSWORD …).");
    return 0;
  }
}
