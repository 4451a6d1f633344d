package dev.ferry.worker.cancel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
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
    int skipped = CancellationListener.parse(
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
}
