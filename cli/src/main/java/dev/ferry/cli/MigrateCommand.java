package dev.ferry.cli;

import com.zaxxer.hikari.HikariDataSource;
import dev.ferry.core.config.SettingGroup;
import dev.ferry.core.db.Databases;
import dev.ferry.migrations.Migrations;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(
    name = "migrate",
    mixinStandardHelpOptions = true,
    description = "Creates or upgrades the ferry schema in the configured database.")
final class MigrateCommand extends ConfigurableCommand implements Callable<Integer> {
  @Override
  Set<SettingGroup> settingGroups() {
    return EnumSet.of(SettingGroup.DATABASE, SettingGroup.DATABASE_POOL);
  }

  @Override
  public Integer call() {
    try (HikariDataSource ds = Databases.migrationPool(config(), "ferry-migrate")) {
      int n = Migrations.migrate(ds);
      System.out.println(
          n == 0 ? "Schema ferry is up to date." : "Applied " + n + " migration(s).");
    }
    return 0;
  }
}
