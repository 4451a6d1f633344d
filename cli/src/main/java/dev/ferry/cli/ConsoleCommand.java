package dev.ferry.cli;

import com.zaxxer.hikari.HikariDataSource;
import dev.ferry.console.ConsoleServer;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.SettingGroup;
import dev.ferry.core.db.Databases;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "console",
    mixinStandardHelpOptions = true,
    description = {
      "Serves the Ferry console (web UI and JSON API) until Ctrl-C.",
      "",
      "Overview, jobs with filters, job detail with retry and cancel, breakers, workers and",
      "rejected submissions, read from PostgreSQL (the schema must be migrated: ferry migrate).",
      "Listens on 127.0.0.1:9500 by default. Any other address needs a token",
      "(--console-auth-token or --console-auth-token-file): the API then takes",
      "'Authorization: Bearer <token>' and pages a login form. --console-readonly true removes",
      "every action. Retry and cancel publish their events on ferry.events like 'ferry retry'."
    })
final class ConsoleCommand extends ConfigurableCommand implements Callable<Integer> {
  @Option(names = "--host", description = "Address to listen on (same as --console-host).")
  String host;

  @Option(names = "--port", description = "Port to listen on, 0 for any (same as --console-port).")
  Integer port;

  @Override
  Set<SettingGroup> settingGroups() {
    return EnumSet.of(
        SettingGroup.CONSOLE,
        SettingGroup.DATABASE,
        SettingGroup.DATABASE_POOL,
        SettingGroup.KAFKA,
        SettingGroup.BREAKER);
  }

  @Override
  public Integer call() throws Exception {
    FerryConfig config = config();
    if (host != null) {
      config = config.with(Setting.CONSOLE_HOST, host);
    }
    if (port != null) {
      config = config.with(Setting.CONSOLE_PORT, String.valueOf(port));
    }
    config.validate();
    HikariDataSource db = Databases.pool(config, "ferry-console");
    ConsoleServer server;
    try {
      ConsoleServer.requireSchema(db);
      server = ConsoleServer.start(db, config);
    } catch (Exception e) {
      db.close();
      throw e;
    }
    System.out.println("Ferry console: " + server.url() + "  (Ctrl-C stops it)");
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.close();
                  db.close();
                  done.countDown();
                },
                "ferry-shutdown"));
    done.await();
    return 0;
  }
}
