package dev.ferry.core.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.core.model.ConcurrencySpec;
import dev.ferry.core.model.Dependencies;
import dev.ferry.core.model.FailurePolicy;
import dev.ferry.core.model.ScheduleSpec;
import dev.ferry.core.model.Submission;
import dev.ferry.core.model.UniqueSpec;
import dev.ferry.core.retry.BackoffPolicy;
import dev.ferry.core.retry.BackoffStrategy;
import dev.ferry.core.schedule.CronSchedule;
import dev.ferry.core.text.SafeText;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Strict decoder for submissions. Every rejection names the field and the problem, so the {@code
 * ferry-error} header on {@code ferry.dlq} tells the submitter what to fix.
 *
 * <p>Unknown fields are rejected (a misspelt {@code maxAtempts} must not be silently ignored).
 * Thread-safe.
 */
public final class SubmissionCodec {
  static final Set<String> FIELDS =
      Set.of(
          "id",
          "type",
          "payload",
          "dependency",
          "maxAttempts",
          "backoff",
          "timeoutMs",
          "runAt",
          "key",
          "children",
          "failurePolicy",
          "unique",
          "schedule",
          "priority",
          "concurrency");
  private static final Set<String> CONCURRENCY_FIELDS = Set.of("key", "limit");

  /** Most urgent and least urgent priority. */
  public static final int MIN_PRIORITY = 1;

