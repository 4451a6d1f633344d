package dev.ferry.devtools;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.bench.BenchInfra;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.Topics;
import dev.ferry.core.schedule.CronSchedule;
import dev.ferry.orchestrator.Orchestrator;
import dev.ferry.orchestrator.schedule.Scheduler;
import dev.ferry.testkit.LocalCluster;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Recurring schedules measured (issue 17), on one embedded cluster of {@code orchestrators}
 * orchestrators (each runs a scheduler; they share the ticks with {@code SKIP LOCKED}) and one
 * worker:
 *
 * <ol>
 *   <li><b>every second</b>: one {@code noop} schedule {@code "* * * * * *"}; after the warm-up,
 *       for {@code seconds} ticks, the lag from each tick ({@code jobs.next_run_at}) to the start
 *       of its job's first attempt ({@code job_attempts.started_at}), and the ticks missing or made
 *       twice (there must be none). Target: p99 ≤ {@value #TARGET_P99_MS} ms.
 *   <li><b>many schedules on one tick</b>: {@code schedules} {@code noop} schedules with one cron
 *       ({@code 0 * * * * *}, second 0 of every minute, by default), defined in bulk through the
 *       submissions topic; for the next {@value #MANY_TICKS} ticks after all are stored, the jobs
 *       each tick made (one per schedule) and the spread of their starts after the tick. Target:
 *       all started within {@value #TARGET_SPREAD_MS} ms of the tick, else the spread is reported.
 * </ol>
 *
 * <p>Where a lag goes is printed per hop: tick → job row ({@code created_at}: the scheduler's
 * round), row → work record (its Kafka timestamp: the dispatcher) and work record → start (Kafka
 * and the worker).
 */
public final class ScheduleBench {
  /** Target of the every-second schedule: p99 tick → start (issue 17). */
  static final double TARGET_P99_MS = 100;

  /** Target of the many schedules: every tick's job started within this of the tick. */
  static final double TARGET_SPREAD_MS = 1000;

  /** Ticks of the many schedules measured. */
  static final int MANY_TICKS = 2;

  static final String EVERY_SECOND = "bench-every-second";
  static final String MANY_PREFIX = "bench-many-";

  /** The longest wait for a measured tick's jobs to start, after the tick. */
  private static final Duration TICK_WAIT = Duration.ofMinutes(2);

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Parameters of a run. */
  public record Options(
      int seconds,
      int warmupSeconds,
      int schedules,
      String cron,
      int orchestrators,
      Duration timeout) {}

  /** p50, p99 and max of some milliseconds (percentiles interpolated as percentile_cont). */
  record Stats(int n, double p50, double p99, double max) {
    static Stats of(Collection<Double> values) {
      double[] a = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      if (a.length == 0) {
        return new Stats(0, Double.NaN, Double.NaN, Double.NaN);
      }
      return new Stats(a.length, at(a, 0.5), at(a, 0.99), a[a.length - 1]);
    }

    private static double at(double[] sorted, double p) {
      double pos = p * (sorted.length - 1);
      int lo = (int) Math.floor(pos);
      int hi = Math.min(lo + 1, sorted.length - 1);
      return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    String brief() {
      return String.format(Locale.ROOT, "%.1f/%.1f/%.1f", p50, p99, max);
    }
  }

  /** The every-second schedule's measured ticks. */
  public record EverySecond(
      int expected,
      int ticks,
      int missing,
      int duplicates,
      int wrongIds,
      int notStarted,
      Stats lag,
      int orchestrators,
      String durability) {
    public String line() {
      return String.format(
          Locale.ROOT,
          "RESULT scenario=schedules part=every-second orchestrators=%d ticks=%d expected=%d"
              + " missing=%d duplicates=%d wrong_ids=%d not_started=%d lag_p50_ms=%.1f"
              + " lag_p99_ms=%.1f lag_max_ms=%.1f target_p99_ms=%.0f met=%b db=%s",
          orchestrators,
          ticks,
          expected,
          missing,
          duplicates,
          wrongIds,
          notStarted,
          lag.p50(),
          lag.p99(),
          lag.max(),
          TARGET_P99_MS,
          met(),
          durability);
    }

    boolean met() {
      return missing == 0
          && duplicates == 0
          && wrongIds == 0
          && notStarted == 0
          && lag.p99() <= TARGET_P99_MS;
    }
  }

  /** One measured tick of the many schedules. */
  public record Tick(
      Instant tick,
      int schedules,
      int created,
      int duplicates,
      int started,
      long within1s,
      Stats lag,
      Stats rowLag) {
    public String line() {
      return String.format(
          Locale.ROOT,
          "RESULT scenario=schedules part=many tick=%s schedules=%d created=%d duplicates=%d"
              + " started=%d within_1s=%d start_p50_ms=%.1f start_p99_ms=%.1f start_max_ms=%.1f"
              + " created_max_ms=%.1f",
          tick,
          schedules,
          created,
          duplicates,
          started,
          within1s,
          lag.p50(),
          lag.p99(),
          lag.max(),
          rowLag.max());
    }
  }

  /** Figures of a run. */
  public record Result(
      Options options,
      EverySecond everySecond,
      double defineSeconds,
      List<Tick> ticks,
      Stats manyLag,
      String durability) {
    /** The summary line; {@link #run} prints the parts' lines before it. */
    public String line() {
      int createdMin = ticks.stream().mapToInt(Tick::created).min().orElse(0);
      int duplicates = ticks.stream().mapToInt(Tick::duplicates).sum();
      boolean manyMet =
          ticks.size() == MANY_TICKS
              && ticks.stream()
                  .allMatch(
                      t ->
                          t.created() == options.schedules()
                              && t.duplicates() == 0
                              && t.within1s() == options.schedules());
      return String.format(
          Locale.ROOT,
          "RESULT scenario=schedules orchestrators=%d every_second_ticks=%d missing=%d"
              + " duplicates=%d lag_p50_ms=%.1f lag_p99_ms=%.1f lag_max_ms=%.1f"
              + " schedules=%d cron=%s define_s=%.1f ticks=%d created_min=%d many_duplicates=%d"
              + " spread_p50_ms=%.1f spread_p99_ms=%.1f spread_max_ms=%.1f"
              + " every_second_met=%b many_met=%b db=%s",
          options.orchestrators(),
          everySecond.ticks(),
          everySecond.missing(),
          everySecond.duplicates(),
          everySecond.lag().p50(),
          everySecond.lag().p99(),
          everySecond.lag().max(),
          options.schedules(),
          options.cron().replace(' ', '_'),
          defineSeconds,
          ticks.size(),
          createdMin,
          duplicates,
          manyLag.p50(),
          manyLag.p99(),
          manyLag.max(),
          everySecond.met(),
          manyMet,
          durability);
    }
  }

  private ScheduleBench() {}

  public static Result run(Options o, PrintStream out) throws Exception {
    if (o.seconds() < 1 || o.warmupSeconds() < 0 || o.schedules() < 1 || o.orchestrators() < 1) {
      throw new IllegalArgumentException(
          "schedules: --seconds, --schedules and --orchestrators must be >= 1, --warmup-s >= 0");
    }
    CronSchedule cron;
    try {
      cron = CronSchedule.parse(o.cron(), "UTC");
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("schedules: --cron: " + e.getMessage(), e);
    }
    out.printf(
        "Starting embedded Kafka, PostgreSQL, %d orchestrator%s, 1 worker…%n",
        o.orchestrators(), o.orchestrators() == 1 ? "" : "s");
    try (LocalCluster cluster =
        BenchInfra.cluster(1, c -> c.with(Setting.WORKER_CONCURRENCY, "256"), List.of())) {
      List<Orchestrator> others = new ArrayList<>();
      try (Connection db = cluster.connect()) {
        for (int i = 1; i < o.orchestrators(); i++) {
          others.add(Orchestrator.start(cluster.config()));
        }
        String durability = BenchInfra.describe(db);
        long deadline = System.nanoTime() + o.timeout().toNanos();
        EverySecond everySecond = everySecond(cluster, db, o, durability, deadline, out);
        out.println(everySecond.line());

        long t0 = System.nanoTime();
        define(cluster.config(), o, out);
        awaitStored(db, o.schedules(), deadline, out);
        double defineSeconds = (System.nanoTime() - t0) / 1e9;
        out.printf(
            Locale.ROOT,
            "%,d schedules stored %.1f s after the first was sent%n",
            o.schedules(),
            defineSeconds);
        List<Tick> ticks = new ArrayList<>();
        List<Double> lags = new ArrayList<>();
        Instant tick = firstCommonTick(db);
        for (int i = 0; i < MANY_TICKS; i++) {
          TickRows rows = tick(cluster.config(), db, tick, o, deadline, out);
          ticks.add(rows.tick());
          lags.addAll(rows.lags());
          out.println(rows.tick().line());
          tick = cron.nextAfter(tick).orElseThrow();
        }
        return new Result(o, everySecond, defineSeconds, ticks, Stats.of(lags), durability);
      } finally {
        for (Orchestrator other : others) {
          other.close();
        }
      }
    }
  }

  // ---- every second ----

  private static EverySecond everySecond(
      LocalCluster cluster,
      Connection db,
      Options o,
      String durability,
      long deadline,
      PrintStream out)
      throws Exception {
    cluster.submit(definition(EVERY_SECOND, "* * * * * *", true));
    await(
        db,
        "SELECT count(*) FROM ferry.schedules WHERE name = '" + EVERY_SECOND + "'",
        1,
        deadline);
    Instant from =
        Instant.now().plusSeconds(o.warmupSeconds()).truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
    Instant to = from.plusSeconds(o.seconds());
    out.printf(
        "Every-second schedule defined: warm-up until %s, then %d ticks measured (until %s)%n",
        from, o.seconds(), to);
    // Until the last measured tick's job has had time to start; then as long as some still have
    // not (up to 30 s).
    Instant settle = to.plusSeconds(1);
    Instant giveUp = to.plusSeconds(30);
    long lastPrint = 0;
    while (true) {
      Instant now = Instant.now();
      long[] p = everySecondProgress(db, from, to);
      boolean done = !now.isBefore(settle) && p[0] >= o.seconds() && p[1] == p[0];
      if (done || now.isAfter(giveUp)) {
        break;
      }
      checkDeadline(deadline, "the every-second schedule");
      if (System.nanoTime() - lastPrint >= 5_000_000_000L) {
        lastPrint = System.nanoTime();
        if (now.isBefore(from)) {
          out.printf("  warm-up: %d s left%n", Duration.between(now, from).toSeconds() + 1);
        } else {
          out.printf(
              Locale.ROOT,
              "  %d of %d ticks made, %d started, last lag %.1f ms%n",
              p[0],
              o.seconds(),
              p[1],
              p[2] / 1000.0);
        }
      }
      Thread.sleep(250); // progress polling at a human pace
    }
    // Pause it so that it does not run beside the many schedules.
    cluster.submit(definition(EVERY_SECOND, "* * * * * *", false));
    await(
        db,
        "SELECT count(*) FROM ferry.schedules WHERE name = '" + EVERY_SECOND + "' AND NOT enabled",
        1,
        deadline);

    List<Double> lags = new ArrayList<>();
    Set<Instant> ticks = new HashSet<>();
    int rows = 0;
    int wrongIds = 0;
    int notStarted = 0;
    List<Row> hopRows = new ArrayList<>();
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT j.id, j.next_run_at, j.created_at, a.started_at FROM ferry.jobs j"
                + " LEFT JOIN ferry.job_attempts a ON a.job_id = j.id AND a.attempt = 1"
                + " WHERE j.schedule_name = ? AND j.next_run_at >= ? AND j.next_run_at < ?")) {
      ps.setString(1, EVERY_SECOND);
      ps.setTimestamp(2, Timestamp.from(from));
      ps.setTimestamp(3, Timestamp.from(to));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows++;
          UUID id = rs.getObject(1, UUID.class);
          Instant tick = rs.getTimestamp(2).toInstant();
          ticks.add(tick);
          if (!id.equals(Scheduler.tickId(EVERY_SECOND, tick))) {
            wrongIds++;
          }
          Timestamp started = rs.getTimestamp(4);
          if (started == null) {
            notStarted++;
            continue;
          }
          Row r = new Row(id, tick, rs.getTimestamp(3).toInstant(), started.toInstant());
          hopRows.add(r);
          lags.add(ms(tick, r.started()));
        }
      }
    }
    int missing = 0;
    for (Instant t = from; t.isBefore(to); t = t.plusSeconds(1)) {
      if (!ticks.contains(t)) {
        missing++;
        out.println("  missing tick " + t);
      }
    }
    printHops("every-second", cluster.config(), hopRows, out);
    return new EverySecond(
        o.seconds(),
        ticks.size(),
        missing,
        rows - ticks.size(),
        wrongIds,
        notStarted,
        Stats.of(lags),
        o.orchestrators(),
        durability);
  }

  /** Ticks made in [from, to), started, and the lag of the last started one (µs). */
  private static long[] everySecondProgress(Connection db, Instant from, Instant to)
      throws SQLException {
    String where =
        " FROM ferry.jobs j LEFT JOIN ferry.job_attempts a ON a.job_id = j.id AND a.attempt = 1"
            + " WHERE j.schedule_name = ? AND j.next_run_at >= ? AND j.next_run_at < ?";
    long[] out = new long[3];
    try (PreparedStatement counts =
            db.prepareStatement("SELECT count(*), count(a.started_at)" + where);
        PreparedStatement last =
            db.prepareStatement(
                "SELECT (extract(epoch FROM a.started_at - j.next_run_at) * 1000000)::bigint"
                    + where
                    + " AND a.started_at IS NOT NULL ORDER BY j.next_run_at DESC LIMIT 1")) {
      for (PreparedStatement ps : List.of(counts, last)) {
        ps.setString(1, EVERY_SECOND);
        ps.setTimestamp(2, Timestamp.from(from));
        ps.setTimestamp(3, Timestamp.from(to));
      }
      try (ResultSet rs = counts.executeQuery()) {
        rs.next();
        out[0] = rs.getLong(1);
        out[1] = rs.getLong(2);
      }
      try (ResultSet rs = last.executeQuery()) {
        out[2] = rs.next() ? rs.getLong(1) : 0;
      }
    }
    return out;
  }

  // ---- many schedules ----

  /** Sends every definition to the submissions topic in batches; fails if Kafka refuses one. */
  private static void define(FerryConfig config, Options o, PrintStream out) throws Exception {
    out.printf(
        "Defining %,d schedules '%s' (noop) through the submissions topic…%n",
        o.schedules(), o.cron());
    Properties p = new Properties();
    p.putAll(config.kafkaProperties());
    p.put("acks", "all");
    p.put("linger.ms", "20");
    p.put("batch.size", "262144");
    String topic = Topics.withPrefix(config.topicPrefix()).submit();
    AtomicInteger refused = new AtomicInteger();
    AtomicReference<Exception> last = new AtomicReference<>();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 1; i <= o.schedules(); i++) {
        byte[] value = definition(name(i), o.cron(), true).getBytes(StandardCharsets.UTF_8);
        var unused =
            producer.send(
                new ProducerRecord<>(topic, value),
                (metadata, e) -> {
                  if (e != null) {
                    refused.incrementAndGet();
                    last.set(e);
                  }
                });
      }
      producer.flush();
    }
    if (refused.get() > 0) {
      throw new IllegalStateException(
          refused.get() + " schedule definitions refused by Kafka: " + last.get(), last.get());
    }
  }

  private static void awaitStored(Connection db, int n, long deadline, PrintStream out)
      throws Exception {
    long lastPrint = System.nanoTime();
    while (true) {
      long stored =
          count(db, "SELECT count(*) FROM ferry.schedules WHERE name LIKE '" + MANY_PREFIX + "%'");
      if (stored >= n) {
        return;
      }
      checkDeadline(deadline, "the schedule definitions");
      if (System.nanoTime() - lastPrint >= 2_000_000_000L) {
        lastPrint = System.nanoTime();
        out.printf("  %,d of %,d schedules stored%n", stored, n);
      }
      Thread.sleep(100); // progress polling
    }
  }

  /**
   * The first tick every one of the schedules fires: each fires every tick from its {@code
   * next_fire_at} on, so the latest of these.
   */
  private static Instant firstCommonTick(Connection db) throws SQLException {
    try (var st = db.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT max(next_fire_at) FROM ferry.schedules WHERE name LIKE '"
                    + MANY_PREFIX
                    + "%'")) {
      rs.next();
      return rs.getTimestamp(1).toInstant();
    }
  }

  private record TickRows(Tick tick, List<Double> lags) {}

  private static TickRows tick(
      FerryConfig config, Connection db, Instant tick, Options o, long deadline, PrintStream out)
      throws Exception {
    long lastPrint = 0;
    while (Instant.now().isBefore(tick)) {
      checkDeadline(deadline, "tick " + tick);
      if (System.nanoTime() - lastPrint >= 10_000_000_000L) {
        lastPrint = System.nanoTime();
        out.printf(
            "  next tick %s in %d s%n",
            tick, Duration.between(Instant.now(), tick).toSeconds() + 1);
      }
      Thread.sleep(Math.min(250, Math.max(1, Duration.between(Instant.now(), tick).toMillis())));
    }
    Instant giveUp = tick.plus(TICK_WAIT);
    lastPrint = System.nanoTime();
    String counts =
        "SELECT count(*), count(a.started_at) FROM ferry.jobs j"
            + " LEFT JOIN ferry.job_attempts a ON a.job_id = j.id AND a.attempt = 1"
            + " WHERE j.schedule_name LIKE ? AND j.next_run_at = ?";
    while (true) {
      long created;
      long started;
      try (PreparedStatement ps = db.prepareStatement(counts)) {
        ps.setString(1, MANY_PREFIX + "%");
        ps.setTimestamp(2, Timestamp.from(tick));
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          created = rs.getLong(1);
          started = rs.getLong(2);
        }
      }
      if (started >= o.schedules() || Instant.now().isAfter(giveUp)) {
        break;
      }
      checkDeadline(deadline, "tick " + tick);
      if (System.nanoTime() - lastPrint >= 1_000_000_000L) {
        lastPrint = System.nanoTime();
        out.printf(
            Locale.ROOT,
            "  tick %s +%.1f s: %,d jobs made, %,d started%n",
            tick,
            Duration.between(tick, Instant.now()).toMillis() / 1000.0,
            created,
            started);
      }
      Thread.sleep(200); // progress polling
    }
    List<Row> rows = new ArrayList<>();
    Set<String> names = new HashSet<>();
    int created = 0;
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT j.id, j.schedule_name, j.created_at, a.started_at FROM ferry.jobs j"
                + " LEFT JOIN ferry.job_attempts a ON a.job_id = j.id AND a.attempt = 1"
                + " WHERE j.schedule_name LIKE ? AND j.next_run_at = ?")) {
      ps.setString(1, MANY_PREFIX + "%");
      ps.setTimestamp(2, Timestamp.from(tick));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          created++;
          names.add(rs.getString(2));
          Timestamp started = rs.getTimestamp(4);
          rows.add(
              new Row(
                  rs.getObject(1, UUID.class),
                  tick,
                  rs.getTimestamp(3).toInstant(),
                  started == null ? null : started.toInstant()));
        }
      }
    }
    List<Double> lags = new ArrayList<>();
    List<Double> rowLags = new ArrayList<>();
    List<Row> startedRows = new ArrayList<>();
    for (Row r : rows) {
      rowLags.add(ms(tick, r.created()));
      if (r.started() != null) {
        lags.add(ms(tick, r.started()));
        startedRows.add(r);
      }
    }
    long within = lags.stream().filter(l -> l <= TARGET_SPREAD_MS).count();
    printHops("tick " + tick, config, startedRows, out);
    return new TickRows(
        new Tick(
            tick,
            o.schedules(),
            created,
            created - names.size(),
            lags.size(),
            within,
            Stats.of(lags),
            Stats.of(rowLags)),
        lags);
  }

  // ---- shared ----

  /** A tick's job: its tick, its row's {@code created_at} and its first attempt's start. */
  private record Row(UUID id, Instant tick, Instant created, Instant started) {}

  /**
   * Where the tick → start time goes: tick → row (scheduler), row → work record (dispatcher), work
   * record → start (Kafka and the worker); p50/p99/max ms each.
   */
  private static void printHops(String what, FerryConfig config, List<Row> rows, PrintStream out) {
    if (rows.isEmpty()) {
      return;
    }
    Map<UUID, Instant> work = workRecordTimes(config);
    List<Double> scheduler = new ArrayList<>();
    List<Double> dispatch = new ArrayList<>();
    List<Double> worker = new ArrayList<>();
    for (Row r : rows) {
      scheduler.add(ms(r.tick(), r.created()));
      Instant w = work.get(r.id());
      if (w != null) {
        dispatch.add(ms(r.created(), w));
        worker.add(ms(w, r.started()));
      }
    }
    out.printf(
        "  %s hops p50/p99/max ms: tick→job row (scheduler) %s, job row→work record"
            + " (dispatcher) %s, work record→start (Kafka, worker) %s%n",
        what, Stats.of(scheduler).brief(), Stats.of(dispatch).brief(), Stats.of(worker).brief());
  }

  /** The create time of each job's first work record, from the work topic. */
  private static Map<UUID, Instant> workRecordTimes(FerryConfig config) {
    String work = Topics.withPrefix(config.topicPrefix()).work();
    Map<UUID, Instant> times = new HashMap<>();
    Properties p = new Properties();
    p.putAll(config.kafkaProperties());
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts =
          consumer.partitionsFor(work).stream()
              .map(i -> new TopicPartition(work, i.partition()))
              .toList();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts);
      while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.key() == null) {
            continue;
          }
          times.merge(
              UUID.fromString(r.key()),
              Instant.ofEpochMilli(r.timestamp()),
              (a, b) -> a.isBefore(b) ? a : b);
        }
      }
    }
    return times;
  }

  /** A schedule definition: a noop job template with a {@code schedule} field. */
  static String definition(String name, String cron, boolean enabled) {
    ObjectNode n = JSON.createObjectNode();
    n.put("type", "noop");
    n.putObject("payload").put("schedule", name);
    ObjectNode s = n.putObject("schedule");
    s.put("name", name);
    s.put("cron", cron);
    s.put("timeZone", "UTC");
    s.put("misfire", "skip");
    s.put("enabled", enabled);
    return n.toString();
  }

  private static String name(int i) {
    return String.format(Locale.ROOT, "%s%06d", MANY_PREFIX, i);
  }

  private static double ms(Instant from, Instant to) {
    return Duration.between(from, to).toNanos() / 1e6;
  }

  private static long count(Connection db, String sql) throws SQLException {
    try (var st = db.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void await(Connection db, String sql, long n, long deadline) throws Exception {
    while (count(db, sql) < n) {
      checkDeadline(deadline, sql);
      Thread.sleep(50); // polling the database, as an operator would
    }
  }

  private static void checkDeadline(long deadline, String what) {
    if (System.nanoTime() > deadline) {
      throw new IllegalStateException("timed out (--timeout-s) waiting for " + what);
    }
  }
}
