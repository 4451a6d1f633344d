package dev.ferry.core.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * The metrics of one Ferry process: a Micrometer registry rendered in the Prometheus text format on
 * {@code /metrics} (next to the health endpoints). Every meter carries the tags {@code role}
 * ({@code orchestrator} or {@code worker}) and {@code ferry_id}. Besides Ferry's own meters it
 * binds the JVM's (memory, GC, threads, CPU, uptime), each Kafka client's ({@code
 * kafka_consumer_*}, {@code kafka_producer_*}: lag per partition, request rates, ...) and the
 * HikariCP pool's ({@code hikaricp_*}).
 */
public final class FerryMetrics implements AutoCloseable {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final List<AutoCloseable> binders = new ArrayList<>();

  public FerryMetrics(String role, String id) {
    registry.config().commonTags("role", role, "ferry_id", id);
    new JvmMemoryMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    binders.add(gc);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** The Prometheus text exposition of every meter. */
  public String scrape() {
    return registry.scrape();
  }

  /** Publishes a Kafka consumer's own metrics (fetch lag per partition, rates, ...). */
  public <C extends Consumer<?, ?>> C bind(C consumer) {
    track(new KafkaClientMetrics(consumer));
    return consumer;
  }

  /** Publishes a Kafka producer's own metrics (send rates, batch sizes, errors, ...). */
  public <P extends Producer<?, ?>> P bind(P producer) {
    track(new KafkaClientMetrics(producer));
    return producer;
  }

  private void track(KafkaClientMetrics m) {
    m.bindTo(registry);
    synchronized (binders) {
      binders.add(m);
    }
  }

  @Override
  public void close() {
    synchronized (binders) {
      for (AutoCloseable b : binders) {
        try {
          b.close();
        } catch (Exception e) {
          // closing a binder only stops its scheduled refresh
        }
      }
      binders.clear();
    }
    registry.close();
  }
}
