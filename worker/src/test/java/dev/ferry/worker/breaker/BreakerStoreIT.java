package dev.ferry.worker.breaker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.core.breaker.BreakerConfig;
import dev.ferry.core.breaker.BreakerState;
import dev.ferry.core.breaker.Call;
import dev.ferry.core.breaker.CircuitBreakerMachine.Transition;
import dev.ferry.core.breaker.Outcomes;
import dev.ferry.core.breaker.WindowType;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Many replicas reporting at once to the shared breaker state in real Postgres. */
@ExtendWith(FerryExtension.class)
class BreakerStoreIT {
  private static final int THREADS = 8;

  private static <T> List<T> race(int threads, Callable<T> task) throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
      List<Future<T>> fs = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        fs.add(
            pool.submit(
                () -> {
                  go.await();
                  return task.call();
                }));
      }
      go.countDown();
      List<T> out = new ArrayList<>();
      for (Future<T> f : fs) {
        out.add(f.get());
      }
      return out;
    }
  }

  private static Connection connect(FerryTestEnv env) throws Exception {
    return DriverManager.getConnection(
        env.database().url(), env.database().user(), env.database().password());
  }

  @Test
  void concurrentReports_loseNoCount(FerryTestEnv env) throws Exception {
    BreakerConfig cfg =
        new BreakerConfig(WindowType.COUNT, 10_000, 5_000, 50, 60_000, 100, 1000, 1, 1000, 3, 0);
    BreakerStore store = new BreakerStore(d -> cfg);
    race(
        THREADS,
        () -> {
          try (Connection c = connect(env)) {
            for (int i = 0; i < 20; i++) {
              store.record(c, Map.of("counted", Collections.nCopies(10, Call.SUCCESS)));
            }
          }
          return null;
        });
    try (Connection c = connect(env)) {
      var s = store.load(c, List.of("counted")).get("counted");
      assertThat(s.window().totals(0).calls()).isEqualTo(THREADS * 20 * 10);
      assertThat(s.state()).isEqualTo(BreakerState.CLOSED);
    }
  }

  @Test
  void concurrentFailures_makeExactlyOneTransition(FerryTestEnv env) throws Exception {
    BreakerConfig cfg =
        new BreakerConfig(WindowType.COUNT, 20, 5, 50, 60_000, 100, 60_000, 1, 60_000, 3, 0);
    BreakerStore store = new BreakerStore(d -> cfg);
    List<List<Transition>> results =
        race(
            THREADS,
            () -> {
              List<Transition> ts = new ArrayList<>();
              try (Connection c = connect(env)) {
                for (int i = 0; i < 5; i++) {
                  ts.addAll(
                      store
                          .record(c, Map.of("dead", List.of(Call.FAILURE, Call.FAILURE)))
                          .transitions());
                }
              }
              return ts;
            });
    List<Transition> all = results.stream().flatMap(List::stream).toList();
    assertThat(all).hasSize(1);
    assertThat(all.get(0).to()).isEqualTo(BreakerState.OPEN);
    assertThat(all.get(0).generation()).isEqualTo(1);
    try (Connection c = connect(env)) {
      var s = store.load(c, List.of("dead")).get("dead");
      assertThat(s.state()).isEqualTo(BreakerState.OPEN);
      assertThat(s.generation()).isEqualTo(1);
      assertThat(s.trips()).isEqualTo(1);
    }
  }

  @Test
  void concurrentTrialRequests_grantExactlyTheConfiguredPermits(FerryTestEnv env) throws Exception {
    BreakerConfig cfg =
        new BreakerConfig(WindowType.COUNT, 20, 1, 50, 60_000, 100, 1, 1, 60_000, 3, 0);
    BreakerStore store = new BreakerStore(d -> cfg);
    try (Connection c = connect(env)) {
      assertThat(store.record(c, Map.of("flaky", List.of(Call.FAILURE))).transitions()).hasSize(1);
    }
    // OPEN lasts 1 ms: by the time the threads ask, the first permit half-opens it.
    AtomicInteger transitions = new AtomicInteger();
    List<Boolean> granted =
        race(
            THREADS * 2,
            () -> {
              try (Connection c = connect(env)) {
                List<Transition> ts = new ArrayList<>();
                boolean g = store.acquire(c, "flaky", ts);
                transitions.addAndGet(ts.size());
                return g;
              }
            });
    assertThat(granted.stream().filter(g -> g).count()).isEqualTo(3);
    assertThat(transitions.get()).as("one OPEN→HALF_OPEN").isEqualTo(1);
    try (Connection c = connect(env)) {
      var s = store.load(c, List.of("flaky")).get("flaky");
      assertThat(s.state()).isEqualTo(BreakerState.HALF_OPEN);
      assertThat(s.halfOpenPermits()).isEqualTo(3);
      assertThat(s.generation()).isEqualTo(2);
      var closed =
          store.record(c, Map.of("flaky", List.of(Call.SUCCESS, Call.SUCCESS, Call.SUCCESS)));
      assertThat(closed.snapshots().get("flaky").state()).isEqualTo(BreakerState.CLOSED);
      assertThat(closed.transitions())
          .extracting(Transition::to)
          .containsExactly(BreakerState.CLOSED);
    }
  }

  @Test
  void aCallAdmittedBeforeTheTrip_isNotATrial_inTheSharedState(FerryTestEnv env) throws Exception {
    BreakerConfig cfg =
        new BreakerConfig(WindowType.COUNT, 20, 2, 50, 60_000, 100, 1, 1, 60_000, 3, 0);
    BreakerStore store = new BreakerStore(d -> cfg);
    try (Connection c = connect(env)) {
      store.record(c, Map.of("late", List.of(Call.SUCCESS)));
      long closedEpoch = store.load(c, List.of("late")).get("late").epoch();
      assertThat(store.record(c, Map.of("late", List.of(Call.FAILURE, Call.FAILURE))).transitions())
          .extracting(Transition::to)
          .containsExactly(BreakerState.OPEN);
      // OPEN lasts 1 ms: the first permit half-opens it in a new epoch.
      BreakerStore.Grant grant = store.permit(c, "late", new ArrayList<>());
      assertThat(grant.granted()).isTrue();
      assertThat(grant.epoch()).isEqualTo(closedEpoch + 2);

      var late =
          store.report(
              c,
              Map.of("late", Outcomes.of(Collections.nCopies(3, Call.SUCCESS), closedEpoch, cfg)));
      assertThat(late.transitions()).isEmpty();
      var s = store.load(c, List.of("late")).get("late");
      assertThat(s.state()).isEqualTo(BreakerState.HALF_OPEN);
      assertThat(s.halfOpenSuccesses()).isZero();
      assertThat(s.epoch()).as("stored and read back").isEqualTo(grant.epoch());

      var trials =
          store.report(
              c,
              Map.of(
                  "late", Outcomes.of(Collections.nCopies(3, Call.SUCCESS), grant.epoch(), cfg)));
      assertThat(trials.transitions())
          .extracting(Transition::to)
          .containsExactly(BreakerState.CLOSED);
    }
  }

  @Test
  void outcomesGatheredDuringAnOutage_areAppliedOnceWhenTheDatabaseIsBack(FerryTestEnv env)
      throws Exception {
    BreakerConfig cfg =
        new BreakerConfig(WindowType.COUNT, 10_000, 10_000, 50, 60_000, 100, 1000, 1, 1000, 3, 0);
    BreakerStore store = new BreakerStore(d -> cfg);
    PendingOutcomes pending = new PendingOutcomes(d -> cfg);
    for (int i = 0; i < 6_000; i++) {
      pending.add(
          i % 2 == 0 ? "outage-a" : "outage-b", i % 3 == 0 ? Call.FAILURE : Call.SUCCESS, 0);
      if (i % 500 == 499) {
        try {
          pending.flush(
              o -> {
                throw new java.sql.SQLException("the database is away");
              });
        } catch (java.sql.SQLException expected) {
          assertThat(pending.size()).isLessThanOrEqualTo(2);
        }
      }
    }
    try (Connection c = connect(env)) {
      pending.flush(o -> store.report(c, o));
      pending.flush(o -> store.report(c, o));
      var loaded = store.load(c, List.of("outage-a", "outage-b"));
      assertThat(loaded.get("outage-a").window().totals(0).calls()).isEqualTo(3_000);
      assertThat(loaded.get("outage-b").window().totals(0).calls()).isEqualTo(3_000);
      assertThat(
              loaded.get("outage-a").window().totals(0).failures()
                  + loaded.get("outage-b").window().totals(0).failures())
          .isEqualTo(2_000);
    }
  }
}
