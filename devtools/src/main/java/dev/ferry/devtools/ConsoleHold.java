package dev.ferry.devtools;

import com.zaxxer.hikari.HikariDataSource;
import dev.ferry.console.ConsoleServer;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.db.Databases;

/** The console of a development stack ({@code ferry dev}, {@code ferry demo --console}). */
final class ConsoleHold implements AutoCloseable {
  private final HikariDataSource db;
  private final ConsoleServer server;

  private ConsoleHold(HikariDataSource db, ConsoleServer server) {
    this.db = db;
    this.server = server;
  }

  /** Serves the console of {@code config}'s database on {@code port} (migrated already). */
  static ConsoleHold start(FerryConfig config, int port) {
    FerryConfig c = config.with(Setting.CONSOLE_PORT, String.valueOf(port));
    HikariDataSource db = Databases.pool(c, "ferry-console");
    try {
      return new ConsoleHold(db, ConsoleServer.start(db, c));
    } catch (RuntimeException e) {
      db.close();
      throw e;
    }
  }

  String url() {
    return server.url();
  }

  @Override
  public void close() {
    server.close();
    db.close();
  }
}
