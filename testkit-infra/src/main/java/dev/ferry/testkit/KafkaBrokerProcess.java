package dev.ferry.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kafka broker in a separate JVM ({@code kafka.Kafka server.properties}), so that tests can
 * {@link #kill()} it like a crashed machine and {@link #start()} it again on the same data
 * directory and ports: the data survives.
 */
public final class KafkaBrokerProcess implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KafkaBrokerProcess.class);

  private final KafkaBrokerConfig config;
  private final Path propertiesFile;
  private Process process;

  private KafkaBrokerProcess(KafkaBrokerConfig config) {
    this.config = config;
    this.propertiesFile = config.write();
  }

  /** Formats a fresh data directory; call {@link #start()} to run the broker. */
  public static KafkaBrokerProcess create() {
    try {
      Path dir = Files.createTempDirectory("ferry-kafka-proc-");
      KafkaBrokerConfig cfg =
          new KafkaBrokerConfig(dir, Ports.free(), Ports.free(), Uuid.randomUuid().toString());
      EmbeddedKafka.format(cfg);
      return new KafkaBrokerProcess(cfg);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String bootstrapServers() {
    return config.bootstrapServers();
  }

  /** Starts the broker JVM and waits until its port accepts connections. */
  public synchronized KafkaBrokerProcess start() {
    if (process != null && process.isAlive()) {
      return this;
    }
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd =
        List.of(
            java,
            "-Xmx512m",
            "-cp",
            System.getProperty("java.class.path"),
            "kafka.Kafka",
            propertiesFile.toString());
    try {
      process =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(
                  ProcessBuilder.Redirect.appendTo(config.dataDir().resolve("broker.log").toFile()))
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!accepts(config.brokerPort())) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "Kafka broker process did not start; see " + config.dataDir().resolve("broker.log"));
      }
      try {
        // Polling a TCP port: there is no event to wait on for another process's listener.
        process.waitFor(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while starting Kafka", e);
      }
    }
    log.info("Kafka broker process {} listening at {}", process.pid(), bootstrapServers());
    return this;
  }

  /** Kills the broker with SIGKILL, like a crash. */
  public synchronized void kill() {
    if (process != null) {
      process.destroyForcibly();
      try {
        process.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void close() {
    kill();
  }
}
