package dev.ferry.core.config;

import java.util.Locale;

/**
 * Every setting Ferry reads, with its documented default. Each one has three spellings: a key in a
 * properties file ({@code worker.concurrency}), an environment variable ({@code
 * FERRY_WORKER_CONCURRENCY}) and a command-line flag ({@code --worker-concurrency}).
 */
public enum Setting {
  KAFKA_BOOTSTRAP_SERVERS("kafka.bootstrap.servers", "localhost:9092", "Kafka bootstrap servers"),
  DB_URL("db.url", "jdbc:postgresql://localhost:5432/ferry", "JDBC URL of the Ferry database"),
  DB_USER("db.user", "ferry", "database user"),
  DB_PASSWORD("db.password", "", "database password (masked in logs)"),
  DB_PASSWORD_FILE(
      "db.password.file",
      "",
      "file whose content is the database password, e.g. a mounted Kubernetes secret (instead of db.password)"),
  DB_POOL_SIZE("db.pool.size", "8", "connections per process"),
  DB_CONNECTION_TIMEOUT_MS(
      "db.connection.timeout.ms",
      "10000",
      "how long a process waits for a pooled database connection (or a new one) before the operation fails and is retried"),
  DB_SOCKET_TIMEOUT_MS(
      "db.socket.timeout.ms",
      "60000",
      "a database connection that sends nothing back for this long is closed as dead (a silently dropped connection); rounded up to whole seconds; must exceed dispatch.poll.ms and db.statement.timeout.ms (0 = none)"),
  DB_STATEMENT_TIMEOUT_MS(
      "db.statement.timeout.ms",
      "30000",
      "PostgreSQL cancels a statement of the process's pool that runs longer than this (statement_timeout; migrations are not limited; 0 = none)"),
  TOPIC_PREFIX("topic.prefix", "ferry.", "prefix of every Ferry topic"),
  TOPIC_PARTITIONS(
      "topic.partitions", "12", "partitions of work/results/submit topics when Ferry creates them"),
  TOPIC_REPLICATION("topic.replication", "1", "replication factor when Ferry creates topics"),
  WORKER_ID("worker.id", "", "worker id (default: host-pid)"),
  WORKER_CONCURRENCY("worker.concurrency", "64", "most jobs one worker runs at once"),
  WORKER_DRAIN_TIMEOUT_MS(
      "worker.drain.timeout.ms", "30000", "how long SIGTERM waits for in-flight jobs"),
  WORKER_HEARTBEAT_MS("worker.heartbeat.ms", "1000", "interval of heartbeats in ferry.workers"),
  WORKER_START_NOTICE_MS(
      "worker.start.notice.ms",
      "100",
      "a job's start notice (status RUNNING) is sent once it has run this long; a shorter job reports its start with its outcome in one record (0 = at once)"),
  WORKER_REVOKE_GRACE_MS(
      "worker.revoke.grace.ms",
      "3000",
      "on a rebalance, how long in-flight jobs of revoked partitions get to finish before their records are left to the new owner"),
  WORKER_REDELIVERY_CHECK_MS(
      "worker.redelivery.check.ms",
      "20000",
      "records fetched this soon after a partition is assigned may be redeliveries: checked against the database (stale ones skipped) and started only once their start is recorded"),
  HANDLERS_DISABLED(
      "handlers.disabled",
      "",
      "built-in job types this worker does not run, comma-separated (e.g. http); their jobs fail like jobs of an unknown type"),
  HANDLERS_DIR(
      "handlers.dir",
      "",
      "a directory of handler jars that the worker loads at start (each jar registers its handlers in META-INF/services/dev.ferry.worker.api.JobHandler); empty for none"),
  RESULT_MAX_BYTES(
      "result.max.bytes",
      "900000",
      "largest encoded result a worker reports; a bigger success ends the attempt with a non-retryable failure (must stay below the producer's max.request.size, 1048576 by default, leaving room for the report)"),
  HTTP_ALLOW(
      "http.allow",
      "",
      "if set, the only destinations the http handler may call: comma-separated host names, host:port, IPs, [IPv6]:port or CIDRs"),
  HTTP_DENY(
      "http.deny",
      "",
      "destinations the http handler must not call (same forms as http.allow), in addition to the built-in deny list 169.254.0.0/16, fe80::/10, fd00:ec2::254"),
  HTTP_FOLLOW_REDIRECTS(
      "http.follow.redirects",
      "true",
      "whether the http handler follows redirects (at most 5; every hop is checked against http.allow/http.deny)"),
  HTTP_MAX_RESPONSE_BYTES(
      "http.max.response.bytes",
      "1048576",
      "largest response body the http handler reads; a bigger one ends the attempt with a non-retryable failure"),
  RESCUE_AFTER_MS(
      "rescue.after.ms",
      "5000",
      "a worker silent (no heartbeat) this long is dead: its RUNNING attempts are rescued"),
  RESCUE_POLL_MS(
      "rescue.poll.ms", "1000", "how often the orchestrator looks for attempts of dead workers"),
  POISON_MAX_CRASHES(
      "poison.max.crashes",
      "3",
      "a job whose worker died this many times while running it ends FAILED as poison"),
  STARTUP_TIMEOUT_MS(
      "startup.timeout.ms",
      "300000",
      "how long a starting process waits for the database and Kafka to be reachable"),
  HEALTH_HOST(
      "health.host", "127.0.0.1", "address of the health HTTP server (loopback by default)"),
  HEALTH_PORT(
      "health.port",
      "",
      "port of the health HTTP server (default 9400 orchestrator, 9401 worker; 0 = any free port, -1 = off)"),
  METRICS_MAX_TAGS(
      "metrics.max.tags",
      "200",
      "most distinct job types / dependencies / loops a process keeps meters and per-dependency state for; beyond it new names are counted under the tag value other"),
  CONSOLE_HOST(
      "console.host",
      "127.0.0.1",
      "address the console listens on (loopback by default; any other address needs console.auth.token)"),
  CONSOLE_PORT("console.port", "9500", "port of the console (0 = any free port)"),
  CONSOLE_AUTH_TOKEN(
      "console.auth.token",
      "",
      "token that signs in to the console: Authorization: Bearer <token> for /api, the login form for pages (empty = no sign-in, loopback only)"),
  CONSOLE_AUTH_TOKEN_FILE(
      "console.auth.token.file",
      "",
      "file whose content is the console token, e.g. a mounted secret (instead of console.auth.token)"),
  CONSOLE_READONLY(
      "console.readonly", "false", "true removes every action (retry, cancel, breaker commands)"),
  JOB_MAX_ATTEMPTS("job.max.attempts", "5", "default maxAttempts"),
  JOB_TIMEOUT_MS("job.timeout.ms", "30000", "default per-attempt timeout"),
  BACKOFF_STRATEGY("backoff.strategy", "exponential", "default backoff strategy"),
  BACKOFF_INITIAL_MS("backoff.initial.ms", "1000", "default first retry delay"),
  BACKOFF_MULTIPLIER("backoff.multiplier", "2.0", "default exponential multiplier"),
  BACKOFF_MAX_MS("backoff.max.ms", "300000", "default cap on retry delays"),
  BACKOFF_JITTER("backoff.jitter", "0.1", "default jitter fraction"),
  SUBMIT_MAX_BYTES("submit.max.bytes", "1048576", "largest accepted submission"),
  SUBMIT_MAX_DEPTH("submit.max.depth", "64", "deepest accepted JSON nesting"),
  SUBMIT_MAX_CHILDREN("submit.max.children", "100000", "most children in one submission"),
  APPLIER_THREADS(
      "applier.threads",
      "2",
      "outcome applier loops per orchestrator (each its own consumer of ferry.results and its own transactions)"),
  INTAKE_DISPATCH(
      "intake.dispatch",
      "true",
      "intake puts jobs that are due at once straight on the work topic (false: every job goes through the dispatcher)"),
  DISPATCH_BATCH_SIZE("dispatch.batch.size", "1000", "most jobs claimed per dispatcher round"),
  DISPATCH_POLL_MS("dispatch.poll.ms", "1000", "safety-net poll interval of the dispatcher"),
  PRIORITY_AGING_MS(
      "priority.aging.ms",
      "60000",
      "a job of priority 4 or 5 held back while the work topic has a backlog is dispatched anyway once it has waited this long (no starvation)"),
  DEPENDENCY_RATE(
      "rate",
      "",
      "per dependency only (dependency.<dep>.rate): fleet-wide rate limit such as 100/1s, written to ferry.dependency_limits at orchestrator start if that dependency has no row yet"),
  DEPENDENCY_MAX_CONCURRENT(
      "max.concurrent",
      "",
      "per dependency only (dependency.<dep>.max.concurrent): fleet-wide cap on its queued and running jobs, written like dependency.<dep>.rate"),
  SCHEDULE_MISFIRE_GRACE_MS(
      "schedule.misfire.grace.ms",
      "60000",
      "a schedule's tick this late (no orchestrator ran) is missed: its misfire rule (skip or run-once) applies instead of a job of its own"),
  RETENTION_MS(
      "retention.ms",
      "604800000",
      "finished jobs with their attempts, rejected submissions and stopped workers older than this are deleted (default 7 days; 0 = keep forever)"),
  RETENTION_BATCH_SIZE(
      "retention.batch.size", "1000", "most jobs deleted per retention transaction"),
  RETENTION_POLL_MS("retention.poll.ms", "60000", "pause between two retention rounds"),
  ORCHESTRATOR_MIGRATE(
      "orchestrator.migrate", "true", "run migrations when the orchestrator starts"),
  BREAKER_WINDOW_TYPE("breaker.window.type", "count", "sliding window: count or time"),
  BREAKER_WINDOW_SIZE("breaker.window.size", "20", "calls (count) or seconds (time) in the window"),
  BREAKER_MINIMUM_CALLS("breaker.minimum.calls", "5", "calls in the window before rates count"),
  BREAKER_FAILURE_RATE_THRESHOLD(
      "breaker.failure.rate.threshold", "50", "percent failed calls that opens"),
  BREAKER_SLOW_CALL_MS("breaker.slow.call.ms", "60000", "a call slower than this is slow"),
  BREAKER_SLOW_CALL_RATE_THRESHOLD(
      "breaker.slow.call.rate.threshold", "100", "percent slow calls that opens"),
  BREAKER_OPEN_MS("breaker.open.ms", "30000", "how long OPEN lasts after a first trip"),
  BREAKER_OPEN_MULTIPLIER("breaker.open.multiplier", "2.0", "growth of OPEN on consecutive trips"),
  BREAKER_OPEN_MAX_MS("breaker.open.max.ms", "300000", "cap on the OPEN duration"),
  BREAKER_HALF_OPEN_CALLS("breaker.half.open.calls", "3", "trial calls in HALF_OPEN, cluster-wide"),
  BREAKER_BULKHEAD(
      "breaker.bulkhead", "0", "most concurrent calls per worker to one dependency (0 = no limit)"),
  BREAKER_REPORT_MS(
      "breaker.report.ms", "50", "how often a worker reports call outcomes to the shared state");

