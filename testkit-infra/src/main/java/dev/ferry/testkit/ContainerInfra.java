package dev.ferry.testkit;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.kafka.KafkaContainer;

/** Kafka and PostgreSQL in Docker containers, through Testcontainers. */
final class ContainerInfra implements Infra {
  private final KafkaContainer kafka;
  private final PostgreSQLContainer<?> postgres;

  private ContainerInfra(KafkaContainer kafka, PostgreSQLContainer<?> postgres) {
    this.kafka = kafka;
    this.postgres = postgres;
  }

  static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  static ContainerInfra start() {
    KafkaContainer kafka = new KafkaContainer("apache/kafka:4.0.0");
    PostgreSQLContainer<?> postgres = new PostgreSQLContainer<>("postgres:17");
    kafka.start();
    postgres.start();
    return new ContainerInfra(kafka, postgres);
  }

  @Override
  public String bootstrapServers() {
    return kafka.getBootstrapServers();
  }

  @Override
  public TestDatabase newDatabase(String name) {
    PostgresAdmin.createDatabase(
        postgres.getJdbcUrl(), postgres.getUsername(), postgres.getPassword(), name);
    return new TestDatabase(
        PostgresAdmin.withDatabase(postgres.getJdbcUrl(), name),
        postgres.getUsername(),
        postgres.getPassword());
  }

  @Override
  public String describe() {
    return "Testcontainers Kafka at "
        + bootstrapServers()
        + ", PostgreSQL at "
        + postgres.getJdbcUrl();
  }

  @Override
  public void close() {
    kafka.stop();
    postgres.stop();
  }
}
