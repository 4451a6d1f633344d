package dev.ferry.worker.handlers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.ferry.core.json.FerryJson;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;

/**
 * Turns a 2xx response into a result that can be stored anywhere a job's result goes (a Kafka
 * record, a Postgres {@code jsonb} column, a JSON API): JSON text becomes {@code {"status", "body":
 * <the JSON>}}, other valid UTF-8 text {@code {"status","body": "<text>"}}, anything else (invalid
 * UTF-8, NUL characters, also JSON holding {@code \u0000}, which {@code jsonb} rejects) {@code
 * {"status","contentType","bodyBase64"}}. An empty body is {@code "body": null}. Pure.
 */
public final class HttpBodies {
  /** A binary body's {@code contentType} is cut to this many characters: 200. */
  static final int CONTENT_TYPE_MAX_CHARS = 200;

  private HttpBodies() {}

  /** The result of a 2xx answer with this body and {@code Content-Type} (may be null). */
  public static ObjectNode result(int status, byte[] body, String contentType) {
    ObjectNode result = FerryJson.object();
    result.put("status", status);
    if (body.length == 0) {
      result.set("body", NullNode.instance);
      return result;
    }
    String text = utf8(body);
    if (text != null && text.indexOf('\0') < 0) {
      JsonNode json = json(text);
      if (json == null) {
        result.set("body", TextNode.valueOf(text));
        return result;
      }
      if (!holdsNul(json)) {
        result.set("body", json);
        return result;
      }
    }
    result.put(
        "contentType",
        contentType == null
            ? "application/octet-stream"
            : contentType.length() > CONTENT_TYPE_MAX_CHARS
                ? contentType.substring(0, CONTENT_TYPE_MAX_CHARS)
                : contentType);
    result.put("bodyBase64", Base64.getEncoder().encodeToString(body));
    return result;
  }

  /** The text if the bytes are valid UTF-8, else null. */
  private static String utf8(byte[] body) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(body))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /** The JSON value of the whole text, or null if it is not JSON. */
  private static JsonNode json(String text) {
    try {
      JsonNode n = FerryJson.MAPPER.readTree(text);
      return n == null || n.isMissingNode() ? null : n;
    } catch (IOException e) {
      return null;
    }
  }

  private static boolean holdsNul(JsonNode n) {
    if (n.isTextual()) {
      return n.textValue().indexOf('\0') >= 0;
    }
    if (n.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getKey().indexOf('\0') >= 0 || holdsNul(e.getValue())) {
          return true;
        }
      }
      return false;
    }
    for (JsonNode c : n) {
      if (holdsNul(c)) {
        return true;
      }
    }
    return false;
  }
}
