package dev.ferry.core.breaker;

import java.util.List;

/**
 * The call outcomes of one dependency gathered for one report, in memory that does not grow with
 * the number of calls: totals (what a time window needs), the last calls in order up to the size of
 * a count window (older ones would fall out of it anyway), and the outcomes of the calls admitted
 * in the newest admission epoch seen (only those can be HALF_OPEN trial calls of the shared state;
 * see {@link BreakerSnapshot#epoch()}). A worker keeps one per dependency however long the database
 * is away, and reports it once when it is back.
 *
 * <p>Mutable and not thread-safe: its owner confines or locks it.
 */
public final class Outcomes {
  /** Outcomes of the calls admitted in one epoch: successes, slow successes, failures. */
  public record Trials(int ok, int slowOk, int failed) {
    public int calls() {
      return ok + slowOk + failed;
    }
  }

  private final char[] tail;
  private int tailStart;
  private int tailLength;
  private long calls;
  private long failures;
  private long slow;
  private long epoch = Long.MIN_VALUE;
  private int epochOk;
  private int epochSlowOk;
  private int epochFailed;

  /**
   * @param tailCapacity calls kept in order: a count window's size (0 for a time window)
   */
  public Outcomes(int tailCapacity) {
    if (tailCapacity < 0) {
      throw new IllegalArgumentException("tailCapacity must be >= 0 but was " + tailCapacity);
    }
    this.tail = new char[tailCapacity];
  }

  /** Room for the window of {@code c}: its size for a count window, none for a time window. */
  public static Outcomes forConfig(BreakerConfig c) {
    return new Outcomes(c.windowType() == WindowType.COUNT ? c.windowSize() : 0);
  }

  /** The given calls, all admitted in {@code epoch}, in order. */
  public static Outcomes of(List<Call> calls, long epoch, BreakerConfig c) {
    Outcomes o = forConfig(c);
    for (Call call : calls) {
      o.add(call, epoch);
    }
    return o;
  }

  /** Adds a call admitted in {@code epoch} (-1 when the breaker's state was not known). */
  public void add(Call call, long epoch) {
    char ch = call.failure() ? 'f' : 's';
    addCounted(call.slow() ? Character.toUpperCase(ch) : ch);
    boolean ok = !call.failure();
    addTrials(epoch, ok && !call.slow() ? 1 : 0, ok && call.slow() ? 1 : 0, ok ? 0 : 1);
  }

  private void addCounted(char ch) {
    calls++;
    failures += ch == 'f' || ch == 'F' ? 1 : 0;
    slow += Character.isUpperCase(ch) ? 1 : 0;
    if (tail.length == 0) {
      return;
    }
    if (tailLength < tail.length) {
      tail[(tailStart + tailLength++) % tail.length] = ch;
    } else {
      tail[tailStart] = ch;
      tailStart = (tailStart + 1) % tail.length;
    }
  }

  private void addTrials(long e, int ok, int slowOk, int failed) {
    if (e > epoch) {
      epoch = e;
      epochOk = 0;
      epochSlowOk = 0;
      epochFailed = 0;
    }
    if (e == epoch) {
      epochOk += ok;
      epochSlowOk += slowOk;
      epochFailed += failed;
    }
  }

  /**
   * Appends the outcomes of {@code newer} (calls that finished after all of this one's) and returns
   * this. {@code newer} is left unchanged.
   */
  public Outcomes absorb(Outcomes newer) {
    long olderTotals = newer.calls - newer.tailLength;
    // Calls of newer that are not in its tail: counted, not kept in order (they are older than
    // its tail, so they would have left a window of this size anyway).
    long nf = newer.failures;
    long ns = newer.slow;
    for (int i = 0; i < newer.tailLength; i++) {
      char ch = newer.tail[(newer.tailStart + i) % newer.tail.length];
      nf -= ch == 'f' || ch == 'F' ? 1 : 0;
      ns -= Character.isUpperCase(ch) ? 1 : 0;
    }
    if (olderTotals > 0) {
      // Make room as if they had been added: the tail loses its oldest entries.
      int drop = (int) Math.min(tailLength, olderTotals);
      tailStart = tail.length == 0 ? 0 : (tailStart + drop) % tail.length;
      tailLength -= drop;
      calls += olderTotals;
      failures += nf;
      slow += ns;
    }
    for (int i = 0; i < newer.tailLength; i++) {
      addCounted(newer.tail[(newer.tailStart + i) % newer.tail.length]);
    }
    addTrials(newer.epoch, newer.epochOk, newer.epochSlowOk, newer.epochFailed);
    return this;
  }

  public boolean isEmpty() {
    return calls == 0;
  }

  /** All calls added. */
  public long calls() {
    return calls;
  }

  public long failures() {
    return failures;
  }

  public long slow() {
    return slow;
  }

  /** The newest admission epoch of the calls added ({@link Long#MIN_VALUE} if none). */
  public long epoch() {
    return epoch;
  }

  /** The outcomes of the calls admitted in {@code e}: none unless it is the newest epoch seen. */
  public Trials trials(long e) {
    return e == epoch ? new Trials(epochOk, epochSlowOk, epochFailed) : new Trials(0, 0, 0);
  }

  /**
   * The last calls in order, oldest first, in a count window's text form ({@code s}, {@code f},
   * upper case when slow); at most the tail capacity.
   */
  public String tail() {
    StringBuilder sb = new StringBuilder(tailLength);
    for (int i = 0; i < tailLength; i++) {
      sb.append(tail[(tailStart + i) % tail.length]);
    }
    return sb.toString();
  }
}
