package dev.ferry.worker.cancel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.worker.RefusingDataSource;
import dev.ferry.worker.metrics.WorkerMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class CancellationListenerTest {
  private final UUID a = UUID.randomUUID();
  private final UUID b = UUID.randomUUID();

  @Test
  void wellFormedPayload_yieldsEveryCancellation() {
    Map<UUID, Long> ids = new HashMap<>();
    assertThat(CancellationListener.parse(a + ":1, " + b + ":7", ids)).isZero();
    assertThat(ids).containsExactlyInAnyOrderEntriesOf(Map.of(a, 1L, b, 7L));
  }

  @Test
  void malformedEntries_areSkipped_andTheRestStillCount() {
    Map<UUID, Long> ids = new HashMap<>();
    int skipped =
        CancellationListener.parse(
            "garbage,not-a-uuid:1," + a + ":NaN,:3," + b + ":2,\n\u001b[2J", ids);
    assertThat(skipped).isEqualTo(5);
    assertThat(ids).containsExactlyEntriesOf(Map.of(b, 2L));
  }

  @Test
  void garbageNotification_thenAValidOne_theValidOneCounts() {
    Map<UUID, Long> ids = new HashMap<>();
    assertThat(CancellationListener.parse("{\"not\":\"ours\"}", ids)).isEqualTo(1);
    assertThat(CancellationListener.parse("", ids)).isEqualTo(1);
    assertThat(CancellationListener.parse(a + ":4", ids)).isZero();
    assertThat(ids).containsExactlyEntriesOf(Map.of(a, 4L));
  }

  @Test
  void aLostDatabase_isCountedAsALoopError_andTheListenerKeepsTrying() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    DataSource refusing = RefusingDataSource.create();
    // The runner is never reached: no notification can arrive without a connection.
    CancellationListener listener =
        new CancellationListener(refusing, null, new WorkerMetrics(registry, 10));
    listener.start();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> errors(registry) >= 2);
      assertThat(listener.awaitListening(0, TimeUnit.MILLISECONDS)).isFalse();
    } finally {
      listener.close();
    }
  }

  private static double errors(SimpleMeterRegistry registry) {
    Counter c =
        registry.find("ferry.loop.errors").tag("loop", CancellationListener.LOOP_NAME).counter();
    return c == null ? 0 : c.count();
  }
}
