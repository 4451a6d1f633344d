package dev.ferry.core.breaker;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The recent calls of a breaker, count- or time-based. Immutable: {@link #plus} returns a new
 * window. Its compact text form is what {@code ferry.circuit_breakers.window} stores.
 *
 * <p>Count window: one character per call, oldest first: {@code s} success, {@code f} failure,
 * upper case when slow. Time window: per second {@code epochSecond:calls:failures:slow}, joined by
 * {@code ;}.
 */
public final class SlidingWindow {
  /** Totals over the window. */
  public record Totals(int calls, int failures, int slow) {
    public double failureRate() {
      return calls == 0 ? 0 : 100.0 * failures / calls;
    }

    public double slowRate() {
      return calls == 0 ? 0 : 100.0 * slow / calls;
    }
  }

  private final WindowType type;
  private final int size;
  private final String ring;
  private final List<long[]> buckets;

  private SlidingWindow(WindowType type, int size, String ring, List<long[]> buckets) {
    this.type = type;
    this.size = size;
    this.ring = ring;
    this.buckets = buckets;
  }

  public static SlidingWindow empty(WindowType type, int size) {
    return new SlidingWindow(type, size, "", List.of());
  }

  /** Parses the stored form; an unreadable or mismatched form yields an empty window. */
  public static SlidingWindow parse(WindowType type, int size, String text) {
    if (text == null || text.isEmpty()) {
      return empty(type, size);
    }
    if (type == WindowType.COUNT) {
      if (!text.matches("[sfSF]*")) {
        return empty(type, size);
      }
      return new SlidingWindow(
          type,
          size,
          text.length() > size ? text.substring(text.length() - size) : text,
          List.of());
    }
    List<long[]> b = new ArrayList<>();
    try {
      for (String part : text.split(";")) {
        String[] f = part.split(":");
        b.add(
            new long[] {
              Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3])
            });
      }
    } catch (RuntimeException e) {
      return empty(type, size);
    }
    return new SlidingWindow(type, size, "", List.copyOf(b));
  }

  /** The window with these calls added at {@code epochSecond} (time windows drop old buckets). */
  public SlidingWindow plus(List<Call> calls, long epochSecond) {
    Outcomes o = new Outcomes(type == WindowType.COUNT ? size : 0);
    calls.forEach(c -> o.add(c, 0));
    return plus(o, epochSecond);
  }

  /**
   * The window with gathered outcomes added at {@code epochSecond}: a count window appends their
   * last calls in order, a time window adds their totals to the current second.
   */
  public SlidingWindow plus(Outcomes outcomes, long epochSecond) {
    if (type == WindowType.COUNT) {
      String sb = ring + outcomes.tail();
      String r = sb.length() > size ? sb.substring(sb.length() - size) : sb;
      return new SlidingWindow(type, size, r, List.of());
    }
    Deque<long[]> b = new ArrayDeque<>();
    for (long[] x : buckets) {
      if (x[0] > epochSecond - size) {
        b.add(x.clone());
      }
    }
    long[] current = b.isEmpty() || b.peekLast()[0] != epochSecond ? null : b.peekLast();
    if (current == null && !outcomes.isEmpty()) {
      current = new long[] {epochSecond, 0, 0, 0};
      b.add(current);
    }
    if (current != null) {
      current[1] += outcomes.calls();
      current[2] += outcomes.failures();
      current[3] += outcomes.slow();
    }
    return new SlidingWindow(type, size, "", List.copyOf(b));
  }

  /** Totals of the calls still in the window at {@code epochSecond}. */
  public Totals totals(long epochSecond) {
    if (type == WindowType.COUNT) {
      int f = 0;
      int s = 0;
      for (int i = 0; i < ring.length(); i++) {
        char ch = ring.charAt(i);
        f += (ch == 'f' || ch == 'F') ? 1 : 0;
        s += Character.isUpperCase(ch) ? 1 : 0;
      }
      return new Totals(ring.length(), f, s);
    }
    int calls = 0;
    int f = 0;
    int s = 0;
    for (long[] x : buckets) {
      if (x[0] > epochSecond - size) {
        calls += (int) x[1];
        f += (int) x[2];
        s += (int) x[3];
      }
    }
    return new Totals(calls, f, s);
  }

  /** The stored text form. */
  public String text() {
    if (type == WindowType.COUNT) {
      return ring;
    }
    StringBuilder sb = new StringBuilder();
    for (long[] x : buckets) {
      if (!sb.isEmpty()) {
        sb.append(';');
      }
      sb.append(x[0]).append(':').append(x[1]).append(':').append(x[2]).append(':').append(x[3]);
    }
    return sb.toString();
  }
}
