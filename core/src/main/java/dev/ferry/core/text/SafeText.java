package dev.ferry.core.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Makes text safe to log, to put in a Kafka header or a reason, and to store in PostgreSQL.
 *
 * <p>PostgreSQL refuses NUL in {@code text} (22021) and the escape {@code &#92;u0000} in {@code
 * jsonb} (22P05), and cannot encode an unpaired surrogate; a log line or a header that echoes user
 * text must not carry CR/LF (log injection) or be unbounded. Pure functions, thread-safe.
 */
public final class SafeText {
  /** The most characters of user text a reason or log line echoes. */
  public static final int ECHO_CHARS = 200;

  /** The most characters of an error message stored in {@code last_error} or an attempt row. */
  public static final int ERROR_CHARS = 16_384;

  /** What a NUL character becomes in stored text: the six characters of its JSON escape. */
  public static final String NUL_ESCAPE = "\\u0000";

  private SafeText() {}

  /**
   * User text for a log line, a reason or a header: control characters (C0, DEL, C1, line and
   * paragraph separators) and unpaired surrogates are written as escapes ({@code \n}, {@code
   * &#92;u0000}), and the text is cut after {@code maxChars} with a note of how much was cut.
   */
  public static String echo(String s, int maxChars) {
    if (s == null) {
      return null;
    }
    StringBuilder b = new StringBuilder(Math.min(s.length(), maxChars) + 16);
    int i = 0;
    for (; i < s.length() && b.length() < maxChars; i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        b.append(c).append(s.charAt(++i));
      } else if (needsEscape(c)) {
        switch (c) {
          case '\n' -> b.append("\\n");
          case '\r' -> b.append("\\r");
          case '\t' -> b.append("\\t");
          default -> b.append(String.format("\\u%04x", (int) c));
        }
      } else {
        b.append(c);
      }
    }
    if (i < s.length()) {
      b.append("…(").append(s.length() - i).append(" more characters)");
    }
    return b.toString();
  }

  /** {@link #echo(String, int)} with {@link #ECHO_CHARS}. */
  public static String echo(String s) {
    return echo(s, ECHO_CHARS);
  }

  /**
   * Text PostgreSQL can store: NUL becomes {@link #NUL_ESCAPE}, an unpaired surrogate U+FFFD, and
   * it is cut after {@code maxChars}. Line breaks are kept (a stack trace stays readable). Returns
   * the same instance when nothing needed changing.
   */
  public static String storable(String s, int maxChars) {
    if (s == null) {
      return null;
    }
    if (s.length() <= maxChars && isStorable(s)) {
      return s;
    }
    StringBuilder b = new StringBuilder(Math.min(s.length(), maxChars) + 16);
    int i = 0;
    for (; i < s.length() && b.length() < maxChars; i++) {
      char c = s.charAt(i);
      if (c == 0) {
        b.append(NUL_ESCAPE);
      } else if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        b.append(c).append(s.charAt(++i));
      } else if (Character.isSurrogate(c)) {
        b.append((char) 0xFFFD);
      } else {
        b.append(c);
      }
    }
    if (i < s.length()) {
      b.append("…(").append(s.length() - i).append(" more characters)");
    }
    return b.toString();
  }

  /** An error message as stored: {@link #storable(String, int)} with {@link #ERROR_CHARS}. */
  public static String error(String s) {
    return storable(s, ERROR_CHARS);
  }

  /** Whether PostgreSQL stores the text as it is: no NUL, no unpaired surrogate. */
  public static boolean isStorable(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == 0) {
        return false;
      }
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c)
            && i + 1 < s.length()
            && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else {
          return false;
        }
      }
    }
    return true;
  }

  /** The first problem PostgreSQL would have with the text, or null: for rejection reasons. */
  public static String problem(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == 0) {
        return "contains the NUL character (\\u0000) at position " + i;
      }
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c)
            && i + 1 < s.length()
            && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else {
          return String.format(
              "contains an unpaired surrogate (\\u%04x) at position %d", (int) c, i);
        }
      }
    }
    return null;
  }

  /**
   * A JSON value PostgreSQL's {@code jsonb} accepts: every string and field name made {@linkplain
   * #storable(String, int) storable} (NUL escaped). Returns the same node when nothing needed
   * changing, else a fixed copy.
   */
  public static JsonNode storable(JsonNode node) {
    if (node == null || !needsFix(node)) {
      return node;
    }
    return fix(node);
  }

  private static boolean needsFix(JsonNode n) {
    if (n.isTextual()) {
      return !isStorable(n.textValue());
    }
    if (n.isObject()) {
      for (Map.Entry<String, JsonNode> e : n.properties()) {
        if (!isStorable(e.getKey()) || needsFix(e.getValue())) {
          return true;
        }
      }
    } else if (n.isArray()) {
      for (JsonNode e : n) {
        if (needsFix(e)) {
          return true;
        }
      }
    }
    return false;
  }

  private static JsonNode fix(JsonNode n) {
    if (n.isTextual()) {
      return TextNode.valueOf(storable(n.textValue(), Integer.MAX_VALUE));
    }
    if (n.isObject()) {
      ObjectNode o = JsonNodeFactory.instance.objectNode();
      List<Map.Entry<String, JsonNode>> fields = new ArrayList<>(n.properties());
      for (Map.Entry<String, JsonNode> e : fields) {
        o.set(storable(e.getKey(), Integer.MAX_VALUE), fix(e.getValue()));
      }
      return o;
    }
    if (n.isArray()) {
      ArrayNode a = JsonNodeFactory.instance.arrayNode(n.size());
      for (JsonNode e : n) {
        a.add(fix(e));
      }
      return a;
    }
    return n;
  }

  private static boolean needsEscape(char c) {
    return c < 0x20
        || c == 0x7f
        || (c >= 0x80 && c <= 0x9f)
        || c == 0x2028
        || c == 0x2029
        || Character.isSurrogate(c);
  }
}
