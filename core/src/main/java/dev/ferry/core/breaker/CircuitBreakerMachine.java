package dev.ferry.core.breaker;

import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * The breaker's state machine as pure functions of (state, calls, now, config): no clock, no
 * database, no threads. The shared layer applies them under a row lock; tests apply them with a
 * fake clock. Legal transitions: CLOSED→OPEN (rates over threshold), OPEN→HALF_OPEN (first trial
 * permit after {@code retry_at}), HALF_OPEN→CLOSED (enough trial successes), HALF_OPEN→OPEN (a
 * trial failure), and any→any by an operator ({@link #force}, {@link #reset}).
 */
public final class CircuitBreakerMachine {
  private CircuitBreakerMachine() {}

  /** A change of state, for events and logs. */
  public record Transition(
      String dependency,
      BreakerState from,
      BreakerState to,
      long generation,
      Instant at,
      String reason) {}

  /** The state after a step, and the transition it made (null if none). */
  public record Step(BreakerSnapshot snapshot, Transition transition) {}

  /** The answer to a request for a trial call. */
  public record Permit(boolean granted, Step step) {}

  /** What a replica may do with a call, from its local view alone. */
  public enum Admission {
    /** Call the dependency. */
    CALL,
    /** Ask the shared state for a trial permit first (OPEN past retry_at, or HALF_OPEN). */
    TRIAL,
    /** Do not call; defer the job until {@code retry_at}. */
    DEFER
  }

  /** The local decision, without a database round trip. */
  public static Admission admit(BreakerSnapshot s, Instant now) {
    return switch (s.state()) {
      case CLOSED -> Admission.CALL;
      case OPEN ->
          s.forced() == BreakerState.OPEN || s.retryAt() == null || now.isBefore(s.retryAt())
              ? Admission.DEFER
              : Admission.TRIAL;
      case HALF_OPEN -> Admission.TRIAL;
    };
  }

  /**
   * Records reported calls (in report order) as if all were admitted in the current epoch: for
   * tools and tests; workers report {@link Outcomes} with the epochs their calls carry.
   */
  public static Step record(BreakerSnapshot s, List<Call> calls, Instant now, BreakerConfig c) {
    return record(s, Outcomes.of(calls, s.epoch(), c), now, c);
  }

  /**
   * Records gathered call outcomes. CLOSED counts every call in its window; OPEN ignores them
   * (calls in flight when it opened change nothing); HALF_OPEN counts only the calls admitted in
   * its current epoch, i.e. its trial calls: any failed (or, when slowness counts, slow) trial
   * re-opens it, otherwise enough successful trials close it. A call admitted before the trip, or
   * under an expired permit, is never a trial.
   */
  public static Step record(BreakerSnapshot s, Outcomes calls, Instant now, BreakerConfig c) {
    if (calls.isEmpty()) {
      return new Step(s, null);
    }
    return switch (s.state()) {
      case CLOSED -> {
        SlidingWindow w = s.window().plus(calls, now.getEpochSecond());
        BreakerSnapshot next = with(s, w);
        SlidingWindow.Totals t = w.totals(now.getEpochSecond());
        boolean tooMany =
            t.calls() >= c.minimumCalls()
                && (t.failureRate() >= c.failureRateThreshold()
                    || t.slowRate() >= c.slowCallRateThreshold());
        if (tooMany && s.forced() == null) {
          String why =
              String.format(
                  Locale.ROOT,
                  "failure rate %.0f%%, slow rate %.0f%% over %d calls",
                  t.failureRate(),
                  t.slowRate(),
                  t.calls());
          yield open(next, now, c, s.trips() + 1, why);
        }
        yield new Step(next, null);
      }
      // Calls that were in flight when the breaker opened change nothing.
      case OPEN -> new Step(s, null);
      case HALF_OPEN -> {
        Outcomes.Trials trials = calls.trials(s.epoch());
        int bad = trials.failed() + (c.slowCallRateThreshold() < 100.0 ? trials.slowOk() : 0);
        if (bad > 0) {
          yield open(s, now, c, s.trips() + 1, "trial call failed");
        }
        int successes = s.halfOpenSuccesses() + trials.calls();
        if (successes >= c.halfOpenCalls()) {
          BreakerSnapshot closed =
              new BreakerSnapshot(
                  s.dependency(),
                  BreakerState.CLOSED,
                  s.generation() + 1,
                  s.epoch() + 1,
                  SlidingWindow.empty(c.windowType(), c.windowSize()),
                  null,
                  null,
                  0,
                  0,
                  0,
                  null,
                  now);
          yield new Step(closed, transition(s, closed, now, successes + " trial calls succeeded"));
        }
        yield new Step(
            new BreakerSnapshot(
                s.dependency(),
                s.state(),
                s.generation(),
                s.epoch(),
                s.window(),
                s.openedAt(),
                s.retryAt(),
                s.trips(),
                s.halfOpenPermits(),
                successes,
                s.forced(),
                s.since()),
            null);
      }
    };
  }

  /** Grants or refuses a trial call; OPEN past {@code retry_at} becomes HALF_OPEN. */
  public static Permit acquire(BreakerSnapshot s, Instant now, BreakerConfig c) {
    return switch (s.state()) {
      case CLOSED -> new Permit(true, new Step(s, null));
      case OPEN -> {
        if (s.forced() == BreakerState.OPEN || s.retryAt() == null || now.isBefore(s.retryAt())) {
          yield new Permit(false, new Step(s, null));
        }
        BreakerSnapshot half =
            new BreakerSnapshot(
                s.dependency(),
                BreakerState.HALF_OPEN,
                s.generation() + 1,
                s.epoch() + 1,
                s.window(),
                s.openedAt(),
                s.retryAt(),
                s.trips(),
                1,
                0,
                null,
                now);
        yield new Permit(true, new Step(half, transition(s, half, now, "open period over")));
      }
      case HALF_OPEN -> {
        // Permits of trial calls whose outcome never came (a crashed worker) expire; a new
        // epoch begins, so outcomes of the expired ones that come late are not trial results.
        boolean stale = s.since() != null && now.isAfter(s.since().plus(permitExpiry(c)));
        if (s.halfOpenPermits() < c.halfOpenCalls() || stale) {
          int permits = stale ? 1 : s.halfOpenPermits() + 1;
          BreakerSnapshot next =
              new BreakerSnapshot(
                  s.dependency(),
                  s.state(),
                  s.generation(),
                  stale ? s.epoch() + 1 : s.epoch(),
                  s.window(),
                  s.openedAt(),
                  s.retryAt(),
                  s.trips(),
                  permits,
                  stale ? 0 : s.halfOpenSuccesses(),
                  s.forced(),
                  stale ? now : s.since());
          yield new Permit(true, new Step(next, null));
        }
        yield new Permit(false, new Step(s, null));
      }
    };
  }

  /**
   * An operator forces the state: OPEN stays open until {@code until} (null: until closed or
   * reset), CLOSED stays closed whatever the failures.
   */
  public static Step force(
      BreakerSnapshot s, BreakerState target, Instant now, Instant until, BreakerConfig c) {
    BreakerSnapshot next =
        switch (target) {
          case OPEN ->
              new BreakerSnapshot(
                  s.dependency(),
                  BreakerState.OPEN,
                  s.generation() + 1,
                  s.epoch() + 1,
                  SlidingWindow.empty(c.windowType(), c.windowSize()),
                  now,
                  until,
                  s.trips(),
                  0,
                  0,
                  until == null ? BreakerState.OPEN : null,
                  now);
          case CLOSED ->
              new BreakerSnapshot(
                  s.dependency(),
                  BreakerState.CLOSED,
                  s.generation() + 1,
                  s.epoch() + 1,
                  SlidingWindow.empty(c.windowType(), c.windowSize()),
                  null,
                  null,
                  0,
                  0,
                  0,
                  BreakerState.CLOSED,
                  now);
          case HALF_OPEN ->
              throw new IllegalArgumentException("a breaker can be forced OPEN or CLOSED");
        };
    return new Step(next, transition(s, next, now, "forced " + target + " by an operator"));
  }

  /** Back to a fresh CLOSED breaker that opens and closes by itself again. */
  public static Step reset(BreakerSnapshot s, Instant now, BreakerConfig c) {
    BreakerSnapshot next =
        new BreakerSnapshot(
            s.dependency(),
            BreakerState.CLOSED,
            s.generation() + 1,
            s.epoch() + 1,
            SlidingWindow.empty(c.windowType(), c.windowSize()),
            null,
            null,
            0,
            0,
            0,
            null,
            now);
    return new Step(next, transition(s, next, now, "reset by an operator"));
  }

  /** How long HALF_OPEN waits for its trial outcomes before granting permits again. */
  public static java.time.Duration permitExpiry(BreakerConfig c) {
    return java.time.Duration.ofMillis(Math.max(c.openMs(), 60_000));
  }

  private static Step open(BreakerSnapshot s, Instant now, BreakerConfig c, int trips, String why) {
    BreakerSnapshot opened =
        new BreakerSnapshot(
            s.dependency(),
            BreakerState.OPEN,
            s.generation() + 1,
            s.epoch() + 1,
            SlidingWindow.empty(c.windowType(), c.windowSize()),
            now,
            now.plus(c.openDuration(trips)),
            trips,
            0,
            0,
            null,
            now);
    return new Step(opened, transition(s, opened, now, why));
  }

  private static BreakerSnapshot with(BreakerSnapshot s, SlidingWindow w) {
    return new BreakerSnapshot(
        s.dependency(),
        s.state(),
        s.generation(),
        s.epoch(),
        w,
        s.openedAt(),
        s.retryAt(),
        s.trips(),
        s.halfOpenPermits(),
        s.halfOpenSuccesses(),
        s.forced(),
        s.since());
  }

  private static Transition transition(
      BreakerSnapshot from, BreakerSnapshot to, Instant now, String why) {
    return new Transition(from.dependency(), from.state(), to.state(), to.generation(), now, why);
  }
}
