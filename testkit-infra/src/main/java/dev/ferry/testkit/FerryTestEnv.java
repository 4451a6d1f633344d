package dev.ferry.testkit;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.migrations.Migrations;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * What one test gets: the shared broker, a fresh migrated database of its own, and a topic prefix
 * of its own, so tests never see each other's jobs. Close it to release its pool and everything
 * registered with {@link #closeAfter}.
 */
public final class FerryTestEnv implements AutoCloseable {
  private static final AtomicInteger COUNTER = new AtomicInteger();

  private final Infra infra;
  private final TestDatabase database;
  private final HikariDataSource dataSource;
  private final String topicPrefix;
  private final Deque<AutoCloseable> closeables = new ArrayDeque<>();

  private FerryTestEnv(Infra infra, TestDatabase database, HikariDataSource ds, String prefix) {
    this.infra = infra;
    this.database = database;
    this.dataSource = ds;
    this.topicPrefix = prefix;
  }

  /** A new environment on the shared infrastructure, with a migrated database. */
  public static FerryTestEnv create() {
    return create(FerryInfra.shared());
  }

  public static FerryTestEnv create(Infra infra) {
    int n = COUNTER.incrementAndGet();
    String suffix = Long.toHexString(System.nanoTime() & 0xffffffL);
    TestDatabase db = infra.newDatabase("ferry_t" + n + "_" + suffix);
    HikariConfig h = new HikariConfig();
    h.setJdbcUrl(db.url());
    h.setUsername(db.user());
    h.setPassword(db.password());
    h.setMaximumPoolSize(4);
    h.setPoolName("test-" + n);
    HikariDataSource ds = new HikariDataSource(h);
    Migrations.migrate(ds);
    return new FerryTestEnv(infra, db, ds, "t" + n + "_" + suffix + ".");
  }

  public String bootstrapServers() {
    return infra.bootstrapServers();
  }

  /** A pooled DataSource on this test's own database (schema {@code ferry} migrated). */
  public HikariDataSource dataSource() {
    return dataSource;
  }

  public TestDatabase database() {
    return database;
  }

  /** This test's topic prefix, e.g. {@code t3_ab12.} (so topics are {@code t3_ab12.submit} …). */
  public String topicPrefix() {
    return topicPrefix;
  }

  /** Ferry configuration pointing at this environment; tests adjust it with {@code with}. */
  public FerryConfig config() {
    return FerryConfig.defaults()
        .with(Setting.KAFKA_BOOTSTRAP_SERVERS, bootstrapServers())
        .with(Setting.DB_URL, database.url())
        .with(Setting.DB_USER, database.user())
        .with(Setting.DB_PASSWORD, database.password())
        .with(Setting.TOPIC_PREFIX, topicPrefix)
        .with(Setting.TOPIC_PARTITIONS, "4")
        .with(Setting.DB_POOL_SIZE, "4")
        .with(Setting.HEALTH_PORT, "0");
  }

  /** A plain producer of raw bytes, like any Kafka client a user would write. */
  public KafkaProducer<byte[], byte[]> rawProducer() {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrapServers());
    p.put("acks", "all");
    KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    closeAfter(producer);
    return producer;
  }

  /** Registers something to close when this environment closes (last registered first). */
  public <T extends AutoCloseable> T closeAfter(T closeable) {
    synchronized (closeables) {
      closeables.push(closeable);
    }
    return closeable;
  }

  @Override
  public void close() {
    RuntimeException failure = null;
    while (true) {
      AutoCloseable c;
      synchronized (closeables) {
        c = closeables.poll();
      }
      if (c == null) {
        break;
      }
      try {
        c.close();
      } catch (Exception e) {
        if (failure == null) {
          failure = new IllegalStateException("closing test resources failed", e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    dataSource.close();
    if (failure != null) {
      throw failure;
    }
  }
}
