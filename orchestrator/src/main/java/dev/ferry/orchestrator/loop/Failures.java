package dev.ferry.orchestrator.loop;

import java.nio.charset.CharacterCodingException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.time.DateTimeException;
import java.util.HashSet;
import java.util.Set;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;

/**
 * Tells the failures of a batch apart, the way Spring Kafka's {@code DefaultErrorHandler} does by
 * exception class: a {@link Kind#TRANSIENT} one (database or broker away, a serialization conflict,
 * a deadlock) is retried with backoff and will pass; a {@link Kind#RECORD} one is caused by
 * something in the data (PostgreSQL refused a value, a record too large for Kafka, text that cannot
 * be encoded) and fails again however often it is retried, so its culprit must be found and set
 * aside. Anything else is {@link Kind#UNKNOWN}: retried a few times like a transient failure, then
 * isolated like a record failure. Pure, thread-safe.
 */
public final class Failures {
  /** How a batch failure is handled. */
  public enum Kind {
    /** Will pass by itself: retry the batch with backoff. */
    TRANSIENT,
    /** Caused by some record of the batch: find it and set it aside. */
    RECORD,
    /** Neither is known: retry a few times, then isolate. */
    UNKNOWN
  }

  private Failures() {}

  /** Classifies a failure by its cause chain (the first cause that says something wins). */
  public static Kind classify(Throwable t) {
    Set<Throwable> seen = new HashSet<>();
    for (Throwable c = t; c != null && seen.add(c); c = next(c)) {
      Kind k = own(c);
      if (k != null) {
        return k;
      }
    }
    return Kind.UNKNOWN;
  }

  /**
   * The reason a record is set aside: the message of the innermost exception that says something (a
   * wrapper's message repeats its cause), escaped and capped.
   */
  public static String reason(Throwable t) {
    Throwable r = t;
    while ((r instanceof java.util.concurrent.ExecutionException
            || r instanceof java.util.concurrent.CompletionException
            || r instanceof java.io.UncheckedIOException)
        && r.getCause() != null) {
      r = r.getCause();
    }
    String m = r.getMessage();
    String text = m == null ? r.getClass().getSimpleName() : m;
    return dev.ferry.core.text.SafeText.echo(text.strip(), 500);
  }

  private static Throwable next(Throwable c) {
    if (c instanceof SQLException s && s.getNextException() != null && c.getCause() == null) {
      return s.getNextException();
    }
    return c.getCause();
  }

  private static Kind own(Throwable c) {
    if (c instanceof SQLException s) {
      String state = s.getSQLState();
      if (state != null && state.length() == 5) {
        return sqlState(state);
      }
      if (s instanceof SQLTransientException || s instanceof SQLRecoverableException) {
        return Kind.TRANSIENT;
      }
      return null; // look at the cause (an IOException from a dropped connection)
    }
    if (c instanceof RecordTooLargeException
        || c instanceof RecordBatchTooLargeException
        || c instanceof InvalidRecordException
        || c instanceof SerializationException) {
      return Kind.RECORD;
    }
    if (c instanceof RetriableException) {
      return Kind.TRANSIENT;
    }
    if (c instanceof java.io.IOException
        && !(c instanceof CharacterCodingException)
        && !(c instanceof com.fasterxml.jackson.core.JacksonException)) {
      return Kind.TRANSIENT;
    }
    if (c instanceof CharacterCodingException
        || c instanceof ArithmeticException
        || c instanceof DateTimeException
        || c instanceof IllegalArgumentException
        || c instanceof com.fasterxml.jackson.core.JacksonException
        || c instanceof dev.ferry.core.json.InvalidSubmissionException) {
      return Kind.RECORD;
    }
    return null;
  }

  /**
   * PostgreSQL error classes: 22 data exception and 23 integrity constraint violation (a value
   * refused), 54 program limit exceeded (an index row or a value too large) are caused by the data;
   * 08 connection, 40 rollback (serialization failure, deadlock), 53 insufficient resources, 55
   * object not in prerequisite state (lock not available), 57 operator intervention (shutdown,
   * statement timeout, cancel) and 58 system errors pass.
   */
  static Kind sqlState(String state) {
    return switch (state.substring(0, 2)) {
      case "22", "23", "54" -> Kind.RECORD;
      case "08", "40", "53", "55", "57", "58" -> Kind.TRANSIENT;
      default -> Kind.UNKNOWN;
    };
  }
}