  private final String key;
  private final String defaultValue;
  private final String description;

  Setting(String key, String defaultValue, String description) {
    this.key = key;
    this.defaultValue = defaultValue;
    this.description = description;
  }

  /** Properties-file key, e.g. {@code worker.concurrency}. */
  public String key() {
    return key;
  }

  /** Environment variable, e.g. {@code FERRY_WORKER_CONCURRENCY}. */
  public String env() {
    return "FERRY_" + key.toUpperCase(Locale.ROOT).replace('.', '_');
  }

  /**
   * Whether it is set only per dependency ({@code dependency.<dep>.rate}): no command-line flag,
   * and a value of its own is refused ({@link FerryConfig#limitDefaults()}).
   */
  public boolean perDependencyOnly() {
    return this == DEPENDENCY_RATE || this == DEPENDENCY_MAX_CONCURRENT;
  }

  /** Command-line flag, e.g. {@code --worker-concurrency}. */
  public String flag() {
    return "--" + key.replace('.', '-');
  }

  public String defaultValue() {
    return defaultValue;
  }

  public String description() {
    return description;
  }

  /** Whether the value must never be printed. */
  public boolean secret() {
    return this == DB_PASSWORD || this == CONSOLE_AUTH_TOKEN;
  }

  /**
   * The values this setting accepts. Every setting has one (an exhaustive switch: a new setting
   * does not compile without its rule), so {@link FerryConfig#validate()} checks them all at start,
   * and the typed getters ({@link FerryConfig#getInt(Setting)} …) read within the same bounds: the
   * rule is the one place a setting's range is declared.
   */
  public SettingRule rule() {
    final long maxInt = Integer.MAX_VALUE;
    return switch (this) {
      case KAFKA_BOOTSTRAP_SERVERS,
          DB_URL,
          DB_USER,
          DB_PASSWORD,
          DB_PASSWORD_FILE,
          TOPIC_PREFIX,
          WORKER_ID,
          HEALTH_HOST,
          CONSOLE_HOST,
          CONSOLE_AUTH_TOKEN,
          CONSOLE_AUTH_TOKEN_FILE ->
          SettingRule.TEXT;
      case CONSOLE_PORT -> SettingRule.integer(0, 65_535);
      case CONSOLE_READONLY -> SettingRule.BOOLEAN;
      case DB_POOL_SIZE -> SettingRule.integer(1, 1000);
      case DB_CONNECTION_TIMEOUT_MS -> SettingRule.integer(250, maxInt);
      case DB_SOCKET_TIMEOUT_MS, DB_STATEMENT_TIMEOUT_MS -> SettingRule.integer(0, maxInt);
      case TOPIC_PARTITIONS -> SettingRule.integer(1, 10_000);
      case TOPIC_REPLICATION -> SettingRule.integer(1, 32);
      case WORKER_CONCURRENCY -> SettingRule.integer(1, 1_000_000);
      case WORKER_DRAIN_TIMEOUT_MS,
          WORKER_REVOKE_GRACE_MS,
          WORKER_REDELIVERY_CHECK_MS,
          STARTUP_TIMEOUT_MS ->
          SettingRule.integer(0, maxInt);
      case WORKER_HEARTBEAT_MS -> SettingRule.integer(100, 3_600_000);
      case WORKER_START_NOTICE_MS -> SettingRule.integer(0, 3_600_000);
      case RESCUE_AFTER_MS -> SettingRule.integer(100, maxInt);
      case RESCUE_POLL_MS, DISPATCH_POLL_MS -> SettingRule.integer(10, 3_600_000);
      case POISON_MAX_CRASHES -> SettingRule.integer(1, 1_000);
      case HEALTH_PORT -> SettingRule.optionalInteger(-1, 65_535);
      case JOB_MAX_ATTEMPTS -> SettingRule.integer(1, 10_000);
      case JOB_TIMEOUT_MS -> SettingRule.integer(1, maxInt);
      case BACKOFF_STRATEGY -> SettingRule.oneOf("exponential", "linear", "fixed");
      case BACKOFF_INITIAL_MS, BACKOFF_MAX_MS -> SettingRule.integer(0, maxInt);
      case BACKOFF_MULTIPLIER -> SettingRule.number(1.0, 1000.0);
      case BACKOFF_JITTER -> SettingRule.number(0.0, 1.0);
      case SUBMIT_MAX_BYTES -> SettingRule.integer(64, 64 << 20);
      case SUBMIT_MAX_DEPTH -> SettingRule.integer(4, 10_000);
      case SUBMIT_MAX_CHILDREN -> SettingRule.integer(0, 10_000_000);
      case APPLIER_THREADS -> SettingRule.integer(1, 64);
      case INTAKE_DISPATCH, ORCHESTRATOR_MIGRATE -> SettingRule.BOOLEAN;
      case DISPATCH_BATCH_SIZE, RETENTION_BATCH_SIZE -> SettingRule.integer(1, 100_000);
      case RETENTION_MS -> SettingRule.integer(0, Long.MAX_VALUE);
      case RETENTION_POLL_MS -> SettingRule.integer(10, maxInt);
      case SCHEDULE_MISFIRE_GRACE_MS -> SettingRule.integer(1000, maxInt);
      case PRIORITY_AGING_MS -> SettingRule.integer(0, maxInt);
      case DEPENDENCY_RATE -> SettingRule.RATE;
      case DEPENDENCY_MAX_CONCURRENT -> SettingRule.optionalInteger(1, 1_000_000);
      case BREAKER_WINDOW_TYPE -> SettingRule.oneOf("count", "time");
      case BREAKER_WINDOW_SIZE -> SettingRule.integer(1, 10_000);
      case BREAKER_MINIMUM_CALLS -> SettingRule.integer(1, 1_000_000);
      case BREAKER_FAILURE_RATE_THRESHOLD, BREAKER_SLOW_CALL_RATE_THRESHOLD ->
          SettingRule.number(0.001, 100);
      case BREAKER_SLOW_CALL_MS, BREAKER_OPEN_MS, BREAKER_OPEN_MAX_MS ->
          SettingRule.integer(1, maxInt);
      case BREAKER_OPEN_MULTIPLIER -> SettingRule.number(1, 1000);
      case BREAKER_HALF_OPEN_CALLS -> SettingRule.integer(1, 10_000);
      case BREAKER_BULKHEAD -> SettingRule.integer(0, 1_000_000);
      case BREAKER_REPORT_MS -> SettingRule.integer(1, 60_000);
      case METRICS_MAX_TAGS -> SettingRule.integer(1, 100_000);
      case HANDLERS_DISABLED, HANDLERS_DIR, HTTP_ALLOW, HTTP_DENY -> SettingRule.TEXT;
      case HTTP_FOLLOW_REDIRECTS -> SettingRule.BOOLEAN;
      case RESULT_MAX_BYTES -> SettingRule.integer(1, Integer.MAX_VALUE);
      case HTTP_MAX_RESPONSE_BYTES -> SettingRule.integer(0, Integer.MAX_VALUE - 16);
    };
  }

