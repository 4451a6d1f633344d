package dev.ferry.console;

import dev.ferry.core.breaker.BreakerSnapshot;
import dev.ferry.core.breaker.BreakerState;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Topics;
import dev.ferry.core.kafka.KafkaClients;
import dev.ferry.core.model.JobStatus;
import dev.ferry.orchestrator.OrchestratorSettings;
import dev.ferry.orchestrator.admin.AdminEvents;
import dev.ferry.orchestrator.admin.JobAdmin;
import dev.ferry.orchestrator.admin.Selection;
import dev.ferry.orchestrator.schedule.ScheduleAdmin;
import dev.ferry.worker.breaker.BreakerStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an operator does from the console: retry and cancel (one job or every job of a filter) with
 * the same guarded statements as {@code ferry retry|cancel}, and the breaker commands of {@code
 * ferry breakers}. Each changed job's event is published on {@code ferry.events}; Kafka being away
 * does not undo or block the change (it is logged).
 */
final class ConsoleActions implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ConsoleActions.class);

  /** Longest dependency name the breaker commands accept. */
  static final int MAX_DEPENDENCY_CHARS = 200;

  private final DataSource db;
  private final FerryConfig config;
  private final JobAdmin admin = new JobAdmin();
  private final BreakerStore breakers;
  private final ScheduleAdmin scheduleAdmin;
  private final String eventsTopic;
  private KafkaProducer<String, byte[]> producer;

  ConsoleActions(DataSource db, FerryConfig config) {
    this.db = db;
    this.config = config;
    this.breakers = new BreakerStore(config::breakerConfig);
    this.scheduleAdmin = new ScheduleAdmin(OrchestratorSettings.from(config));
    this.eventsTopic = Topics.withPrefix(config.topicPrefix()).events();
  }

  /** A count of what an action did or would do. */
  record Done(String action, int changed) {}

  Done retry(Selection s, int extraAttempts) throws SQLException {
    List<JobAdmin.Changed> changed;
    try (Connection c = db.getConnection()) {
      changed = admin.retry(c, s, extraAttempts);
    }
    publish(changed, JobStatus.PENDING, null);
    log.info("Console: re-drove {} job(s) ({})", changed.size(), describe(s));
    return new Done("retry", changed.size());
  }

  Done cancel(Selection s) throws SQLException {
    List<JobAdmin.Changed> changed;
    try (Connection c = db.getConnection()) {
      changed = admin.cancel(c, s);
    }
    publish(changed, JobStatus.CANCELLED, "cancelled by an operator");
    log.info("Console: cancelled {} job(s) ({})", changed.size(), describe(s));
    return new Done("cancel", changed.size());
  }

  JobAdmin.Counts count(Selection s) throws SQLException {
    try (Connection c = db.getConnection()) {
      return admin.count(c, s);
    }
  }

  /** {@code open} (optionally until {@code forMs} from now), {@code close} or {@code reset}. */
  BreakerSnapshot breaker(String dependency, String command, Long forMs) throws SQLException {
    if (dependency.isBlank() || dependency.length() > MAX_DEPENDENCY_CHARS) {
      throw new IllegalArgumentException(
          "a dependency name is 1 to " + MAX_DEPENDENCY_CHARS + " characters");
    }
    if (forMs != null && forMs < 1) {
      throw new IllegalArgumentException("'forMs' must be >= 1 but was " + forMs);
    }
    try (Connection c = db.getConnection()) {
      BreakerStore.Batch b =
          switch (command) {
            case "open" ->
                breakers.force(
                    c,
                    dependency,
                    BreakerState.OPEN,
                    forMs == null ? null : Instant.now().plusMillis(forMs));
            case "close" -> breakers.force(c, dependency, BreakerState.CLOSED, null);
            case "reset" -> breakers.reset(c, dependency);
            default ->
                throw new IllegalArgumentException(
                    "breaker commands are open, close and reset, not '" + command + "'");
          };
      log.info(
          "Console: breaker {} {} (now {})",
          dependency,
          command,
          b.snapshots().get(dependency).state());
      return b.snapshots().get(dependency);
    }
  }

  /** Every schedule. */
  List<ScheduleAdmin.Row> list() throws SQLException {
    try (Connection c = db.getConnection()) {
      return scheduleAdmin.list(c);
    }
  }

  /**
   * {@code pause}, {@code resume}, {@code delete} or {@code trigger} (which returns the new job's
   * id); null when there is no such schedule.
   */
  String schedule(String name, String command) throws Exception {
    try (Connection c = db.getConnection()) {
      String done =
          switch (command) {
            case "pause" -> scheduleAdmin.pause(c, name) ? "paused" : null;
            case "resume" -> scheduleAdmin.resume(c, name) ? "resumed" : null;
            case "delete" -> scheduleAdmin.delete(c, name) ? "deleted" : null;
            case "trigger" -> {
              UUID id = scheduleAdmin.trigger(c, name);
              yield id == null ? null : id.toString();
            }
            default ->
                throw new IllegalArgumentException(
                    "schedule commands are pause, resume, delete and trigger, not '"
                        + command
                        + "'");
          };
      if (done != null) {
        log.info("Console: schedule {} {}", name, command);
      }
      return done;
    }
  }

  private static String describe(Selection s) {
    return s.ids().size() == 1 ? "job " + s.ids().get(0) : "filter " + s;
  }

  private void publish(List<JobAdmin.Changed> changed, JobStatus status, String error) {
    if (changed.isEmpty()) {
      return;
    }
    KafkaProducer<String, byte[]> p;
    try {
      p = producer();
    } catch (RuntimeException e) {
      log.warn("Jobs were changed, but their events cannot be published: {}", e.toString());
      return;
    }
    for (ProducerRecord<String, byte[]> r : AdminEvents.of(eventsTopic, changed, status, error)) {
      var unused =
          p.send(
              r,
              (md, e) -> {
                if (e != null) {
                  log.warn("Event of job {} was not published: {}", r.key(), e.toString());
                }
              });
    }
  }

  private synchronized KafkaProducer<String, byte[]> producer() {
    if (producer == null) {
      // An unreachable Kafka must not hold an operator's request: give up on a send after 5 s.
      producer =
          KafkaClients.producer(
              config.withKafka("max.block.ms", "5000"), "ferry-console-" + UUID.randomUUID());
    }
    return producer;
  }

  @Override
  public synchronized void close() {
    if (producer != null) {
      producer.close(java.time.Duration.ofSeconds(5));
    }
  }
}
