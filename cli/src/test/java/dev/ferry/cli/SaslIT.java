package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.core.config.Topics;
import dev.ferry.core.kafka.KafkaClients;
import dev.ferry.testkit.EmbeddedKafka;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secure Kafka: a broker with a SASL/PLAIN listener; Ferry's orchestrator and worker connect with
 * credentials given as plain pass-through Kafka properties and run a job; an orchestrator with a
 * wrong password exits at once with a clear message and a non-zero code, no hang.
 */
@ExtendWith(FerryExtension.class)
class SaslIT {
  private static final String PASSWORD = "sasl-" + UUID.randomUUID();

  @TempDir Path dir;

  @Test
  void ferryConnectsWithSaslCredentials_andWrongOnesFailFast(FerryTestEnv env) throws Exception {
    EmbeddedKafka broker = env.closeAfter(EmbeddedKafka.startWithSasl(Map.of("ferry", PASSWORD)));
    FerryConfig config =
        sasl(
            env.config().with(Setting.KAFKA_BOOTSTRAP_SERVERS, broker.saslBootstrapServers()),
            PASSWORD);
    Harness.orchestrator(env, config);
    Harness.worker(env, config);
    UUID id = UUID.randomUUID();
    try (KafkaProducer<String, byte[]> p = KafkaClients.producer(config, "sasl-client")) {
      p.send(
              new ProducerRecord<>(
                  Topics.withPrefix(config.topicPrefix()).submit(),
                  ("{\"id\":\"" + id + "\",\"type\":\"echo\",\"payload\":{\"secure\":true}}")
                      .getBytes(StandardCharsets.UTF_8)))
          .get();
    }
    Harness.awaitStatus(env.dataSource(), id, "SUCCEEDED");

    // The same with a wrong password, as a user runs it: a clear error and exit code 4.
    Path log = dir.resolve("orchestrator.log");
    Process p =
        Harness.ferryProcess(
            env,
            config,
            Map.of(
                Setting.KAFKA_BOOTSTRAP_SERVERS.env(),
                broker.saslBootstrapServers(),
                "FERRY_KAFKA_SECURITY_PROTOCOL",
                "SASL_PLAINTEXT",
                "FERRY_KAFKA_SASL_MECHANISM",
                "PLAIN",
                "FERRY_KAFKA_SASL_JAAS_CONFIG",
                jaas("wrong-" + PASSWORD)),
            log,
            "orchestrator");
    assertThat(p.waitFor(90, TimeUnit.SECONDS)).as("exits instead of hanging").isTrue();
    assertThat(p.exitValue()).isEqualTo(4);
    String out = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(out)
        .contains("Kafka refused the connection")
        .containsIgnoringCase("authentication")
        .doesNotContain(PASSWORD);
  }

  private static FerryConfig sasl(FerryConfig c, String password) {
    return c.withKafka("security.protocol", "SASL_PLAINTEXT")
        .withKafka("sasl.mechanism", "PLAIN")
        .withKafka("sasl.jaas.config", jaas(password));
  }

  private static String jaas(String password) {
    return "org.apache.kafka.common.security.plain.PlainLoginModule required "
        + "username=\"ferry\" password=\""
        + password
        + "\";";
  }
}
