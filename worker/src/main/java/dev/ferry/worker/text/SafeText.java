package dev.ferry.worker.text;

/**
 * User input echoed in an error or reason (a URL, a header value, an exception message): control
 * characters are escaped, so no CR/LF ends up in a log line or a header, and the text is capped.
 */
public final class SafeText {
  /** The cap used where none is given. */
  public static final int DEFAULT_MAX = 200;

  private SafeText() {}

  /** {@code s} with control characters escaped, at most {@value #DEFAULT_MAX} chars of it. */
  public static String of(String s) {
    return of(s, DEFAULT_MAX);
  }

  /**
   * {@code s} with control characters escaped ({@code \n}, {@code \r}, {@code \t}, others as
   * {@code \}{@code uXXXX}), cut after {@code max} input characters with a note of how many more
   * there were; "null" for null.
   */
  public static String of(String s, int max) {
    if (s == null) {
      return "null";
    }
    int n = Math.min(s.length(), max);
    if (n < s.length() && n > 0 && Character.isHighSurrogate(s.charAt(n - 1))) {
      n--; // do not cut a surrogate pair in half
    }
    StringBuilder b = new StringBuilder(n + 16);
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    if (n < s.length()) {
      b.append("…(").append(s.length() - n).append(" more chars)");
    }
    return b.toString();
  }
}
