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
    return start(false);
  }

  /**
   * @param durable run PostgreSQL as in production ({@code fsync}, {@code synchronous_commit} and
   *     {@code full_page_writes} on) instead of the fast test settings
   */
  static EmbeddedInfra start(boolean durable) {
    EmbeddedPostgres pg = startPostgres(durable);
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
    return startPostgres(false);
  }

  static EmbeddedPostgres startPostgres(boolean durable) {
    String onOff = durable ? "on" : "off";
    try {
      return EmbeddedPostgres.builder()
          .setServerConfig("max_connections", "300")
          .setServerConfig("fsync", onOff)
          .setServerConfig("synchronous_commit", onOff)
          .setServerConfig("full_page_writes", onOff)
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
    // Not getJdbcUrl(user, db): its "?user=" parameter would override any other user a test
    // connects as (the driver prefers the URL's), e.g. a restricted role.
    return new TestDatabase(
        "jdbc:postgresql://localhost:" + postgres.getPort() + "/" + name, "postgres", "");
  }

  @Override
  public String describe() {
    return "embedded Kafka at "
        + bootstrapServers()
        + ", embedded PostgreSQL on port "
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
