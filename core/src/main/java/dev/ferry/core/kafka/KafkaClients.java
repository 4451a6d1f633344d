package dev.ferry.core.kafka;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds Kafka clients with Ferry's settings plus every pass-through property of the configuration
 * (SASL, TLS …). Keys are job ids as strings, values are raw bytes.
 */
public final class KafkaClients {
  private static final Logger log = LoggerFactory.getLogger(KafkaClients.class);

  private KafkaClients() {}

  private static Properties base(FerryConfig config) {
    Properties p = new Properties();
    p.putAll(config.kafkaProperties());
    return p;
  }

  /**
   * A consumer with manual commits and cooperative-sticky assignment.
   *
   * @param overrides client properties that win over configuration (e.g. max.poll.records)
   */
  public static KafkaConsumer<String, byte[]> consumer(
      FerryConfig config, String groupId, String clientId, Map<String, Object> overrides) {
    Properties p = base(config);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(
        ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
        CooperativeStickyAssignor.class.getName());
    p.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "1000");
    p.putIfAbsent(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "20");
    // A process killed with SIGKILL never leaves its group: its partitions move once the
    // session times out, so keep that to seconds (Kafka's default is 45 s).
    p.putIfAbsent(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
    p.putIfAbsent(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
    // Reconnect to a broker that went away with exponential backoff and jitter (the client
    // adds 20 % jitter), up to 5 s between tries.
    p.putIfAbsent(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "5000");
    p.putAll(overrides);
    return new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
  }

  /** An idempotent producer, acks=all, with a short linger so that sends batch. */
  public static KafkaProducer<String, byte[]> producer(FerryConfig config, String clientId) {
    Properties p = base(config);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    p.putIfAbsent(ProducerConfig.ACKS_CONFIG, "all");
    p.putIfAbsent(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, "131072");
    // No compression by default: Ferry's records are small JSON, and lz4 cost more CPU (in the
    // clients and in the broker, which decompresses to validate) than it saved: throughput
    // 4,300 -> 7,100 jobs/s on a 2-core box. Set kafka.compression.type where the network is
    // the bottleneck.
    p.putIfAbsent(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
    p.putIfAbsent(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
    return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
  }

  /**
   * Waits until every partition of new topics has a leader, so that the first producers do not meet
   * NOT_LEADER errors (which an idempotent producer may turn into sequence errors).
   */
  private static void awaitLeaders(Admin admin, List<String> names, Duration timeout)
      throws InterruptedException, ExecutionException, TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      boolean ready;
      try {
        ready =
            admin
                .describeTopics(names)
                .allTopicNames()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .values()
                .stream()
                .allMatch(d -> d.partitions().stream().allMatch(p -> p.leader() != null));
      } catch (ExecutionException e) {
        ready = false;
      }
      if (ready) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new TimeoutException("topics " + names + " have no leader after " + timeout);
      }
      // Waiting for the controller to elect leaders: there is no event to wait on.
      TimeUnit.MILLISECONDS.sleep(50);
    }
  }

  /** Creates the given topics if missing; existing ones are left as they are. */
  public static void ensureTopics(FerryConfig config, List<String> names, Duration timeout) {
    ensureTopics(config, names, Map.of(), timeout);
  }

  /**
   * Creates the given topics if missing, with per-topic configs (e.g. {@code max.message.bytes} for
   * a submit topic that takes large fan-outs); existing topics are left as they are.
   */
  public static void ensureTopics(
      FerryConfig config,
      List<String> names,
      Map<String, Map<String, String>> topicConfigs,
      Duration timeout) {
    int partitions = config.getInt(Setting.TOPIC_PARTITIONS);
    short replication = (short) config.getInt(Setting.TOPIC_REPLICATION);
    Properties p = base(config);
    p.put("client.id", "ferry-admin");
    try (Admin admin = Admin.create(p)) {
      Set<String> existing =
          admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      List<NewTopic> missing = new ArrayList<>();
      for (String name : names) {
        if (!existing.contains(name)) {
          missing.add(
              new NewTopic(name, partitions, replication)
                  .configs(topicConfigs.getOrDefault(name, Map.of())));
        }
      }
      if (missing.isEmpty()) {
        return;
      }
      Map<String, Exception> failures = new HashMap<>();
      admin
          .createTopics(missing)
          .values()
          .forEach(
              (name, f) -> {
                try {
                  f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                  log.info("Created topic {} ({} partitions)", name, partitions);
                } catch (ExecutionException e) {
                  if (!(e.getCause() instanceof TopicExistsException)) {
                    failures.put(name, e);
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  failures.put(name, e);
                } catch (TimeoutException e) {
                  failures.put(name, e);
                }
              });
      if (!failures.isEmpty()) {
        throw new IllegalStateException(
            "could not create topics " + failures.keySet(), failures.values().iterator().next());
      }
      awaitLeaders(admin, missing.stream().map(NewTopic::name).toList(), timeout);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(
          "cannot reach Kafka at " + config.get(Setting.KAFKA_BOOTSTRAP_SERVERS) + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    }
  }

  /**
   * Records behind the end of a consumer's assigned partitions: the sum of its per-partition {@code
   * records-lag} metrics; -1 when partitions are assigned but not fetched yet. Call it on the
   * consumer's own thread.
   */
  public static long lag(org.apache.kafka.clients.consumer.Consumer<?, ?> consumer) {
    long sum = 0;
    boolean any = false;
    for (var e : consumer.metrics().entrySet()) {
      if (e.getKey().name().equals("records-lag")
          && e.getKey().tags().containsKey("partition")
          && e.getValue().metricValue() instanceof Double d
          && !d.isNaN()) {
        sum += d.longValue();
        any = true;
      }
    }
    return any ? sum : (consumer.assignment().isEmpty() ? 0 : -1);
  }
}
