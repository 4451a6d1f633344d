package dev.ferry.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.core.json.FerryJson;
import dev.ferry.testkit.Infra;
import dev.ferry.testkit.TestDatabase;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The floor: the least work any Kafka + PostgreSQL job orchestrator must do per job, without
 * Ferry's features, on the same servers and with the same client settings. N submissions (the JSON
 * of the throughput scenario) are produced; an intake stage consumes a poll batch, inserts it with
 * one {@code unnest} statement and produces the work items (acknowledged before the commit); a
 * worker stage consumes work items and produces outcomes; an applier stage consumes outcomes and
 * marks the batch done with one {@code unnest} update. Offsets are committed after each stage's
 * side effects, as in Ferry. Three hops, three batched transactions' worth of work.
 */
public final class FloorBench {
  /** Parameters of a run. */
  public record Options(int jobs, int partitions, Duration timeout, int warmupJobs) {}

  /** Figures of a run. */
  public record Result(
      int jobs,
      double seconds,
      double jobsPerSecond,
      double p50Ms,
      double p99Ms,
      String durability,
      String cpu) {
    public String line() {
      return String.format(
          java.util.Locale.ROOT,
          "RESULT scenario=floor jobs=%d seconds=%.2f jobs_per_s=%.0f p50_ms=%.0f p99_ms=%.0f %s db=%s",
          jobs,
          seconds,
          jobsPerSecond,
          p50Ms,
          p99Ms,
          cpu,
          durability);
    }
  }

  private FloorBench() {}

