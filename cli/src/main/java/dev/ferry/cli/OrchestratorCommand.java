package dev.ferry.cli;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.SettingGroup;
import dev.ferry.orchestrator.Orchestrator;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "orchestrator",
    mixinStandardHelpOptions = true,
    description = {
      "Runs an orchestrator (intake, dispatch, outcome applier).",
      "",
      "Consumes ferry.submit into Postgres, dispatches due jobs to ferry.work and applies",
      "outcomes from ferry.results. Migrates the database first unless --no-migrate.",
      "Stops cleanly on SIGTERM / Ctrl-C."
    })
final class OrchestratorCommand extends ConfigurableCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(OrchestratorCommand.class);

  @Option(names = "--no-migrate", description = "Do not run database migrations at start.")
  boolean noMigrate;

  @Override
  Set<SettingGroup> settingGroups() {
    return EnumSet.of(
        SettingGroup.DATABASE,
        SettingGroup.DATABASE_POOL,
        SettingGroup.KAFKA,
        SettingGroup.SUBMISSIONS,
        SettingGroup.JOB_DEFAULTS,
        SettingGroup.ORCHESTRATOR,
        SettingGroup.RETENTION,
        SettingGroup.PROCESS);
  }

  @Override
  public Integer call() throws InterruptedException {
    FerryConfig config = config();
    if (noMigrate) {
      config = config.with(Setting.ORCHESTRATOR_MIGRATE, "false");
    }
    log.info("Starting orchestrator with {}", config.describe());
    Orchestrator o = Orchestrator.start(config);
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  o.close();
                  done.countDown();
                },
                "ferry-shutdown"));
    done.await();
    return 0;
  }
}
