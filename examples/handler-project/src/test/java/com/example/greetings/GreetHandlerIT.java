package com.example.greetings;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.testkit.LocalCluster;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The handler inside a whole Ferry: jobs submitted as JSON to the submissions topic, run by a
 * worker, recorded in PostgreSQL. Kafka and PostgreSQL are real (embedded by default; set
 * FERRY_TEST_KAFKA / FERRY_TEST_DB_URL for your own servers).
 */
class GreetHandlerIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static LocalCluster ferry;

  @BeforeAll
  static void start() {
    ferry = LocalCluster.start("greetings", 1, config -> config, List.of(new GreetHandler()));
  }

  @AfterAll
  static void stop() {
    ferry.close();
  }

  @Test
  void aGreetJobSucceedsWithItsGreeting() throws Exception {
    UUID id = ferry.submit("{\"type\":\"greet\",\"payload\":{\"name\":\"Ada\",\"language\":\"de\"}}");
    LocalCluster.Job job = ferry.awaitFinished(id, WAIT);
    assertThat(job.status()).isEqualTo("SUCCEEDED");
    assertThat(job.attempts()).isEqualTo(1);
    assertThat(job.result()).isEqualTo("{\"greeting\": \"Hallo, Ada!\"}");
  }

  @Test
  void aJobWithoutANameFailsAtOnceWithTheHandlersReason() throws Exception {
    UUID id = ferry.submit("{\"type\":\"greet\",\"maxAttempts\":5,\"payload\":{}}");
    LocalCluster.Job job = ferry.awaitFinished(id, WAIT);
    assertThat(job.status()).isEqualTo("FAILED");
    assertThat(job.attempts()).isEqualTo(1);
    assertThat(job.lastError()).contains("payload.name is required");
  }
}