  /**
   * The part of Ferry this setting configures; commands list their settings by group. An exhaustive
   * switch, like {@link #rule()}: a new setting does not compile without its group.
   */
  public SettingGroup group() {
    return switch (this) {
      case DB_URL, DB_USER, DB_PASSWORD, DB_PASSWORD_FILE -> SettingGroup.DATABASE;
      case DB_POOL_SIZE, DB_CONNECTION_TIMEOUT_MS, DB_SOCKET_TIMEOUT_MS, DB_STATEMENT_TIMEOUT_MS ->
          SettingGroup.DATABASE_POOL;
      case KAFKA_BOOTSTRAP_SERVERS, TOPIC_PREFIX, TOPIC_PARTITIONS, TOPIC_REPLICATION ->
          SettingGroup.KAFKA;
      case SUBMIT_MAX_BYTES, SUBMIT_MAX_DEPTH, SUBMIT_MAX_CHILDREN -> SettingGroup.SUBMISSIONS;
      case JOB_MAX_ATTEMPTS,
          JOB_TIMEOUT_MS,
          BACKOFF_STRATEGY,
          BACKOFF_INITIAL_MS,
          BACKOFF_MULTIPLIER,
          BACKOFF_MAX_MS,
          BACKOFF_JITTER ->
          SettingGroup.JOB_DEFAULTS;
      case RESCUE_AFTER_MS,
          RESCUE_POLL_MS,
          POISON_MAX_CRASHES,
          APPLIER_THREADS,
          INTAKE_DISPATCH,
          DISPATCH_BATCH_SIZE,
          DISPATCH_POLL_MS,
          ORCHESTRATOR_MIGRATE,
          PRIORITY_AGING_MS,
          SCHEDULE_MISFIRE_GRACE_MS ->
          SettingGroup.ORCHESTRATOR;
      case RETENTION_MS, RETENTION_BATCH_SIZE, RETENTION_POLL_MS -> SettingGroup.RETENTION;
      case WORKER_ID,
          WORKER_CONCURRENCY,
          WORKER_DRAIN_TIMEOUT_MS,
          WORKER_HEARTBEAT_MS,
          WORKER_START_NOTICE_MS,
          WORKER_REVOKE_GRACE_MS,
          WORKER_REDELIVERY_CHECK_MS,
          HANDLERS_DISABLED,
          HANDLERS_DIR,
          RESULT_MAX_BYTES ->
          SettingGroup.WORKER;
      case HTTP_ALLOW, HTTP_DENY, HTTP_FOLLOW_REDIRECTS, HTTP_MAX_RESPONSE_BYTES ->
          SettingGroup.HTTP;
      case BREAKER_WINDOW_TYPE,
          BREAKER_WINDOW_SIZE,
          BREAKER_MINIMUM_CALLS,
          BREAKER_FAILURE_RATE_THRESHOLD,
          BREAKER_SLOW_CALL_MS,
          BREAKER_SLOW_CALL_RATE_THRESHOLD,
          BREAKER_OPEN_MS,
          BREAKER_OPEN_MULTIPLIER,
          BREAKER_OPEN_MAX_MS,
          BREAKER_HALF_OPEN_CALLS,
          BREAKER_BULKHEAD,
          BREAKER_REPORT_MS,
          DEPENDENCY_RATE,
          DEPENDENCY_MAX_CONCURRENT ->
          SettingGroup.BREAKER;
      case STARTUP_TIMEOUT_MS, HEALTH_HOST, HEALTH_PORT, METRICS_MAX_TAGS -> SettingGroup.PROCESS;
      case CONSOLE_HOST,
          CONSOLE_PORT,
          CONSOLE_AUTH_TOKEN,
          CONSOLE_AUTH_TOKEN_FILE,
          CONSOLE_READONLY ->
          SettingGroup.CONSOLE;
    };
  }

  /** Human-readable spellings, used in error messages. */
  public String spellings() {
    return key + " / " + env() + " / " + flag();
  }
}
