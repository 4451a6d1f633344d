package dev.ferry.worker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariDataSource;
import dev.ferry.core.breaker.CircuitBreakerMachine;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.Topics;
import dev.ferry.core.db.Databases;
import dev.ferry.core.health.HealthServer;
import dev.ferry.core.health.InfraProbe;
import dev.ferry.core.health.Startup;
import dev.ferry.core.json.FerryJson;
import dev.ferry.core.kafka.KafkaClients;
import dev.ferry.core.metrics.FerryMetrics;
import dev.ferry.core.text.SafeText;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.breaker.BreakerClient;
import dev.ferry.worker.cancel.CancellationListener;
import dev.ferry.worker.exec.JobRunner;
import dev.ferry.worker.flow.RateGrants;
import dev.ferry.worker.handlers.HandlerRegistry;
import dev.ferry.worker.metrics.WorkerMetrics;
import dev.ferry.worker.poll.PollLoop;
import dev.ferry.worker.poll.RedeliveryCheck;
import dev.ferry.worker.registry.WorkerRegistry;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker replica: consumes {@code ferry.work}, runs handlers with at most {@code
 * worker.concurrency} at once, produces outcomes to {@code ferry.results}, and keeps its row in
 * {@code ferry.workers}. {@link #close()} drains gracefully (what SIGTERM does).
 */
public final class Worker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Worker.class);

  /** The health and metrics port when none is configured: 9401. */
  public static final int DEFAULT_HEALTH_PORT = 9401;

  /** The consumer's {@code max.poll.records} is the concurrency, at least this: 10. */
  static final int MIN_POLL_RECORDS = 10;

  /** ... and at most this: 500. */
  static final int MAX_POLL_RECORDS = 500;

  /** The worker is live while its poll loop polled within this: 30 s. */
  static final Duration LIVENESS_MAX_SILENCE = Duration.ofSeconds(30);

  /** How often the infrastructure probe checks the database and Kafka: every 2 s. */
  static final Duration PROBE_INTERVAL = Duration.ofSeconds(2);

  /** How long start-up waits for the cancellation listener to subscribe: 5 s. */
  static final Duration CANCEL_LISTEN_TIMEOUT = Duration.ofSeconds(5);

  /** How long creating missing topics may take, per try: 10 s. */
  static final Duration TOPIC_CREATION_TIMEOUT = Duration.ofSeconds(10);

  /** How much of a poll loop failure the health report shows: 500 characters. */
  static final int HEALTH_ERROR_MAX_CHARS = 500;

  /** How long closing the producer may take to flush what is left: 10 s. */
  static final Duration PRODUCER_CLOSE_TIMEOUT = Duration.ofSeconds(10);

  private final String id;
  private final HikariDataSource dataSource;

  /** The heartbeat's own connection: a busy or stuck main pool never delays it. */
  private final HikariDataSource heartbeatDataSource;

  /** The heartbeat's own thread: a busy timer (job timeouts, notices) never delays it. */
  private final ScheduledExecutorService heartbeatThread;

  private final JobRunner runner;
  private final KafkaProducer<String, byte[]> producer;
  private final ScheduledExecutorService scheduler;
  private final PollLoop pollLoop;
  private final Thread pollThread;
  private final WorkerRegistry registry;
  private final CancellationListener cancellations;
  private final BreakerClient breakers;
  private final Duration drainTimeout;
  private ScheduledFuture<?> heartbeats;
  private final int concurrency;
  private InfraProbe probe;
  private HealthServer health;
  private final FerryMetrics metrics;
  private final WorkerMetrics meters;
  private final HandlerRegistry handlers;

  private Worker(FerryConfig config, Collection<JobHandler> extraHandlers) {
    // Every setting and per-dependency breaker override is checked before anything connects: a
    // bad one stops the process here, not the poll loop at the first call to that dependency.
    config.validate();
    int concurrency = config.getInt(Setting.WORKER_CONCURRENCY);
    // Handler and outcome settings first: a bad value fails start before anything connects.
    JobRunner.Limits limits =
        new JobRunner.Limits(config.getInt(Setting.RESULT_MAX_BYTES), config.submissionLimits());
    this.handlers = HandlerRegistry.load(config, extraHandlers);
    this.drainTimeout = Duration.ofMillis(config.getInt(Setting.WORKER_DRAIN_TIMEOUT_MS));
    String host = hostName();
    String configured = config.get(Setting.WORKER_ID);
    this.id =
        configured.isBlank()
            ? host
                + "-"
                + ProcessHandle.current().pid()
                + "-"
                + UUID.randomUUID().toString().substring(0, 4)
            : configured;
    Topics topics = Topics.withPrefix(config.topicPrefix());
    Startup.retry(
        "Kafka topics",
        Duration.ofMillis(config.getInt(Setting.STARTUP_TIMEOUT_MS)),
        () -> {
          KafkaClients.ensureTopics(
              config,
              List.of(topics.work(), topics.workUrgent(), topics.results()),
              TOPIC_CREATION_TIMEOUT);
          return null;
        });
    this.concurrency = concurrency;
    // Heartbeats, the cancellation listener, the breaker listener, reports and trial permits.
    this.metrics = new FerryMetrics("worker", id);
    this.meters = new WorkerMetrics(metrics.registry(), config.getInt(Setting.METRICS_MAX_TAGS));
    this.dataSource =
        Databases.pool(config.with(Setting.DB_POOL_SIZE, "5"), "ferry-worker", metrics.registry());
    this.producer = metrics.bind(KafkaClients.producer(config, "ferry-worker-" + id));
    var timer =
        new java.util.concurrent.ScheduledThreadPoolExecutor(
            1, r -> Thread.ofPlatform().name("ferry-worker-timer").daemon().unstarted(r));
    // Every job schedules its timeout (and start notice) and nearly all are cancelled: drop
    // them from the queue at once instead of keeping them until they would have fired.
    timer.setRemoveOnCancelPolicy(true);
    this.scheduler = timer;
    this.breakers =
        new BreakerClient(
            dataSource,
            config::breakerConfig,
            t -> publishTransition(topics.events(), t),
            Clock.systemUTC(),
            Duration.ofMillis(config.getInt(Setting.BREAKER_REPORT_MS)),
            config.getInt(Setting.METRICS_MAX_TAGS),
            meters);
    JobRunner runner =
        new JobRunner(
            handlers,
            producer,
            topics.results(),
            id,
            scheduler,
            Clock.systemUTC(),
            breakers,
            config::breakerConfig,
            Duration.ofMillis(config.getInt(Setting.WORKER_START_NOTICE_MS)),
            meters,
            limits);
    int maxPoll = Math.max(MIN_POLL_RECORDS, Math.min(MAX_POLL_RECORDS, concurrency));
    this.pollLoop =
        new PollLoop(
            metrics.bind(
                KafkaClients.consumer(
                    config,
                    config.topicPrefix() + "workers",
                    "ferry-worker-" + id,
                    Map.of(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, String.valueOf(maxPoll)))),
            topics.work(),
            topics.workUrgent(),
            new RateGrants(dataSource),
            runner,
            concurrency,
            maxPoll,
            new RedeliveryCheck(dataSource),
            Duration.ofMillis(config.getInt(Setting.WORKER_REDELIVERY_CHECK_MS)),
            Duration.ofMillis(config.getInt(Setting.WORKER_REVOKE_GRACE_MS)),
            meters);
    meters.worker(
        pollLoop,
        concurrency,
        PollLoop::inFlight,
        PollLoop::buffered,
        l -> l.isPaused() ? 1 : 0,
        PollLoop::lag,
        PollLoop::sinceLastPollSeconds);
    meters.dependencies(
        new WorkerMetrics.DependencyView(
            pollLoop::inFlight,
            runner::bulkhead,
            dep -> {
              var v = breakers.view(dep);
              return v == null ? null : v.state();
            }));
    this.runner = runner;
    metrics.registry().gauge("ferry.worker.stuck.handlers", runner, JobRunner::stuckHandlers);
    metrics
        .registry()
        .gauge("ferry.worker.unacknowledged.outcomes", pollLoop, PollLoop::unacknowledged);
    this.pollThread = Thread.ofPlatform().name("ferry-worker-poll").unstarted(pollLoop);
    this.heartbeatDataSource =
        Databases.pool(config.with(Setting.DB_POOL_SIZE, "1"), "ferry-worker-heartbeat", null);
    this.heartbeatThread =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("ferry-worker-heartbeat").daemon().unstarted(r));
    this.registry = new WorkerRegistry(heartbeatDataSource, id, host, concurrency);
    this.cancellations = new CancellationListener(dataSource, runner, meters);
  }

  /** Starts a worker with the built-in and ServiceLoader handlers plus {@code extraHandlers}. */
  public static Worker start(FerryConfig config, Collection<JobHandler> extraHandlers) {
    Worker w = new Worker(config, extraHandlers);
    w.registry.register();
    long hb = config.getInt(Setting.WORKER_HEARTBEAT_MS);
    w.heartbeats =
        w.heartbeatThread.scheduleAtFixedRate(
            () -> {
              // A worker whose poll loop has died takes no work and reports none: it must look
              // dead to the rescuer, not heartbeat as healthy with jobs it will never finish.
              if (w.pollLoop.failure() == null) {
                w.registry.heartbeat(w.pollLoop::inFlight);
              }
            },
            hb,
            hb,
            TimeUnit.MILLISECONDS);
    w.breakers.start();
    w.cancellations.start();
    try {
      if (!w.cancellations.awaitListening(
          CANCEL_LISTEN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("Cancellation listener not subscribed yet (database slow or down); going on");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    w.pollThread.start();
    w.probe = new InfraProbe(config, PROBE_INTERVAL).start();
    try {
      w.health = HealthServer.start(config, DEFAULT_HEALTH_PORT, w::health, w.metrics::scrape);
    } catch (RuntimeException e) {
      w.close();
      throw e;
    }
    log.info("Worker {} started (concurrency {})", w.id, config.get(Setting.WORKER_CONCURRENCY));
    return w;
  }

  /** What the health endpoints report: polling, database and Kafka up, in flight, lag. */
  public HealthServer.Report health() {
    boolean live = pollLoop.polling(LIVENESS_MAX_SILENCE);
    ObjectNode d = FerryJson.object();
    d.put("role", "worker");
    d.put("id", id);
    d.set("components", probe.describe());
    d.put("inFlight", pollLoop.inFlight());
    d.put("concurrency", concurrency);
    d.put("buffered", pollLoop.buffered());
    d.put("paused", pollLoop.isPaused());
    d.put("assignedPartitions", pollLoop.assignedPartitions());
    d.put("lag", pollLoop.lag());
    d.put("staleSkipped", pollLoop.staleSkipped());
    d.put("rebalances", pollLoop.revocations());
    d.put("unacknowledgedOutcomes", pollLoop.unacknowledged());
    d.put("stuckHandlers", runner.stuckHandlers());
    Throwable failure = pollLoop.failure();
    if (failure != null) {
      d.put("pollLoopError", SafeText.echo(failure.toString(), HEALTH_ERROR_MAX_CHARS));
    }
    return new HealthServer.Report(live, live && probe.allUp(), d);
  }

  /**
   * Blocks until the poll loop ends: by {@link #close()} (returns null) or because it failed
   * (returns why; the worker takes no more work and the process should exit so that a supervisor
   * restarts it).
   */
  public Throwable awaitPollLoopEnd() throws InterruptedException {
    pollLoop.awaitEnd();
    return pollLoop.failure();
  }

  /** The health server's port, or -1 when it is off. */
  public int healthPort() {
    return health == null ? -1 : health.port();
  }

  public String id() {
    return id;
  }

  /** The poll loop, for its gauges (in flight, buffered, paused). */
  public PollLoop pollLoop() {
    return pollLoop;
  }

  /**
   * Graceful stop: no new jobs, in-flight jobs get {@code worker.drain.timeout.ms} to finish, their
   * outcomes are flushed, offsets committed, the consumer leaves its group.
   */
  @Override
  public void close() {
    log.info("Worker {} draining ({} in flight)", id, pollLoop.inFlight());
    if (health != null) {
      health.close();
    }
    if (probe != null) {
      probe.close();
    }
    try {
      pollLoop.drain(drainTimeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (heartbeats != null) {
      heartbeats.cancel(false);
    }
    heartbeatThread.shutdownNow();
    cancellations.close();
    breakers.close();
    producer.close(PRODUCER_CLOSE_TIMEOUT);
    registry.stopped();
    scheduler.shutdownNow();
    heartbeatDataSource.close();
    handlers.close();
    dataSource.close();
    metrics.close();
    log.info("Worker {} stopped", id);
  }

  /** The shared breakers as this worker sees them. */
  public BreakerClient breakers() {
    return breakers;
  }

  /** Breaker transitions go to the events topic, keyed {@code breaker:<dependency>}. */
  @SuppressWarnings("FutureReturnValueIgnored") // the send's callback sees its failure
  private void publishTransition(String topic, CircuitBreakerMachine.Transition t) {
    meters.transition(t.dependency(), t.from(), t.to());
    ObjectNode n = FerryJson.object();
    n.put("breaker", t.dependency());
    n.put("from", t.from().name());
    n.put("to", t.to().name());
    n.put("generation", t.generation());
    n.put("reason", t.reason());
    n.put("at", t.at().toString());
    // Events are informative (the table is the truth): a lost one is logged and counted, not
    // re-sent.
    producer.send(
        new ProducerRecord<>(topic, "breaker:" + t.dependency(), FerryJson.bytes(n)),
        (md, e) -> {
          if (e != null) {
            meters.sendFailed(WorkerMetrics.RECORD_BREAKER_EVENT);
            log.warn(
                "Breaker event {} -> {} of {} not published: {}",
                t.from(),
                t.to(),
                t.dependency(),
                e.toString());
          }
        });
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "unknown-host";
    }
  }
}
