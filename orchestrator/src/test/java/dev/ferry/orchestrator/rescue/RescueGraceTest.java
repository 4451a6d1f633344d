package dev.ferry.orchestrator.rescue;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RescueGraceTest {
  private static final long S = 1_000_000_000L;
  private final RescueGrace grace = new RescueGrace(Duration.ofSeconds(5), Duration.ofSeconds(1));

  @Test
  void atStart_holdsForTwiceRescueAfter_thenRescues() {
    long t0 = 1_000 * S;
    assertThat(grace.reached(t0)).isTrue();
    for (int i = 1; i < 10; i++) {
      assertThat(grace.reached(t0 + i * S)).as("second %d", i).isTrue();
    }
    assertThat(grace.reached(t0 + 10 * S)).isFalse();
    assertThat(grace.reached(t0 + 11 * S)).isFalse();
  }

  @Test
  void afterAnOutageLongerThanRescueAfter_holdsAgain_butNotAfterAShortHiccup() {
    long t = 1_000 * S;
    for (int i = 0; i <= 10; i++) {
      grace.reached(t);
      t += S;
    }
    assertThat(grace.reached(t)).isFalse();
    t += 4 * S; // a round that failed for four seconds: shorter than rescue.after
    assertThat(grace.reached(t)).isFalse();
    t += 12 * S; // the database was away for 12 s: every heartbeat is stale
    for (int i = 0; i < 10; i++) {
      assertThat(grace.reached(t + i * S)).as("second %d after the outage", i).isTrue();
    }
    assertThat(grace.reached(t + 10 * S)).isFalse();
  }
}
