package dev.ferry.orchestrator;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariDataSource;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.db.Databases;
import dev.ferry.core.health.HealthServer;
import dev.ferry.core.health.InfraProbe;
import dev.ferry.core.health.Startup;
import dev.ferry.core.json.FerryJson;
import dev.ferry.core.kafka.KafkaClients;
import dev.ferry.core.metrics.FerryMetrics;
import dev.ferry.migrations.Migrations;
import dev.ferry.orchestrator.apply.OutcomeApplier;
import dev.ferry.orchestrator.dispatch.Dispatcher;
import dev.ferry.orchestrator.intake.Intake;
import dev.ferry.orchestrator.loop.BatchConsumerLoop;
import dev.ferry.orchestrator.metrics.OrchestratorMetrics;
import dev.ferry.orchestrator.rescue.Rescuer;
import dev.ferry.orchestrator.retention.Pruner;
import dev.ferry.orchestrator.store.JobStore;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One orchestrator process: intake ({@code ferry.submit} → Postgres), dispatcher (due jobs → {@code
 * ferry.work}) and outcome applier ({@code ferry.results} → Postgres, {@code ferry.events}). Any
 * number may run against the same database and topics.
 */
public final class Orchestrator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Orchestrator.class);

  /** The health server's port when {@code health.port} is not set: 9400. */
  private static final int DEFAULT_HEALTH_PORT = 9400;

  /** Smallest {@code max.message.bytes} of the submit and DLQ topics: 1 MiB. */
  private static final int MIN_SUBMIT_TOPIC_BYTES = 1 << 20;

  /** Room above {@code submit.max.bytes} on those topics for keys, headers and framing: 4 KiB. */
  private static final int SUBMIT_RECORD_OVERHEAD = 4096;

  /** How long creating missing topics may take per try: 10 s. */
  private static final Duration TOPIC_SETUP_TIMEOUT = Duration.ofSeconds(10);

  /** How often the infrastructure probe checks the database and Kafka: 2 s. */
  private static final Duration PROBE_INTERVAL = Duration.ofSeconds(2);

  /** How long closing a producer may take to send what it still holds: 10 s. */
  private static final Duration PRODUCER_CLOSE_TIMEOUT = Duration.ofSeconds(10);

  private final HikariDataSource dataSource;
  private final KafkaProducer<String, byte[]> producer;

  /** The dispatcher's own producer: it flushes after each claimed batch. */
  private final KafkaProducer<String, byte[]> dispatchProducer;

  /** Intake's own producer (work items and DLQ records): it flushes after each batch. */
  private final KafkaProducer<String, byte[]> intakeProducer;

  private final BatchConsumerLoop intakeLoop;

  /** Outcome appliers: consumers in one group, so each handles some partitions of results. */
  private final List<BatchConsumerLoop> applierLoops = new java.util.ArrayList<>();

  private final Dispatcher dispatcher;
  private final dev.ferry.orchestrator.schedule.Scheduler scheduler;
  private final Rescuer rescuer;

  /** Null when retention is off ({@code retention.ms} = 0). */
  private final Pruner pruner;

  private final InfraProbe probe;
  private final String id;
  private final FerryMetrics metrics;
  private HealthServer health;

  private Orchestrator(FerryConfig config) {
    // Every setting and per-type override is checked before anything connects: a bad one stops
    // the process here, not the intake loop at the first job of that type.
    config.validate();
    OrchestratorSettings s = OrchestratorSettings.from(config);
    this.id = "orchestrator-" + UUID.randomUUID().toString().substring(0, 8);
    this.metrics = new FerryMetrics("orchestrator", id);
    OrchestratorMetrics meters =
        new OrchestratorMetrics(metrics.registry(), config.getInt(Setting.METRICS_MAX_TAGS));
    this.dataSource = Databases.pool(config, "ferry-" + id, metrics.registry());
    Duration startup = Duration.ofMillis(config.getInt(Setting.STARTUP_TIMEOUT_MS));
    try {
      if (s.migrate()) {
        int applied;
        // Without the pool's statement and socket timeouts: an index build may take minutes.
        try (HikariDataSource migrations = Databases.migrationPool(config, "ferry-migrate-" + id)) {
          applied =
              Startup.retry("Database migrations", startup, () -> Migrations.migrate(migrations));
        }
        log.info("Database schema up to date ({} migrations applied)", applied);
      }
      List<FerryConfig.LimitDefaults> limitDefaults = config.limitDefaults();
      if (!limitDefaults.isEmpty()) {
        int seeded =
            Startup.retry(
                "Dependency limits",
                startup,
                () -> {
                  try (java.sql.Connection c = dataSource.getConnection()) {
                    return new dev.ferry.orchestrator.flow.LimitsStore().seed(c, limitDefaults);
                  }
                });
        log.info(
            "Dependency limits from the configuration: {} given, {} new rows"
                + " (existing rows are the live truth: ferry limits set)",
            limitDefaults.size(),
            seeded);
      }
      // Submissions (a fan-out can be large) and the DLQ that keeps them take records up to
      // submit.max.bytes.
      String maxBytes =
          String.valueOf(
              Math.max(MIN_SUBMIT_TOPIC_BYTES, s.limits().maxBytes() + SUBMIT_RECORD_OVERHEAD));
      Startup.retry(
          "Kafka topics",
          startup,
          () -> {
            KafkaClients.ensureTopics(
                config,
                List.of(
                    s.topics().submit(),
                    s.topics().work(),
                    s.topics().workUrgent(),
                    s.topics().results(),
                    s.topics().events(),
                    s.topics().dlq()),
                Map.of(
                    s.topics().submit(),
                    Map.of("max.message.bytes", maxBytes),
                    s.topics().dlq(),
                    Map.of("max.message.bytes", maxBytes)),
                TOPIC_SETUP_TIMEOUT);
            return null;
          });
      this.producer = metrics.bind(KafkaClients.producer(config, "ferry-" + id));
      JobStore store = new JobStore();
      this.intakeProducer = metrics.bind(KafkaClients.producer(config, "ferry-" + id + "-intake"));
      this.intakeLoop =
          new BatchConsumerLoop(
              "ferry-intake",
              metrics.bind(
                  KafkaClients.consumer(
                      config, s.groupPrefix() + "orchestrator-intake", id + "-intake", Map.of())),
              List.of(s.topics().submit()),
              new Intake(dataSource, store, intakeProducer, s, meters),
              meters);
      // Several appliers overlap one batch's database and Kafka waits with another's decoding;
      // a job's reports share its key, so one applier sees all of them in order.
      int appliers = config.getInt(Setting.APPLIER_THREADS);
      for (int i = 1; i <= appliers; i++) {
        applierLoops.add(
            new BatchConsumerLoop(
                appliers == 1 ? "ferry-applier" : "ferry-applier-" + i,
                metrics.bind(
                    KafkaClients.consumer(
                        config,
                        s.groupPrefix() + "orchestrator-applier",
                        id + "-applier-" + i,
                        Map.of())),
                List.of(s.topics().results()),
                new OutcomeApplier(
                    dataSource,
                    store,
                    producer,
                    s.topics().events(),
                    s.defaultBackoff(),
                    Clock.systemUTC(),
                    new SplittableRandom(),
                    new dev.ferry.orchestrator.intake.JobRows(s),
                    meters),
                meters));
      }
      this.dispatchProducer =
          metrics.bind(KafkaClients.producer(config, "ferry-" + id + "-dispatch"));
      this.dispatcher = new Dispatcher(dataSource, store, dispatchProducer, s, meters);
      this.scheduler =
          new dev.ferry.orchestrator.schedule.Scheduler(
              dataSource,
              store,
              s,
              Duration.ofMillis(config.getLong(Setting.SCHEDULE_MISFIRE_GRACE_MS)),
              Clock.systemUTC(),
              meters);
      this.rescuer =
          new Rescuer(
              dataSource,
              store,
              producer,
              s.topics().events(),
              s.defaultBackoff(),
              s.rescueAfter(),
              s.rescuePollInterval(),
              s.poisonMaxCrashes(),
              Clock.systemUTC(),
              new SplittableRandom(),
              meters);
      long retentionMs = config.getLong(Setting.RETENTION_MS);
      this.pruner =
          retentionMs == 0
              ? null
              : new Pruner(
                  dataSource,
                  Duration.ofMillis(retentionMs),
                  config.getInt(Setting.RETENTION_BATCH_SIZE),
                  Duration.ofMillis(config.getInt(Setting.RETENTION_POLL_MS)),
                  Clock.systemUTC(),
                  metrics.registry());
      this.probe = new InfraProbe(config, PROBE_INTERVAL);
    } catch (RuntimeException e) {
      dataSource.close();
      metrics.close();
      throw e;
    }
  }

  /** Migrates (unless disabled), creates missing topics and starts all loops. */
  public static Orchestrator start(FerryConfig config) {
    Orchestrator o = new Orchestrator(config);
    o.intakeLoop.start();
    o.applierLoops.forEach(BatchConsumerLoop::start);
    o.dispatcher.start();
    o.scheduler.start();
    o.rescuer.start();
    if (o.pruner != null) {
      o.pruner.start();
    }
    o.probe.start();
    try {
      o.health = HealthServer.start(config, DEFAULT_HEALTH_PORT, o::health, o.metrics::scrape);
    } catch (RuntimeException e) {
      o.close();
      throw e;
    }
    log.info("Orchestrator {} started", o.id);
    return o;
  }

  /** What the health endpoints report: loops alive, database and Kafka up, lag, backlog. */
  public HealthServer.Report health() {
    boolean appliersAlive = applierLoops.stream().allMatch(BatchConsumerLoop::isAlive);
    boolean live =
        intakeLoop.isAlive()
            && appliersAlive
            && dispatcher.isAlive()
            && scheduler.isAlive()
            && rescuer.isAlive()
            && (pruner == null || pruner.isAlive());
    ObjectNode d = FerryJson.object();
    d.put("role", "orchestrator");
    d.put("id", id);
    d.set("components", probe.describe());
    ObjectNode loops = d.putObject("loops");
    loops.put("intake", intakeLoop.isAlive());
    loops.put("applier", appliersAlive);
    loops.put("dispatcher", dispatcher.isAlive());
    loops.put("scheduler", scheduler.isAlive());
    loops.put("rescuer", rescuer.isAlive());
    if (pruner != null) {
      loops.put("retention", pruner.isAlive());
    }
    if (intakeLoop.failing() != null) {
      loops.put("intakeError", intakeLoop.failing());
    }
    applierLoops.stream()
        .map(BatchConsumerLoop::failing)
        .filter(java.util.Objects::nonNull)
        .findFirst()
        .ifPresent(e -> loops.put("applierError", e));
    if (scheduler.failing() != null) {
      loops.put("schedulerError", scheduler.failing());
    }
    if (dispatcher.failing() != null) {
      loops.put("dispatcherError", dispatcher.failing());
    }
    // A loop that keeps failing a batch is alive but not doing its work: not ready.
    boolean stuck =
        intakeLoop.failing() != null
            || dispatcher.failing() != null
            || scheduler.failing() != null
            || applierLoops.stream().anyMatch(l -> l.failing() != null);
    ObjectNode lag = d.putObject("lag");
    lag.put("submit", intakeLoop.lag());
    long[] results = applierLoops.stream().mapToLong(BatchConsumerLoop::lag).toArray();
    lag.put(
        "results",
        java.util.Arrays.stream(results).anyMatch(l -> l < 0)
            ? -1
            : java.util.Arrays.stream(results).sum());
    d.put("rescued", rescuer.rescued());
    return new HealthServer.Report(live, live && !stuck && probe.allUp(), d);
  }

  /** The health server's port, or -1 when it is off. */
  public int healthPort() {
    return health == null ? -1 : health.port();
  }

  /** Stops the loops (each finishes its current batch), then closes clients and the pool. */
  @Override
  public void close() {
    if (health != null) {
      health.close();
    }
    probe.close();
    rescuer.close();
    if (pruner != null) {
      pruner.close();
    }
    intakeLoop.close();
    applierLoops.forEach(BatchConsumerLoop::close);
    scheduler.close();
    dispatcher.close();
    producer.close(PRODUCER_CLOSE_TIMEOUT);
    dispatchProducer.close(PRODUCER_CLOSE_TIMEOUT);
    intakeProducer.close(PRODUCER_CLOSE_TIMEOUT);
    dataSource.close();
    metrics.close();
    log.info("Orchestrator stopped");
  }
}
