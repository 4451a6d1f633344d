package dev.ferry.core.trace;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * W3C Trace Context ({@code traceparent}) for Ferry's records. A submission's {@code traceparent}
 * header becomes its job's trace (children and spawned jobs share their parent's); every work item,
 * attempt report and event of the job carries it as the same header, and the worker puts its trace
 * id in the logging MDC ({@code traceId}) while the handler runs. A submission without a valid one
 * gets a fresh trace.
 *
 * <p>Format: {@code 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>}, lower case; all-zero
 * ids and version {@code ff} are invalid (W3C Trace Context, level 1).
 */
public final class TraceContext {
  /** The header name on Kafka records. */
  public static final String HEADER = "traceparent";

  /** The MDC key holding the trace id while a job's handler runs. */
  public static final String MDC_TRACE_ID = "traceId";

  private static final HexFormat HEX = HexFormat.of();
  private static final String ZERO_TRACE = "0".repeat(32);
  private static final String ZERO_SPAN = "0".repeat(16);

  private TraceContext() {}

  /** The value if it is a valid {@code traceparent}, otherwise null. */
  public static String validOrNull(String value) {
    if (value == null) {
      return null;
    }
    String v = value.trim();
    // Version 00 is exactly 55 characters; later versions may append fields after a '-'.
    if (v.length() < 55 || (v.length() > 55 && v.charAt(55) != '-')) {
      return null;
    }
    if (v.charAt(2) != '-' || v.charAt(35) != '-' || v.charAt(52) != '-') {
      return null;
    }
    String version = v.substring(0, 2);
    String traceId = v.substring(3, 35);
    String spanId = v.substring(36, 52);
    String flags = v.substring(53, 55);
    if (!isLowerHex(version)
        || !isLowerHex(traceId)
        || !isLowerHex(spanId)
        || !isLowerHex(flags)
        || version.equals("ff")
        || (version.equals("00") && v.length() != 55)
        || traceId.equals(ZERO_TRACE)
        || spanId.equals(ZERO_SPAN)) {
      return null;
    }
    return v.substring(0, 55);
  }

  /** A new trace: random trace and parent ids, sampled. */
  public static String fresh() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    String traceId;
    do {
      traceId = HEX.toHexDigits(r.nextLong()) + HEX.toHexDigits(r.nextLong());
    } while (traceId.equals(ZERO_TRACE));
    long span;
    do {
      span = r.nextLong();
    } while (span == 0);
    return "00-" + traceId + "-" + HEX.toHexDigits(span) + "-01";
  }

  /** The trace id (32 hex digits) of a valid {@code traceparent}, or null. */
  public static String traceId(String traceparent) {
    return traceparent == null || traceparent.length() < 35 ? null : traceparent.substring(3, 35);
  }

  /** The last {@code traceparent} header of a record, if valid; otherwise null. */
  public static String fromHeaders(Headers headers) {
    Header h = headers.lastHeader(HEADER);
    return h == null || h.value() == null
        ? null
        : validOrNull(new String(h.value(), StandardCharsets.US_ASCII));
  }

  /** Sets the {@code traceparent} header (replacing any); nothing when it is null. */
  public static void toHeaders(Headers headers, String traceparent) {
    if (traceparent != null) {
      headers.remove(HEADER);
      headers.add(HEADER, traceparent.getBytes(StandardCharsets.US_ASCII));
    }
  }

  private static boolean isLowerHex(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }
}
