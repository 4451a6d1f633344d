package dev.ferry.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Apache Kafka broker (KRaft, broker and controller in one node) running inside this JVM, on
 * loopback ports. Starts in a few seconds; for crash tests that need to kill the broker, use {@link
 * KafkaBrokerProcess} instead.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedKafka.class);

  private final KafkaBrokerConfig config;
  private final KafkaRaftServer server;

  private EmbeddedKafka(KafkaBrokerConfig config, KafkaRaftServer server) {
    this.config = config;
    this.server = server;
  }

  /** Formats a fresh data directory and starts a broker on free ports. */
  public static EmbeddedKafka start() {
    return start(0, Map.of());
  }

  /**
   * A broker that also has a SASL_PLAINTEXT listener taking PLAIN logins of {@code users} (name →
   * password); see {@link #saslBootstrapServers()}.
   */
  public static EmbeddedKafka startWithSasl(Map<String, String> users) {
    return start(Ports.free(), users);
  }

  private static EmbeddedKafka start(int saslPort, Map<String, String> users) {
    try {
      Path dir = Files.createTempDirectory("ferry-kafka-");
      KafkaBrokerConfig cfg =
          new KafkaBrokerConfig(
              dir, Ports.free(), Ports.free(), Uuid.randomUuid().toString(), saslPort, users);
      format(cfg);
      KafkaRaftServer server =
          new KafkaRaftServer(KafkaConfig.fromProps(cfg.properties(), false), Time.SYSTEM);
      server.startup();
      log.info("Embedded Kafka broker started at {}", cfg.bootstrapServers());
      return new EmbeddedKafka(cfg, server);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Formats the storage of a broker configuration (once per data directory). */
  static void format(KafkaBrokerConfig cfg) {
    Path file = cfg.write();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8)) {
      StorageTool.execute(
          new String[] {
            "format", "-t", cfg.clusterId(), "-c", file.toString(), "--ignore-formatted"
          },
          ps);
    } catch (Exception e) {
      throw new IllegalStateException(
          "formatting Kafka storage failed: " + out.toString(StandardCharsets.UTF_8), e);
    }
  }

  /** The {@code bootstrap.servers} of the SASL listener (when started with one). */
  public String saslBootstrapServers() {
    if (config.saslPort() == 0) {
      throw new IllegalStateException("this broker has no SASL listener");
    }
    return config.saslBootstrapServers();
  }

  /** The {@code bootstrap.servers} of this broker. */
  public String bootstrapServers() {
    return config.bootstrapServers();
  }

  @Override
  public void close() {
    server.shutdown();
    server.awaitShutdown();
  }
}
