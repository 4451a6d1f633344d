package dev.ferry.core.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ConnectException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class StartupTest {

  @Test
  void connectionFailures_areTransient_realErrorsAreNot() {
    assertThat(Startup.transientFailure(new SQLException("refused", "08001"))).isTrue();
    assertThat(Startup.transientFailure(new SQLException("starting up", "57P03"))).isTrue();
    assertThat(
            Startup.transientFailure(
                new IllegalStateException("wrapped", new ConnectException("refused"))))
        .isTrue();
    assertThat(
            Startup.transientFailure(
                new IllegalStateException(
                    "no topics", new org.apache.kafka.common.errors.TimeoutException("no node"))))
        .isTrue();
    assertThat(Startup.transientFailure(new SQLException("bad password", "28P01"))).isFalse();
    assertThat(Startup.transientFailure(new IllegalArgumentException("bad url"))).isFalse();
  }

  @Test
  void retry_retriesTransientFailuresUntilTheStepWorks() {
    AtomicInteger calls = new AtomicInteger();
    int result =
        Startup.retry(
            "step",
            Duration.ofSeconds(30),
            () -> {
              if (calls.incrementAndGet() < 3) {
                throw new SQLException("refused", "08001");
              }
              return 42;
            });
    assertThat(result).isEqualTo(42);
    assertThat(calls).hasValue(3);
  }

  @Test
  void retry_failsAtOnceOnARealError() {
    AtomicInteger calls = new AtomicInteger();
    assertThatThrownBy(
            () ->
                Startup.retry(
                    "Database migrations",
                    Duration.ofSeconds(30),
                    () -> {
                      calls.incrementAndGet();
                      throw new SQLException("password authentication failed", "28P01");
                    }))
        .hasMessageContaining("Database migrations failed: password authentication failed");
    assertThat(calls).hasValue(1);
  }
}
