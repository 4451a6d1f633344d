package dev.ferry.testkit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.Topics;
import dev.ferry.orchestrator.Orchestrator;
import dev.ferry.worker.Worker;
import dev.ferry.worker.api.JobHandler;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A whole Ferry installation in one JVM: real Kafka and PostgreSQL (embedded by default, or
 * containers or external servers, see {@link FerryInfra}), one orchestrator and some workers
 * running the handlers you give. For handler authors' tests, the demo and the benchmarks.
 *
 * <pre>{@code
 * try (LocalCluster ferry = LocalCluster.start("my_test", 1, c -> c, List.of(new MyHandler()))) {
 *   UUID id = ferry.submit("{\"type\":\"greet\",\"payload\":{\"name\":\"Ada\"}}");
 *   LocalCluster.Job job = ferry.awaitFinished(id, Duration.ofSeconds(30));
 *   assertThat(job.status()).isEqualTo("SUCCEEDED");
 * }
 * }</pre>
 */
public final class LocalCluster implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> FINISHED = Set.of("SUCCEEDED", "FAILED", "CANCELLED");

  /** How often {@link #awaitFinished} looks at the job. */
  private static final Duration POLL_INTERVAL = Duration.ofMillis(50);

  private final Infra infra;
  private final FerryConfig config;
  private final Orchestrator orchestrator;
  private final List<Worker> workers = new ArrayList<>();
  private KafkaProducer<byte[], byte[]> producer;

  /** A job as {@code ferry.jobs} holds it. */
  public record Job(UUID id, String status, int attempts, String result, String lastError) {}

  private LocalCluster(Infra infra, FerryConfig config, Orchestrator orchestrator) {
    this.infra = infra;
    this.config = config;
    this.orchestrator = orchestrator;
  }

  /**
   * Starts infrastructure chosen from the environment ({@link FerryInfra#start}), a database named
   * {@code dbName}, an orchestrator and {@code workers} workers.
   *
   * @param tune adjusts the configuration before anything starts
   * @param handlers handlers of your own, next to the built-ins and ServiceLoader ones
   */
  public static LocalCluster start(
      String dbName, int workers, UnaryOperator<FerryConfig> tune, List<JobHandler> handlers) {
    return start(FerryInfra.start(System.getenv()), dbName, workers, tune, handlers);
  }

  /**
   * As {@link #start(String, int, UnaryOperator, List)} on the given infrastructure (closed with
   * the cluster).
   */
  public static LocalCluster start(
      Infra infra,
      String dbName,
      int workers,
      UnaryOperator<FerryConfig> tune,
      List<JobHandler> handlers) {
    try {
      TestDatabase db = infra.newDatabase(dbName);
      FerryConfig config =
          tune.apply(
              FerryConfig.defaults()
                  .with(Setting.KAFKA_BOOTSTRAP_SERVERS, infra.bootstrapServers())
                  .with(Setting.DB_URL, db.url())
                  .with(Setting.DB_USER, db.user())
                  .with(Setting.DB_PASSWORD, db.password())
                  // Several processes' worth of parts in one JVM: any free health port each.
                  .with(Setting.HEALTH_PORT, "0"));
      LocalCluster c = new LocalCluster(infra, config, Orchestrator.start(config));
      try {
        for (int i = 0; i < workers; i++) {
          c.workers.add(
              Worker.start(config.with(Setting.WORKER_ID, "worker-" + (i + 1)), handlers));
        }
      } catch (RuntimeException e) {
        c.close();
        throw e;
      }
      return c;
    } catch (RuntimeException e) {
      infra.close();
      throw e;
    }
  }

  /** The configuration every part runs with (Kafka, database, topics). */
  public FerryConfig config() {
    return config;
  }

  public List<Worker> workers() {
    return workers;
  }

  /**
   * Submits one job as a user does: its JSON on the submissions topic, acknowledged by Kafka. An
   * {@code id} is added when the JSON has none, except to a schedule definition (a {@code schedule}
   * field), which creates no job now.
   *
   * @return the job's id, or null for a schedule definition
   */
  public UUID submit(String json) {
    ObjectNode submission;
    try {
      submission = (ObjectNode) JSON.readTree(json);
    } catch (JsonProcessingException | ClassCastException e) {
      throw new IllegalArgumentException(
          "a submission is a JSON object; use submitRaw for" + " anything else: " + e.getMessage(),
          e);
    }
    if (submission.has("schedule")) {
      // Defines a schedule: no job now, and a schedule takes no id (its ticks' jobs get theirs).
      submitRaw(submission.toString().getBytes(StandardCharsets.UTF_8));
      return null;
    }
    if (!submission.hasNonNull("id")) {
      submission.put("id", UUID.randomUUID().toString());
    }
    submitRaw(submission.toString().getBytes(StandardCharsets.UTF_8));
    return UUID.fromString(submission.get("id").asText());
  }

  /**
   * Produces any bytes to the submissions topic (e.g. to test rejection), acknowledged by Kafka.
   */
  public void submitRaw(byte[] value) {
    try {
      producer()
          .send(new ProducerRecord<>(Topics.withPrefix(config.topicPrefix()).submit(), value))
          .get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while submitting", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("Kafka refused the submission: " + e.getCause(), e);
    }
  }

  /** The job as it is now, or null if the orchestrator has not recorded it (yet). */
  public Job job(UUID id) {
    try (Connection c = connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT status, attempts, result::text AS result, last_error FROM ferry.jobs"
                    + " WHERE id = ?")) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next()
            ? new Job(
                id,
                rs.getString("status"),
                rs.getInt("attempts"),
                rs.getString("result"),
                rs.getString("last_error"))
            : null;
      }
    } catch (SQLException e) {
      throw new IllegalStateException("could not read job " + id + ": " + e.getMessage(), e);
    }
  }

  /**
   * Waits until the job is SUCCEEDED, FAILED or CANCELLED and returns it.
   *
   * @throws AssertionError if it is not finished within {@code timeout} (with its last state)
   */
  public Job awaitFinished(UUID id, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Job job = job(id);
      if (job != null && FINISHED.contains(job.status())) {
        return job;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("job " + id + " not finished after " + timeout + ": " + job);
      }
      // Polling the database, as an operator's SQL would.
      Thread.sleep(POLL_INTERVAL.toMillis());
    }
  }

  /** A new connection to Ferry's database (the caller closes it). */
  public Connection connect() throws SQLException {
    return DriverManager.getConnection(
        config.get(Setting.DB_URL), config.get(Setting.DB_USER), config.get(Setting.DB_PASSWORD));
  }

  private synchronized KafkaProducer<byte[], byte[]> producer() {
    if (producer == null) {
      Properties p = new Properties();
      p.putAll(config.kafkaProperties());
      p.put("acks", "all");
      producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }
    return producer;
  }

  @Override
  public void close() {
    synchronized (this) {
      if (producer != null) {
        producer.close(Duration.ofSeconds(5));
      }
    }
    for (Worker w : workers) {
      w.close();
    }
    orchestrator.close();
    infra.close();
  }
}
