package dev.ferry.devtools;

import com.zaxxer.hikari.HikariDataSource;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.db.Databases;
import dev.ferry.migrations.Migrations;
import dev.ferry.testkit.FerryInfra;
import dev.ferry.testkit.Infra;
import dev.ferry.testkit.TestDatabase;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "dev",
    mixinStandardHelpOptions = true,
    description = {
      "Runs embedded Kafka and PostgreSQL for local development.",
      "",
      "Prints their addresses as FERRY_* variables to export; runs until Ctrl-C."
    })
public final class DevCommand implements Callable<Integer> {
  @Option(
      names = "--console-port",
      defaultValue = "9500",
      description = "Port of the console on 127.0.0.1 (default ${DEFAULT-VALUE}; 0 = any free).")
  int consolePort;

  @Option(names = "--no-console", description = "Do not serve the console.")
  boolean noConsole;

  @Override
  public Integer call() throws Exception {
    System.out.println("Starting embedded Kafka and PostgreSQL…");
    try (CtrlC ctrlC = new CtrlC();
        Infra infra = FerryInfra.start(Map.of())) {
      TestDatabase db = infra.newDatabase("ferry");
      FerryConfig config =
          FerryConfig.defaults()
              .with(Setting.KAFKA_BOOTSTRAP_SERVERS, infra.bootstrapServers())
              .with(Setting.DB_URL, db.url())
              .with(Setting.DB_USER, db.user())
              .with(Setting.DB_PASSWORD, db.password());
      try (HikariDataSource ds = Databases.migrationPool(config, "ferry-dev-migrate")) {
        Migrations.migrate(ds);
      }
      try (ConsoleHold console = noConsole ? null : ConsoleHold.start(config, consolePort)) {
        System.out.println();
        System.out.println("Ready. In another terminal:");
        System.out.println("  export FERRY_KAFKA_BOOTSTRAP_SERVERS=" + infra.bootstrapServers());
        System.out.println("  export FERRY_DB_URL='" + db.url() + "'");
        System.out.println("  export FERRY_DB_USER=" + db.user());
        System.out.println("  export FERRY_DB_PASSWORD='" + db.password() + "'");
        System.out.println("  ./ferry orchestrator &  ./ferry worker &");
        System.out.println("  ./ferry submit --type echo --payload '{\"hello\":\"world\"}'");
        if (console != null) {
          System.out.println();
          System.out.println("Console: " + console.url());
        }
        System.out.println();
        System.out.println("Press Ctrl-C to stop (data is discarded).");
        ctrlC.await();
      }
    }
    return 0;
  }
}
