package dev.ferry.core.health;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.json.FerryJson;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the two things every Ferry process needs, PostgreSQL and Kafka, from a thread of its own:
 * every couple of seconds it checks a dedicated database connection and asks the Kafka cluster to
 * describe itself, both with short timeouts. Each change is logged once ("database down: …",
 * "database back after 12.3 s") and shown by the health endpoint, so an operator sees what is
 * missing; the processes themselves keep running and reconnect on their own.
 */
public final class InfraProbe implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(InfraProbe.class);

  /** What a probe last saw of one part. */
  public record Status(boolean up, String error, Instant since) {}

  private final FerryConfig config;
  private final Duration every;
  private final Map<String, Status> parts = new ConcurrentHashMap<>();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final Thread thread;
  private Admin admin;
  private Connection connection;

  public InfraProbe(FerryConfig config, Duration every) {
    this.config = config;
    this.every = every;
    Instant now = Instant.now();
    parts.put("database", new Status(false, "not checked yet", now));
    parts.put("kafka", new Status(false, "not checked yet", now));
    this.thread = Thread.ofPlatform().name("ferry-probe").daemon().unstarted(this::loop);
  }

  public InfraProbe start() {
    thread.start();
    return this;
  }

  public boolean databaseUp() {
    return parts.get("database").up();
  }

  public boolean kafkaUp() {
    return parts.get("kafka").up();
  }

  /** Both parts up. */
  public boolean allUp() {
    return databaseUp() && kafkaUp();
  }

  /** {@code {"database": {"up": true, "since": …}, "kafka": {…}}}. */
  public ObjectNode describe() {
    ObjectNode n = FerryJson.object();
    parts.forEach(
        (name, s) -> {
          ObjectNode p = n.putObject(name);
          p.put("up", s.up());
          p.put("since", s.since().toString());
          if (s.error() != null) {
            p.put("error", s.error());
          }
        });
    return n;
  }

  private void loop() {
    try {
      do {
        record("database", checkDatabase());
        record("kafka", checkKafka());
      } while (!stopped.await(every.toMillis(), TimeUnit.MILLISECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      closeQuietly();
    }
  }

  private void record(String part, String error) {
    Status before = parts.get(part);
    boolean up = error == null;
    if (up == before.up() && (up || error.equals(before.error()))) {
      return;
    }
    Instant now = Instant.now();
    parts.put(part, new Status(up, error, up == before.up() ? before.since() : now));
    double secs = Duration.between(before.since(), now).toMillis() / 1000.0;
    boolean firstCheck = "not checked yet".equals(before.error());
    if (up && !firstCheck) {
      log.info("{} is back (unavailable for {} s)", part, String.format("%.1f", secs));
    } else if (!up && before.up()) {
      log.warn("{} is unavailable: {}", part, error);
    } else if (!up && firstCheck) {
      log.warn("{} is not reachable yet: {}", part, error);
    }
  }

  private String checkDatabase() {
    try {
      if (connection == null || !connection.isValid(2)) {
        closeConnection();
        Properties p = new Properties();
        p.setProperty("user", config.get(Setting.DB_USER));
        p.setProperty("password", config.get(Setting.DB_PASSWORD));
        p.setProperty("connectTimeout", "2");
        p.setProperty("socketTimeout", "5");
        p.setProperty("ApplicationName", "ferry-probe");
        connection = DriverManager.getConnection(config.getRequired(Setting.DB_URL), p);
        if (!connection.isValid(2)) {
          return "connection not valid";
        }
      }
      return null;
    } catch (SQLException | RuntimeException e) {
      closeConnection();
      return e.getMessage() == null ? e.toString() : e.getMessage();
    }
  }

  private String checkKafka() {
    try {
      if (admin == null) {
        Properties p = new Properties();
        p.putAll(config.kafkaProperties());
        p.put("client.id", "ferry-probe");
        p.putIfAbsent("reconnect.backoff.max.ms", "2000");
        admin = Admin.create(p);
      }
      int nodes =
          admin
              .describeCluster(new DescribeClusterOptions().timeoutMs(3000))
              .nodes()
              .get(4, TimeUnit.SECONDS)
              .size();
      return nodes > 0 ? null : "no brokers";
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      return cause.getClass().getSimpleName() + ": " + cause.getMessage();
    }
  }

  private void closeConnection() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException ignored) {
        // a broken connection; nothing to do
      }
      connection = null;
    }
  }

  private void closeQuietly() {
    closeConnection();
    if (admin != null) {
      admin.close(Duration.ofSeconds(2));
    }
  }

  @Override
  public void close() {
    stopped.countDown();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
