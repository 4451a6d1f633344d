package dev.ferry.testkit;

/**
 * Servers run by someone else: {@code FERRY_TEST_KAFKA} (bootstrap servers) and {@code
 * FERRY_TEST_DB_URL} (+ {@code FERRY_TEST_DB_USER}, {@code FERRY_TEST_DB_PASSWORD}), a user allowed
 * to create databases. Either may be combined with an embedded other half.
 */
final class ExternalInfra implements Infra {
  private final String bootstrap;
  private final String dbUrl;
  private final String dbUser;
  private final String dbPassword;
  private final EmbeddedKafka ownKafka;
  private final io.zonky.test.db.postgres.embedded.EmbeddedPostgres ownPostgres;

  ExternalInfra(String bootstrap, String dbUrl, String dbUser, String dbPassword) {
    this.ownKafka = bootstrap == null ? EmbeddedKafka.start() : null;
    this.bootstrap = bootstrap == null ? ownKafka.bootstrapServers() : bootstrap;
    this.ownPostgres = dbUrl == null ? EmbeddedInfra.startPostgres() : null;
    this.dbUrl = dbUrl == null ? ownPostgres.getJdbcUrl("postgres", "postgres") : dbUrl;
    this.dbUser = dbUrl == null ? "postgres" : dbUser;
    this.dbPassword = dbUrl == null ? "" : dbPassword;
  }

  @Override
  public String bootstrapServers() {
    return bootstrap;
  }

  @Override
  public TestDatabase newDatabase(String name) {
    PostgresAdmin.createDatabase(dbUrl, dbUser, dbPassword, name);
    return new TestDatabase(PostgresAdmin.withDatabase(dbUrl, name), dbUser, dbPassword);
  }

  @Override
  public String describe() {
    return "Kafka at " + bootstrap + ", PostgreSQL at " + dbUrl;
  }

  @Override
  public void close() {
    if (ownKafka != null) {
      ownKafka.close();
    }
    if (ownPostgres != null) {
      try {
        ownPostgres.close();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }
}
