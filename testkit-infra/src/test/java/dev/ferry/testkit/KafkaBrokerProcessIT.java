package dev.ferry.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class KafkaBrokerProcessIT {
  @Test
  void brokerProcess_survivesKillMinus9WithItsData() throws Exception {
    try (KafkaBrokerProcess broker = KafkaBrokerProcess.create().start()) {
      Properties p = new Properties();
      p.put("bootstrap.servers", broker.bootstrapServers());
      p.put("acks", "all");
      try (KafkaProducer<String, String> producer =
          new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
        producer.send(new ProducerRecord<>("survivor", "k", "before the crash")).get();
      }
      broker.kill();
      broker.start();
      Properties c = new Properties();
      c.put("bootstrap.servers", broker.bootstrapServers());
      c.put("group.id", "g");
      c.put("auto.offset.reset", "earliest");
      List<String> values = new ArrayList<>();
      try (KafkaConsumer<String, String> consumer =
          new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
        consumer.subscribe(List.of("survivor"));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (values.isEmpty() && System.nanoTime() < deadline) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
            values.add(r.value());
          }
        }
      }
      assertThat(values).containsExactly("before the crash");
    }
  }

  @Test
  void extension_givesEachTestItsOwnMigratedDatabase() throws Exception {
    try (FerryTestEnv a = FerryTestEnv.create();
        FerryTestEnv b = FerryTestEnv.create()) {
      assertThat(a.database().url()).isNotEqualTo(b.database().url());
      assertThat(a.topicPrefix()).isNotEqualTo(b.topicPrefix());
      try (var c = a.dataSource().getConnection();
          var rs = c.createStatement().executeQuery("SELECT count(*) FROM ferry.jobs")) {
        rs.next();
        assertThat(rs.getInt(1)).isZero();
      }
    }
  }
}