  public static Result run(Options o, PrintStream out) throws Exception {
    out.println("floor: starting embedded Kafka and PostgreSQL…");
    try (Infra infra = BenchInfra.start()) {
      TestDatabase db = infra.newDatabase("floor_" + Long.toHexString(System.nanoTime()));
      String prefix = "floor" + Long.toHexString(System.nanoTime()) + ".";
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", infra.bootstrapServers()))) {
        admin
            .createTopics(
                List.of(
                    new NewTopic(prefix + "submit", o.partitions(), (short) 1),
                    new NewTopic(prefix + "work", o.partitions(), (short) 1),
                    new NewTopic(prefix + "results", o.partitions(), (short) 1)))
            .all()
            .get();
      }
      String durability;
      try (Connection c = connect(db);
          Statement st = c.createStatement()) {
        st.execute(
            """
            CREATE TABLE floor_jobs (id uuid PRIMARY KEY, payload jsonb NOT NULL,
              status text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
              finished_at timestamptz)""");
        durability = durability(st);
      }
      AtomicBoolean running = new AtomicBoolean(true);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      List<Thread> stages =
          List.of(
              stage(
                  "floor-intake",
                  infra,
                  prefix + "submit",
                  running,
                  failure,
                  (recs, producer, c) -> {
                    int n = recs.count();
                    UUID[] ids = new UUID[n];
                    String[] payloads = new String[n];
                    int i = 0;
                    for (ConsumerRecord<byte[], byte[]> r : recs) {
                      JsonNode j = FerryJson.MAPPER.readTree(r.value());
                      ids[i] = UUID.fromString(j.get("id").asText());
                      payloads[i] = j.get("payload").toString();
                      i++;
                    }
                    // Recorded first (committed), then handed to the workers: an outcome can never
                    // arrive for a row that is not there yet.
                    try (PreparedStatement ps =
                        c.prepareStatement(
                            """
                INSERT INTO floor_jobs (id, payload, status)
                SELECT u.id, u.p::jsonb, 'QUEUED' FROM unnest(?::uuid[], ?::text[]) AS u(id, p)
                ON CONFLICT (id) DO NOTHING""")) {
                      ps.setArray(1, c.createArrayOf("uuid", ids));
                      ps.setArray(2, c.createArrayOf("text", payloads));
                      ps.executeUpdate();
                    }
                    c.commit();
                    List<Future<RecordMetadata>> acks = new ArrayList<>(n);
                    for (int k = 0; k < n; k++) {
                      acks.add(
                          producer.send(
                              new ProducerRecord<>(
                                  prefix + "work",
                                  ids[k].toString().getBytes(StandardCharsets.UTF_8),
                                  ("{\"id\":\""
                                          + ids[k]
                                          + "\",\"type\":\"noop\",\"payload\":"
                                          + payloads[k]
                                          + "}")
                                      .getBytes(StandardCharsets.UTF_8))));
                    }
                    producer.flush();
                    for (Future<RecordMetadata> f : acks) {
                      f.get();
                    }
                  },
                  db),
              stage(
                  "floor-worker",
                  infra,
                  prefix + "work",
                  running,
                  failure,
                  (recs, producer, c) -> {
                    List<Future<RecordMetadata>> acks = new ArrayList<>(recs.count());
                    for (ConsumerRecord<byte[], byte[]> r : recs) {
                      JsonNode j = FerryJson.MAPPER.readTree(r.value());
                      acks.add(
                          producer.send(
                              new ProducerRecord<>(
                                  prefix + "results",
                                  r.key(),
                                  ("{\"id\":\""
                                          + j.get("id").asText()
                                          + "\",\"outcome\":\"SUCCEEDED\"}")
                                      .getBytes(StandardCharsets.UTF_8))));
                    }
                    producer.flush();
                    for (Future<RecordMetadata> f : acks) {
                      f.get();
                    }
                  },
                  null),
              stage(
                  "floor-applier",
                  infra,
                  prefix + "results",
                  running,
                  failure,
                  (recs, producer, c) -> {
                    UUID[] ids = new UUID[recs.count()];
                    int i = 0;
                    for (ConsumerRecord<byte[], byte[]> r : recs) {
                      ids[i++] =
                          UUID.fromString(FerryJson.MAPPER.readTree(r.value()).get("id").asText());
                    }
                    try (PreparedStatement ps =
                        c.prepareStatement(
                            """
                UPDATE floor_jobs j SET status = 'SUCCEEDED', finished_at = now()
                FROM unnest(?::uuid[]) AS u(id) WHERE j.id = u.id AND j.status = 'QUEUED'""")) {
                      ps.setArray(1, c.createArrayOf("uuid", ids));
                      ps.executeUpdate();
                    }
                    c.commit();
                  },
                  db));
      try (KafkaProducer<byte[], byte[]> producer = producer(infra);
          Connection c = connect(db)) {
        // Warm up like the throughput scenario: the same JIT-compiled code for both.
        out.printf("floor: warming up with %,d submissions…%n", o.warmupJobs());
        for (int left = o.warmupJobs(); left > 0; left -= 20_000) {
          int k = Math.min(20_000, left);
          submit(producer, prefix, k);
          await(c, k, o.timeout(), failure, out);
          try (Statement st = c.createStatement()) {
            st.execute("TRUNCATE floor_jobs");
          }
        }
        out.printf("floor: submitting %,d submissions…%n", o.jobs());
        CpuMeter cpu0 = CpuMeter.read();
        submit(producer, prefix, o.jobs());
        await(c, o.jobs(), o.timeout(), failure, out);
        String cpu = CpuMeter.read().since(cpu0, o.jobs());
        running.set(false);
        for (Thread t : stages) {
          t.join(10_000);
        }
        try (Statement st = c.createStatement();
            ResultSet rs =
                st.executeQuery(
                    """
            WITH l AS (SELECT extract(epoch FROM finished_at) * 1000 - (payload->>'t')::bigint AS ms,
                              finished_at, (payload->>'t')::bigint AS t FROM floor_jobs)
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms),
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY ms),
                   extract(epoch FROM max(finished_at)) * 1000 - min(t) FROM l""")) {
          rs.next();
          double seconds = rs.getDouble(3) / 1000.0;
          return new Result(
              o.jobs(),
              seconds,
              o.jobs() / seconds,
              rs.getDouble(1),
              rs.getDouble(2),
              durability,
              cpu);
        }
      } finally {
        running.set(false);
      }
    }
  }

  private static void submit(KafkaProducer<byte[], byte[]> producer, String prefix, int n) {
    Sends sends = new Sends();
    for (int i = 0; i < n; i++) {
      String json =
          "{\"id\":\""
              + UUID.randomUUID()
              + "\",\"type\":\"noop\",\"payload\":{\"t\":"
              + System.currentTimeMillis()
              + "}}";
      sends.send(
          producer, new ProducerRecord<>(prefix + "submit", json.getBytes(StandardCharsets.UTF_8)));
    }
    sends.flush(producer);
  }

  private static void await(
      Connection c, int n, Duration timeout, AtomicReference<Throwable> failure, PrintStream out)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    long lastPrint = 0;
    while (true) {
      if (failure.get() != null) {
        throw new IllegalStateException("floor stage failed", failure.get());
      }
      long done = count(c, "SELECT count(*) FROM floor_jobs WHERE status = 'SUCCEEDED'");
      if (done >= n) {
        return;
      }
      if (System.nanoTime() - lastPrint > 2_000_000_000L) {
        out.printf("floor:   %,d / %,d done%n", done, n);
        lastPrint = System.nanoTime();
      }
      if (System.nanoTime() > deadline) {
        throw new TimeoutException("floor: only " + done + " of " + n + " done");
      }
      Thread.sleep(
          500); // progress polling at a human pace (its count query costs the database CPU)
    }
  }

  /** One batch of a stage: side effects done (and the transaction committed) when it returns. */
  @FunctionalInterface
  interface Step {
    void apply(
        ConsumerRecords<byte[], byte[]> records,
        KafkaProducer<byte[], byte[]> producer,
        Connection c)
        throws Exception;
  }

  private static Thread stage(
      String name,
      Infra infra,
      String topic,
      AtomicBoolean running,
      AtomicReference<Throwable> failure,
      Step step,
      TestDatabase db) {
    return Thread.ofPlatform()
        .name(name)
        .start(
            () -> {
              Properties p = new Properties();
              p.put("bootstrap.servers", infra.bootstrapServers());
              p.put("group.id", name + "-" + topic);
              p.put("enable.auto.commit", "false");
              p.put("auto.offset.reset", "earliest");
              p.put("max.poll.records", "1000");
              p.put("fetch.max.wait.ms", "20");
              try (KafkaConsumer<byte[], byte[]> consumer =
                      new KafkaConsumer<>(
                          p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
                  KafkaProducer<byte[], byte[]> producer = producer(infra);
                  Connection c = db == null ? null : connect(db)) {
                if (c != null) {
                  c.setAutoCommit(false);
                }
                consumer.subscribe(List.of(topic));
                Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                long committed = 0;
                while (running.get()) {
                  ConsumerRecords<byte[], byte[]> recs = consumer.poll(Duration.ofMillis(100));
                  if (recs.isEmpty()) {
                    continue;
                  }
                  step.apply(recs, producer, c);
                  for (TopicPartition tp : recs.partitions()) {
                    List<ConsumerRecord<byte[], byte[]>> rs = recs.records(tp);
                    offsets.put(tp, new OffsetAndMetadata(rs.get(rs.size() - 1).offset() + 1));
                  }
                  // As Ferry's loops: asynchronous commits, at most every 100 ms.
                  if (System.nanoTime() - committed > 100_000_000L) {
                    consumer.commitAsync(new HashMap<>(offsets), null);
                    offsets.clear();
                    committed = System.nanoTime();
                  }
                }
              } catch (Throwable t) {
                failure.compareAndSet(null, t);
              }
            });
  }

  /** The same producer settings as Ferry's clients. */
  private static KafkaProducer<byte[], byte[]> producer(Infra infra) {
    Properties p = new Properties();
    p.put("bootstrap.servers", infra.bootstrapServers());
    p.put("acks", "all");
    p.put("enable.idempotence", "true");
    p.put("linger.ms", "5");
    p.put("batch.size", "131072");
    p.put("compression.type", "none");
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  private static Connection connect(TestDatabase db) throws java.sql.SQLException {
    return DriverManager.getConnection(db.url(), db.user(), db.password());
  }

  private static long count(Connection c, String sql) throws java.sql.SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** The database's durability settings, for the RESULT line. */
  static String durability(Statement st) throws java.sql.SQLException {
    try (ResultSet rs =
        st.executeQuery("SELECT current_setting('fsync'), current_setting('synchronous_commit')")) {
      rs.next();
      return "fsync=" + rs.getString(1) + ",synchronous_commit=" + rs.getString(2);
    }
  }
}