  public static final int MAX_PRIORITY = 5;
  private static final Set<String> UNIQUE_FIELDS = Set.of("key", "while", "forMs");
  private static final Set<String> SCHEDULE_FIELDS =
      Set.of("name", "cron", "timeZone", "misfire", "enabled");
  private static final Set<String> BACKOFF_FIELDS =
      Set.of("strategy", "initialMs", "multiplier", "maxMs", "jitter");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.:\\-/]{1,200}");
  private static final int MAX_ATTEMPTS_LIMIT = 10_000;

  /** Longest dependency (an index key), explicit or derived from an http URL. */
  public static final int MAX_NAME_CHARS = 200;

  /** Earliest accepted {@code runAt}. */
  public static final Instant MIN_INSTANT = Instant.EPOCH;

  /** Latest accepted {@code runAt}: the end of year 9999 (PostgreSQL and ISO text hold it). */
  public static final Instant MAX_INSTANT = Instant.parse("9999-12-31T23:59:59.999999999Z");

  private final SubmissionLimits limits;
  private final ObjectMapper mapper;

  public SubmissionCodec(SubmissionLimits limits) {
    this.limits = limits;
    JsonFactory factory =
        JsonFactory.builder()
            .streamReadConstraints(
                StreamReadConstraints.builder()
                    .maxNestingDepth(limits.maxDepth())
                    .maxDocumentLength(limits.maxBytes())
                    .build())
            // Two "id"s (or two of any field) in one object would make the submission mean
            // whichever the parser kept: refused instead.
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    this.mapper =
        JsonMapper.builder(factory)
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
  }

  /** Decodes and validates one record value. */
  public Submission decode(byte[] value) throws InvalidSubmissionException {
    if (value == null || value.length == 0) {
      throw new InvalidSubmissionException("empty record value: expected a JSON object");
    }
    if (value.length > limits.maxBytes()) {
      throw new InvalidSubmissionException(
          "record is "
              + value.length
              + " bytes, over the limit of "
              + limits.maxBytes()
              + " (submit.max.bytes)");
    }
    JsonNode root;
    try {
      root = mapper.readTree(value);
    } catch (StreamConstraintsException e) {
      String m = String.valueOf(e.getOriginalMessage());
      throw new InvalidSubmissionException(
          m.contains("depth")
              ? "JSON nested deeper than " + limits.maxDepth() + " levels (submit.max.depth)"
              : "JSON value over a parser limit: " + SafeText.echo(m));
    } catch (JsonProcessingException e) {
      throw new InvalidSubmissionException(
          "not valid JSON: " + SafeText.echo(e.getOriginalMessage()));
    } catch (IOException e) {
      throw new InvalidSubmissionException("not valid JSON: " + e.getMessage());
    }
    if (root == null || root.isMissingNode()) {
      throw new InvalidSubmissionException("empty record value: expected a JSON object");
    }
    String bad = root.isObject() ? unstorable(root) : null;
    if (bad != null) {
      throw new InvalidSubmissionException("field '" + bad.substring(1));
    }
    int[] childCount = {0};
    return submission(root, "", childCount, new java.util.HashSet<>());
  }

  /**
   * The first value PostgreSQL or JSON text cannot hold (a string or field name with NUL or an
   * unpaired surrogate, a number that is not finite), as {@code .path' problem}; else null. One
   * walk over the record, building a path only on the way back from a problem.
   */
  private static String unstorable(JsonNode n) {
    if (n.isTextual()) {
      String p = SafeText.problem(n.textValue());
      return p == null ? null : "' " + p;
    }
    if (n.isFloatingPointNumber() && !Double.isFinite(n.doubleValue())) {
      return "' is a number out of range (" + n.asText() + ")";
    }
    if (n.isObject()) {
      for (Map.Entry<String, JsonNode> e : n.properties()) {
        String kp = SafeText.problem(e.getKey());
        if (kp != null) {
          return "." + SafeText.echo(e.getKey(), 60) + "' has a field name that " + kp;
        }
        String vp = unstorable(e.getValue());
        if (vp != null) {
          return "." + SafeText.echo(e.getKey(), 60) + vp;
        }
      }
    } else if (n.isArray()) {
      for (int i = 0; i < n.size(); i++) {
        String vp = unstorable(n.get(i));
        if (vp != null) {
          return "[" + i + "]" + vp;
        }
      }
    }
    return null;
  }

  private Submission submission(JsonNode node, String path, int[] childCount, Set<UUID> ids)
      throws InvalidSubmissionException {
    if (!node.isObject()) {
      throw new InvalidSubmissionException(
          where(path) + "expected a JSON object but got " + kind(node));
    }
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!FIELDS.contains(f)) {
        throw new InvalidSubmissionException(
            "unknown field '"
                + path
                + SafeText.echo(f, 60)
                + "' (known fields: "
                + String.join(", ", sorted(FIELDS))
                + ")");
      }
    }
    UUID id = null;
    String idText = text(node, path, "id", 64);
    if (idText != null) {
      try {
        id = UUID.fromString(idText);
      } catch (IllegalArgumentException e) {
        throw new InvalidSubmissionException(
            "field '" + path + "id' must be a UUID but was '" + SafeText.echo(idText) + "'");
      }
      if (!idText.equalsIgnoreCase(id.toString())) {
        throw new InvalidSubmissionException(
            "field '" + path + "id' must be a UUID but was '" + SafeText.echo(idText) + "'");
      }
      if (!ids.add(id)) {
        throw new InvalidSubmissionException(
            "field '"
                + path
                + "id': "
                + id
                + " names two jobs of this submission (each job"
                + " needs its own id)");
      }
    }
    String type = name(node, path, "type");
    JsonNode payload = node.get("payload");
    if (payload == null || payload.isNull()) {
      payload = FerryJson.object();
    }
    String dependency = name(node, path, "dependency");
    if (dependency == null && "http".equals(type)) {
      String derived = Dependencies.httpHostPort(payload);
      if (derived != null && derived.length() > MAX_NAME_CHARS) {
        throw new InvalidSubmissionException(
            "field '"
                + path
                + "payload.url' has a host longer than "
                + MAX_NAME_CHARS
                + " characters (host:port names the job's dependency)");
      }
    }
    Integer maxAttempts = integer(node, path, "maxAttempts", 1, MAX_ATTEMPTS_LIMIT);
    Integer timeoutMs = integer(node, path, "timeoutMs", 1, Integer.MAX_VALUE);
    Instant runAt = instant(node, path, "runAt");
    String key = text(node, path, "key", 200);
    BackoffPolicy backoff = backoff(node.get("backoff"), path + "backoff.");
    FailurePolicy failurePolicy = null;
    String fp = text(node, path, "failurePolicy", 32);
    if (fp != null) {
      failurePolicy = FailurePolicy.fromWire(fp);
      if (failurePolicy == null) {
        throw new InvalidSubmissionException(
            "field '"
                + path
                + "failurePolicy' must be \"fail-fast\" or \"collect\" but was '"
                + fp
                + "'");
      }
    }
    List<Submission> children = new ArrayList<>();
    JsonNode kids = node.get("children");
    if (kids != null && !kids.isNull()) {
      if (!kids.isArray()) {
        throw new InvalidSubmissionException(
            "field '" + path + "children' must be an array but was " + kind(kids));
      }
      childCount[0] += kids.size();
      if (childCount[0] > limits.maxChildren()) {
        throw new InvalidSubmissionException(
            "more than " + limits.maxChildren() + " children (submit.max.children)");
      }
      Set<String> keys = new java.util.HashSet<>();
      for (int i = 0; i < kids.size(); i++) {
        Submission child = submission(kids.get(i), path + "children[" + i + "].", childCount, ids);
        if (child.key() != null && !keys.add(child.key())) {
          throw new InvalidSubmissionException(
              "field '"
                  + path
                  + "children["
                  + i
                  + "].key': '"
                  + SafeText.echo(child.key())
                  + "' names two children of one parent (a key names a child in its parent's"
                  + " aggregate)");
        }
        children.add(child);
      }
    }
    if (type == null && children.isEmpty()) {
      throw new InvalidSubmissionException(
          "missing field '" + path + "type' (required unless the job has children)");
    }
    if (failurePolicy != null && children.isEmpty()) {
      throw new InvalidSubmissionException(
          "field '" + path + "failurePolicy' is only allowed on a job with children");
    }
    UniqueSpec unique = unique(node.get("unique"), path);
    ScheduleSpec schedule = schedule(node.get("schedule"), path);
    if (schedule != null && id != null) {
      throw new InvalidSubmissionException(
          "field 'id' is not allowed with 'schedule': each tick's job gets an id derived from the"
              + " schedule's name and the tick");
    }
    if (unique != null && unique.whileActive() && !children.isEmpty()) {
      throw new InvalidSubmissionException(
          "field 'unique' with \"while\": \"active\" is not supported on a job with children"
              + " (use \"forMs\", or put the key on a plain job)");
    }
    if (schedule != null && hasChildIds(children)) {
      throw new InvalidSubmissionException(
          "a schedule's children take no 'id': each tick's children get ids derived from the"
              + " tick's job");
    }
    if (schedule != null && runAt != null) {
      throw new InvalidSubmissionException(
          "field 'runAt' is not allowed with 'schedule': each tick's job runs at its tick");
    }
    return new Submission(
        id,
        type,
        payload,
        dependency,
        maxAttempts,
        backoff,
        timeoutMs,
        runAt,
        key,
        children,
        failurePolicy,
        unique,
        schedule,
        integer(node, path, "priority", MIN_PRIORITY, MAX_PRIORITY),
        concurrency(node.get("concurrency"), path));
  }

  /** Highest per-key limit. */
  private static final int MAX_CONCURRENCY_LIMIT = 10_000;

  private static ConcurrencySpec concurrency(JsonNode node, String path)
      throws InvalidSubmissionException {
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isObject()) {
      throw new InvalidSubmissionException(
          "field '" + path + "concurrency' must be an object but was " + kind(node));
    }
    unknownFields(node, path + "concurrency.", CONCURRENCY_FIELDS);
    String key = text(node, path + "concurrency.", "key", MAX_NAME_CHARS);
    if (key == null || key.isEmpty()) {
      throw new InvalidSubmissionException("missing field '" + path + "concurrency.key'");
    }
    Integer limit = integer(node, path + "concurrency.", "limit", 1, MAX_CONCURRENCY_LIMIT);
    if (limit == null) {
      throw new InvalidSubmissionException(
          "missing field '" + path + "concurrency.limit' (1 gives strict per-key ordering)");
    }
    return new ConcurrencySpec(key, limit);
  }

  /** Longest {@code unique.forMs}: a year. */
  private static final long MAX_UNIQUE_FOR_MS = 366L * 24 * 3600 * 1000;

  private static UniqueSpec unique(JsonNode node, String path) throws InvalidSubmissionException {
    if (node == null || node.isNull()) {
      return null;
    }
    topLevelOnly(path, "unique");
    if (!node.isObject()) {
      throw new InvalidSubmissionException(
          "field 'unique' must be an object but was " + kind(node));
    }
    unknownFields(node, "unique.", UNIQUE_FIELDS);
    String key = text(node, "unique.", "key", MAX_NAME_CHARS);
    if (key == null || key.isEmpty()) {
      throw new InvalidSubmissionException("missing field 'unique.key'");
    }
    String during = text(node, "unique.", "while", 16);
    JsonNode forMsNode = node.get("forMs");
    Long forMs = null;
    if (forMsNode != null && !forMsNode.isNull()) {
      if (!forMsNode.canConvertToLong()
          || !forMsNode.isIntegralNumber()
          || forMsNode.asLong() < 1
          || forMsNode.asLong() > MAX_UNIQUE_FOR_MS) {
        throw new InvalidSubmissionException(
            "field 'unique.forMs' must be a whole number of milliseconds from 1 to "
                + MAX_UNIQUE_FOR_MS
                + " but was "
                + kind(forMsNode));
      }
      forMs = forMsNode.asLong();
    }
    if (during != null && !during.equals("active")) {
      throw new InvalidSubmissionException(
          "field 'unique.while' must be \"active\" but was '" + SafeText.echo(during) + "'");
    }
    if (during != null && forMs != null) {
      throw new InvalidSubmissionException(
          "field 'unique' takes either \"while\": \"active\" or \"forMs\", not both");
    }
    return new UniqueSpec(key, forMs);
  }

  private static ScheduleSpec schedule(JsonNode node, String path)
      throws InvalidSubmissionException {
    if (node == null || node.isNull()) {
      return null;
    }
    topLevelOnly(path, "schedule");
    if (!node.isObject()) {
      throw new InvalidSubmissionException(
          "field 'schedule' must be an object but was " + kind(node));
    }
    unknownFields(node, "schedule.", SCHEDULE_FIELDS);
    String name = name(node, "schedule.", "name");
    if (name == null) {
      throw new InvalidSubmissionException(
          "missing field 'schedule.name' (letters, digits and _ . : - /, up to "
              + MAX_NAME_CHARS
              + " characters)");
    }
    if (name.contains("/")) {
      throw new InvalidSubmissionException(
          "field 'schedule.name' must not contain '/' (letters, digits and _ . : -)");
    }
    String cron = text(node, "schedule.", "cron", 200);
    String zone = text(node, "schedule.", "timeZone", 64);
    try {
      CronSchedule.parse(cron, zone);
    } catch (IllegalArgumentException e) {
      throw new InvalidSubmissionException(
          "field 'schedule." + SafeText.echo(e.getMessage()).substring(1));
    }
    String m = text(node, "schedule.", "misfire", 16);
    ScheduleSpec.Misfire misfire = ScheduleSpec.Misfire.SKIP;
    if (m != null) {
      misfire = ScheduleSpec.Misfire.fromWire(m);
      if (misfire == null) {
        throw new InvalidSubmissionException(
            "field 'schedule.misfire' must be \"skip\" or \"run-once\" but was '"
                + SafeText.echo(m)
                + "'");
      }
    }
    JsonNode enabled = node.get("enabled");
    if (enabled != null && !enabled.isNull() && !enabled.isBoolean()) {
      throw new InvalidSubmissionException(
          "field 'schedule.enabled' must be true or false but was " + kind(enabled));
    }
    return new ScheduleSpec(
        name, cron, zone, misfire, enabled == null || enabled.isNull() || enabled.asBoolean());
  }

  private static boolean hasChildIds(List<Submission> children) {
    for (Submission c : children) {
      if (c.id() != null || hasChildIds(c.children())) {
        return true;
      }
    }
    return false;
  }

  private static void topLevelOnly(String path, String field) throws InvalidSubmissionException {
    if (!path.isEmpty()) {
      throw new InvalidSubmissionException(
          "field '" + path + field + "' is only allowed on a top-level job");
    }
  }

  private static void unknownFields(JsonNode node, String path, Set<String> known)
      throws InvalidSubmissionException {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!known.contains(f)) {
        throw new InvalidSubmissionException(
            "unknown field '"
                + path
                + SafeText.echo(f, 60)
                + "' (known fields: "
                + String.join(", ", sorted(known))
                + ")");
      }
    }
  }

  private static BackoffPolicy backoff(JsonNode node, String path)
      throws InvalidSubmissionException {
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isObject()) {
      throw new InvalidSubmissionException(
          "field '"
              + path.substring(0, path.length() - 1)
              + "' must be an object but was "
              + kind(node));
    }
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!BACKOFF_FIELDS.contains(f)) {
        throw new InvalidSubmissionException(
            "unknown field '"
                + path
                + f
                + "' (known fields: "
                + String.join(", ", sorted(BACKOFF_FIELDS))
                + ")");
      }
    }
    BackoffPolicy d = BackoffPolicy.DEFAULT;
    String s = text(node, path, "strategy", 32);
    BackoffStrategy strategy = s == null ? d.strategy() : BackoffStrategy.fromWire(s);
    if (strategy == null) {
      throw new InvalidSubmissionException(
          "field '"
              + path
              + "strategy' must be exponential, linear or fixed but was '"
              + SafeText.echo(s)
              + "'");
    }
    Integer initial = integer(node, path, "initialMs", 0, Integer.MAX_VALUE);
    Integer max = integer(node, path, "maxMs", 0, Integer.MAX_VALUE);
    Double multiplier = decimal(node, path, "multiplier");
    Double jitter = decimal(node, path, "jitter");
    try {
      long initialMs = initial == null ? d.initialMs() : initial;
      return new BackoffPolicy(
          strategy,
          initialMs,
          multiplier == null ? d.multiplier() : multiplier,
          max == null ? Math.max(d.maxMs(), initialMs) : max,
          jitter == null ? d.jitter() : jitter);
    } catch (IllegalArgumentException e) {
      throw new InvalidSubmissionException(e.getMessage());
    }
  }

  private static String text(JsonNode node, String path, String field, int maxLength)
      throws InvalidSubmissionException {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw new InvalidSubmissionException(
          "field '" + path + field + "' must be a string but was " + kind(v));
    }
    String s = v.textValue();
    if (s.length() > maxLength) {
      throw new InvalidSubmissionException(
          "field '" + path + field + "' is longer than " + maxLength + " characters");
    }
    return s;
  }

  private static String name(JsonNode node, String path, String field)
      throws InvalidSubmissionException {
    String s = text(node, path, field, 200);
    if (s != null && !NAME.matcher(s).matches()) {
      throw new InvalidSubmissionException(
          "field '"
              + path
              + field
              + "' must be 1-200 characters of [A-Za-z0-9_.:-/] but was '"
              + SafeText.echo(s)
              + "'");
    }
    return s;
  }

  private static Integer integer(JsonNode node, String path, String field, long min, long max)
      throws InvalidSubmissionException {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw new InvalidSubmissionException(
          "field '" + path + field + "' must be an integer but was " + kind(v));
    }
    long n = v.longValue();
    if (n < min || n > max) {
      throw new InvalidSubmissionException(
          "field '" + path + field + "' must be between " + min + " and " + max + " but was " + n);
    }
    return (int) n;
  }

  private static Double decimal(JsonNode node, String path, String field)
      throws InvalidSubmissionException {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isNumber()) {
      throw new InvalidSubmissionException(
          "field '" + path + field + "' must be a number but was " + kind(v));
    }
    double d = v.doubleValue();
    if (d < 0 || Double.isNaN(d) || Double.isInfinite(d)) {
      throw new InvalidSubmissionException(
          "field '" + path + field + "' must be a non-negative number but was " + v);
    }
    return d;
  }

  private static Instant instant(JsonNode node, String path, String field)
      throws InvalidSubmissionException {
    String s = text(node, path, field, 64);
    if (s == null) {
      return null;
    }
    Instant t;
    try {
      t = Instant.parse(s);
    } catch (DateTimeParseException e) {
      throw new InvalidSubmissionException(
          "field '"
              + path
              + field
              + "' must be an ISO-8601 instant like 2026-11-25T12:00:00Z"
              + " but was '"
              + SafeText.echo(s)
              + "'");
    }
    if (t.isBefore(MIN_INSTANT) || t.isAfter(MAX_INSTANT)) {
      throw new InvalidSubmissionException(
          "field '"
              + path
              + field
              + "' must be between 1970-01-01T00:00:00Z and"
              + " 9999-12-31T23:59:59Z but was '"
              + SafeText.echo(s)
              + "'");
    }
    return t;
  }

  private static String where(String path) {
    return path.isEmpty() ? "" : "'" + path.substring(0, path.length() - 1) + "': ";
  }

  private static String kind(JsonNode v) {
    return switch (v.getNodeType()) {
      case ARRAY -> "an array";
      case OBJECT -> "an object";
      case STRING -> "a string";
      case NUMBER -> "the number " + v;
      case BOOLEAN -> "a boolean";
      case NULL -> "null";
      case BINARY, MISSING, POJO -> "an unsupported value";
    };
  }

  private static List<String> sorted(Set<String> s) {
    return s.stream().sorted().toList();
  }

  /** Encodes a submission back to JSON (used by {@code ferry submit} and tests). */
  public static ObjectNode encode(Submission s) {
    ObjectNode n = FerryJson.object();
    if (s.id() != null) {
      n.put("id", s.id().toString());
    }
    if (s.type() != null) {
      n.put("type", s.type());
    }
    n.set("payload", s.payload());
    if (s.dependency() != null) {
      n.put("dependency", s.dependency());
    }
    if (s.maxAttempts() != null) {
      n.put("maxAttempts", s.maxAttempts());
    }
    if (s.timeoutMs() != null) {
      n.put("timeoutMs", s.timeoutMs());
    }
    if (s.runAt() != null) {
      n.put("runAt", s.runAt().toString());
    }
    if (s.key() != null) {
      n.put("key", s.key());
    }
    if (s.backoff() != null) {
      n.set("backoff", BackoffCodec.encode(s.backoff()));
    }
    if (s.failurePolicy() != null) {
      n.put("failurePolicy", s.failurePolicy().wireName());
    }
    if (s.priority() != null) {
      n.put("priority", s.priority());
    }
    if (s.concurrency() != null) {
      n.putObject("concurrency")
          .put("key", s.concurrency().key())
          .put("limit", s.concurrency().limit());
    }
    if (s.unique() != null) {
      ObjectNode u = n.putObject("unique").put("key", s.unique().key());
      if (s.unique().forMs() != null) {
        u.put("forMs", s.unique().forMs());
      } else {
        u.put("while", "active");
      }
    }
    if (s.schedule() != null) {
      ScheduleSpec sc = s.schedule();
      ObjectNode o = n.putObject("schedule").put("name", sc.name()).put("cron", sc.cron());
      if (sc.timeZone() != null) {
        o.put("timeZone", sc.timeZone());
      }
      o.put("misfire", sc.misfire().wireName()).put("enabled", sc.enabled());
    }
    if (!s.children().isEmpty()) {
      var arr = n.putArray("children");
      for (Submission c : s.children()) {
        arr.add(encode(c));
      }
    }
    return n;
  }
}
