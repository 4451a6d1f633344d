package dev.ferry.testkit;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A PostgreSQL server of its own (real binaries, as in {@link EmbeddedInfra}) on a fixed port and
 * data directory, that a test can stop and start again to play a database outage or restart; its
 * data survives. Used by the outage and chaos tests, which must not take the shared server down.
 */
public final class PostgresProcess implements AutoCloseable {
  private final Path dataDir;
  private final int port;
  private EmbeddedPostgres postgres;

  private PostgresProcess(Path dataDir, int port) {
    this.dataDir = dataDir;
    this.port = port;
  }

  /** Starts a fresh server on a free port. */
  public static PostgresProcess start() {
    try {
      PostgresProcess p =
          new PostgresProcess(Files.createTempDirectory("ferry-pg-proc-"), Ports.free());
      p.restart();
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts the server again on the same port and data (no-op when it runs). */
  public synchronized PostgresProcess restart() {
    if (postgres != null) {
      return this;
    }
    try {
      postgres =
          EmbeddedPostgres.builder()
              .setDataDirectory(dataDir)
              .setCleanDataDirectory(false)
              .setPort(port)
              .setServerConfig("max_connections", "300")
              .setServerConfig("fsync", "off")
              .setServerConfig("synchronous_commit", "off")
              .setServerConfig("full_page_writes", "off")
              .start();
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start PostgreSQL on port " + port, e);
    }
  }

  /** Shuts the server down (connections are cut); {@link #restart()} brings it back. */
  public synchronized void stop() {
    if (postgres != null) {
      try {
        postgres.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } finally {
        postgres = null;
      }
    }
  }

  /** A new database on this server, owned by {@code postgres}. */
  public TestDatabase newDatabase(String name) {
    PostgresAdmin.createDatabase(url("postgres"), "postgres", "", name);
    return new TestDatabase(url(name), "postgres", "");
  }

  public String url(String database) {
    return "jdbc:postgresql://localhost:" + port + "/" + database;
  }

  public int port() {
    return port;
  }

  @Override
  public void close() {
    stop();
  }
}
