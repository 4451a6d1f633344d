package dev.ferry.testkit;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;

/** An in-process Kafka broker and an embedded PostgreSQL 17 server (real binaries). */
final class EmbeddedInfra implements Infra {
  private final EmbeddedKafka kafka;
  private final EmbeddedPostgres postgres;

  private EmbeddedInfra(EmbeddedKafka kafka, EmbeddedPostgres postgres) {
    this.kafka = kafka;
    this.postgres = postgres;
  }

  static EmbeddedInfra start() {
    EmbeddedPostgres pg = startPostgres();
    try {
      return new EmbeddedInfra(EmbeddedKafka.start(), pg);
    } catch (RuntimeException e) {
      try {
        pg.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  static EmbeddedPostgres startPostgres() {
    try {
      return EmbeddedPostgres.builder()
          .setServerConfig("max_connections", "300")
          .setServerConfig("fsync", "off")
          .setServerConfig("synchronous_commit", "off")
          .setServerConfig("full_page_writes", "off")
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start embedded PostgreSQL", e);
    }
  }

  @Override
  public String bootstrapServers() {
    return kafka.bootstrapServers();
  }

  @Override
  public TestDatabase newDatabase(String name) {
    String admin = postgres.getJdbcUrl("postgres", "postgres");
    PostgresAdmin.createDatabase(admin, "postgres", "", name);
    return new TestDatabase(postgres.getJdbcUrl("postgres", name), "postgres", "");
  }

  @Override
  public String describe() {
    return "embedded Kafka at " + bootstrapServers() + ", embedded PostgreSQL on port "
        + postgres.getPort();
  }

  @Override
  public void close() {
    kafka.close();
    try {
      postgres.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
