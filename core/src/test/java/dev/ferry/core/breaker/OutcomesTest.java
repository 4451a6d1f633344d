package dev.ferry.core.breaker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class OutcomesTest {
  private static final BreakerConfig COUNT =
      new BreakerConfig(WindowType.COUNT, 10, 5, 50, 1000, 100, 10_000, 2.0, 35_000, 3, 0);

  private static Call random(SplittableRandom r) {
    return new Call(r.nextBoolean(), r.nextInt(4) == 0);
  }

  @Test
  void countWindow_keepsOnlyTheLastWindowOfCalls_inOrder() {
    Outcomes o = Outcomes.forConfig(COUNT);
    List<Call> all = new ArrayList<>();
    SplittableRandom r = new SplittableRandom(7);
    for (int i = 0; i < 10_000; i++) {
      Call c = random(r);
      all.add(c);
      o.add(c, 0);
    }
    SlidingWindow expected = SlidingWindow.empty(WindowType.COUNT, 10).plus(all, 0);
    assertThat(o.tail()).hasSize(10).isEqualTo(expected.text());
    assertThat(o.calls()).isEqualTo(10_000);
    assertThat(o.failures()).isEqualTo(all.stream().filter(Call::failure).count());
    assertThat(o.slow()).isEqualTo(all.stream().filter(Call::slow).count());
  }

  @Test
  void absorb_isTheSameAsAddingTheNewerCallsAfterTheOlder() {
    SplittableRandom r = new SplittableRandom(11);
    for (int round = 0; round < 200; round++) {
      Outcomes older = Outcomes.forConfig(COUNT);
      Outcomes newer = Outcomes.forConfig(COUNT);
      Outcomes together = Outcomes.forConfig(COUNT);
      int a = r.nextInt(25);
      int b = r.nextInt(25);
      for (int i = 0; i < a + b; i++) {
        Call c = random(r);
        long epoch = r.nextInt(3);
        (i < a ? older : newer).add(c, epoch);
        together.add(c, epoch);
      }
      older.absorb(newer);
      assertThat(older.tail()).isEqualTo(together.tail());
      assertThat(older.calls()).isEqualTo(together.calls());
      assertThat(older.failures()).isEqualTo(together.failures());
      assertThat(older.slow()).isEqualTo(together.slow());
      assertThat(older.epoch()).isEqualTo(together.epoch());
      assertThat(older.trials(together.epoch())).isEqualTo(together.trials(together.epoch()));
    }
  }

  @Test
  void trials_countOnlyTheNewestEpoch() {
    Outcomes o = Outcomes.forConfig(COUNT);
    o.add(Call.FAILURE, 3);
    o.add(Call.SUCCESS, 5);
    o.add(new Call(false, true), 5);
    o.add(Call.FAILURE, 4);
    assertThat(o.trials(5)).isEqualTo(new Outcomes.Trials(1, 1, 0));
    assertThat(o.trials(3).calls()).isZero();
  }

  @Test
  void timeWindow_addsTotalsToTheCurrentSecond() {
    BreakerConfig time =
        new BreakerConfig(WindowType.TIME, 10, 5, 50, 1000, 100, 10_000, 1, 10_000, 3, 0);
    Outcomes o = Outcomes.forConfig(time);
    for (int i = 0; i < 5_000; i++) {
      o.add(i % 5 == 0 ? Call.FAILURE : new Call(false, i % 2 == 0), 0);
    }
    assertThat(o.tail()).isEmpty();
    SlidingWindow w = SlidingWindow.empty(WindowType.TIME, 10).plus(o, 100);
    assertThat(w.totals(100)).isEqualTo(new SlidingWindow.Totals(5_000, 1_000, 2_000));
  }
}
