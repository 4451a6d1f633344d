package dev.ferry.cli;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Topics;
import dev.ferry.core.kafka.KafkaClients;
import dev.ferry.core.model.JobStatus;
import dev.ferry.orchestrator.admin.AdminEvents;
import dev.ferry.orchestrator.admin.JobAdmin;
import dev.ferry.orchestrator.admin.Selection;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/** Shared printing and event publishing of {@code ferry cancel} and {@code ferry retry}. */
final class AdminCommands {
  private AdminCommands() {}

  static void report(String verb, List<JobAdmin.Changed> changed) {
    System.out.println(
        verb + " " + changed.size() + " job" + (changed.size() == 1 ? "" : "s") + ".");
    changed.stream()
        .limit(20)
        .forEach(
            c ->
                System.out.println(
                    "  " + c.id() + "  (was " + c.previous() + ", attempts " + c.attempts() + ")"));
    if (changed.size() > 20) {
      System.out.println("  … and " + (changed.size() - 20) + " more");
    }
  }

  /** Publishes one event per changed job; problems with Kafka are reported, not fatal. */
  static void publish(
      FerryConfig config, List<JobAdmin.Changed> changed, JobStatus status, String error) {
    if (changed.isEmpty()) {
      return;
    }
    String topic = Topics.withPrefix(config.topicPrefix()).events();
    try (KafkaProducer<String, byte[]> p = KafkaClients.producer(config, "ferry-cli-admin")) {
      List<Future<RecordMetadata>> sends = new ArrayList<>();
      for (ProducerRecord<String, byte[]> r : AdminEvents.of(topic, changed, status, error)) {
        sends.add(p.send(r));
      }
      for (Future<RecordMetadata> f : sends) {
        f.get();
      }
    } catch (Exception e) {
      System.err.println("ferry: jobs were changed, but publishing their events failed: " + e);
    }
  }

  static Connection connect(FerryConfig config) throws java.sql.SQLException {
    return Sql.connect(config);
  }

  static Selection selection(List<UUID> ids, JobStatus status, String type) {
    return new Selection(ids, status, type);
  }
}
