package dev.ferry.testkit;

/**
 * A Kafka broker and a PostgreSQL server for tests, demos and benchmarks: embedded real servers by
 * default, Testcontainers when {@code FERRY_TEST_INFRA=containers} and a Docker engine is present,
 * or external servers from {@code FERRY_TEST_KAFKA} / {@code FERRY_TEST_DB_URL}.
 */
public interface Infra extends AutoCloseable {
  /** {@code bootstrap.servers} of the broker. */
  String bootstrapServers();

  /** Creates a new, empty database and returns how to reach it. */
  TestDatabase newDatabase(String name);

  /** What kind of infrastructure this is, for logs. */
  String describe();

  @Override
  void close();
}
