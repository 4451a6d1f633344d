package dev.ferry.core.health;

import dev.ferry.core.loop.Backoff;
import java.sql.SQLException;
import java.sql.SQLTransientException;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up steps that need the database or Kafka (migrations, topics): while the part is not
 * reachable yet (a connection refused, a broker not up) the step is retried with exponential
 * backoff and jitter, logging each wait, up to {@code startup.timeout.ms}; a real error (wrong
 * password, bad URL, no permission) fails at once with its message.
 */
public final class Startup {
  private static final Logger log = LoggerFactory.getLogger(Startup.class);

  /** First wait between two attempts; the waits double (with jitter) up to {@link #MAX_WAIT}. */
  static final Duration FIRST_WAIT = Duration.ofMillis(250);

  static final Duration MAX_WAIT = Duration.ofSeconds(5);

  private Startup() {}

  public static <T> T retry(String what, Duration timeout, Callable<T> step) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Backoff backoff = new Backoff(FIRST_WAIT, MAX_WAIT);
    while (true) {
      try {
        return step.call();
      } catch (Exception e) {
        if (!transientFailure(e) || System.nanoTime() > deadline) {
          if (e instanceof RuntimeException re) {
            throw re;
          }
          throw new IllegalStateException(what + " failed: " + e.getMessage(), e);
        }
        long wait = backoff.next();
        log.warn("{}: not reachable yet ({}); retrying in {} ms", what, rootMessage(e), wait);
        try {
          Thread.sleep(wait); // a real delay between connection attempts
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(what + " interrupted", ie);
        }
      }
    }
  }

  /** Connection refused or timed out, the server starting or shutting down, Kafka timeouts. */
  static boolean transientFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLTransientException) {
        return true;
      }
      if (t instanceof SQLException s
          && s.getSQLState() != null
          && (s.getSQLState().startsWith("08") || s.getSQLState().startsWith("57P"))) {
        return true;
      }
      if (t instanceof java.util.concurrent.TimeoutException
          || t instanceof org.apache.kafka.common.errors.TimeoutException
          || t instanceof java.net.ConnectException) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }
}
