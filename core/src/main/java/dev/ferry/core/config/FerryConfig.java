package dev.ferry.core.config;

import dev.ferry.core.breaker.BreakerConfig;
import dev.ferry.core.breaker.WindowType;
import dev.ferry.core.json.SubmissionLimits;
import dev.ferry.core.retry.BackoffPolicy;
import dev.ferry.core.retry.BackoffStrategy;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Resolved configuration. Precedence, highest first: command-line flags, environment variables
 * ({@code FERRY_*}), a properties file ({@code --config} or {@code FERRY_CONFIG}), defaults.
 *
 * <p>Kafka client properties pass through: {@code kafka.ssl.truststore.location} in the file,
 * or {@code FERRY_KAFKA_SSL_TRUSTSTORE_LOCATION} in the environment, becomes
 * {@code ssl.truststore.location} on every Kafka client. Immutable and thread-safe; typed
 * getters fail fast with a {@link ConfigException} that names the setting and the bad value.
 */
public final class FerryConfig {
  /** Settings that may be overridden per job type, by their key suffix. */
  private static final Map<String, Setting> TYPE_SETTINGS =
      Map.of(
          "max.attempts", Setting.JOB_MAX_ATTEMPTS,
          "timeout.ms", Setting.JOB_TIMEOUT_MS,
          "backoff.strategy", Setting.BACKOFF_STRATEGY,
          "backoff.initial.ms", Setting.BACKOFF_INITIAL_MS,
          "backoff.multiplier", Setting.BACKOFF_MULTIPLIER,
          "backoff.max.ms", Setting.BACKOFF_MAX_MS,
          "backoff.jitter", Setting.BACKOFF_JITTER);

  private final Map<Setting, String> values;
  private final Map<String, String> kafka;
  /** Per-type overrides: key {@code <type>|<suffix>} (file) or {@code <TYPE_ENV>|<suffix>} (env). */
  private final Map<String, String> typeValues;
  /** The key or variable each per-type / per-dependency override was given as, by map key. */
  private final Map<String, String> overrideNames;
  private final Map<String, JobDefaults> jobDefaults = new ConcurrentHashMap<>();
  private final Map<String, BreakerConfig> breakerConfigs = new ConcurrentHashMap<>();

  /** Settings that may be overridden per dependency, by their key suffix. */
  private static final Map<String, Setting> DEPENDENCY_SETTINGS = dependencySettings();

  private static Map<String, Setting> dependencySettings() {
    Map<String, Setting> m = new HashMap<>();
    for (Setting s : Setting.values()) {
      if (s.key().startsWith("breaker.") && s != Setting.BREAKER_REPORT_MS) {
        m.put(s.key(), s);
      }
    }
    return Map.copyOf(m);
  }

  private FerryConfig(Map<Setting, String> values, Map<String, String> kafka,
      Map<String, String> typeValues, Map<String, String> overrideNames) {
    // Not new EnumMap<>(values): that throws for an empty map that is not an EnumMap.
    EnumMap<Setting, String> copy = new EnumMap<>(Setting.class);
    copy.putAll(values);
    this.values = Collections.unmodifiableMap(copy);
    this.kafka = Collections.unmodifiableMap(new TreeMap<>(kafka));
    this.typeValues = Map.copyOf(typeValues);
    this.overrideNames = Map.copyOf(overrideNames);
  }

  /** Only defaults; handy in tests with {@link #with}. */
  public static FerryConfig defaults() {
    return new FerryConfig(new EnumMap<>(Setting.class), Map.of(), Map.of(), Map.of());
  }

  /**
   * Resolves configuration from all sources.
   *
   * @param flags values given as command-line flags, by setting
   * @param env the environment (usually {@link System#getenv()})
   * @param file a properties file, or null (then {@code FERRY_CONFIG} is consulted)
   */
  public static FerryConfig load(Map<Setting, String> flags, Map<String, String> env, Path file) {
    Map<Setting, String> values = new EnumMap<>(Setting.class);
    Map<String, String> kafka = new HashMap<>();
    Map<String, String> types = new HashMap<>();
    Map<String, String> names = new HashMap<>();
    Path props = file != null ? file : (env.get("FERRY_CONFIG") == null ? null : Path.of(env.get("FERRY_CONFIG")));
    if (props != null) {
      Properties p = new Properties();
      try (Reader r = Files.newBufferedReader(props, StandardCharsets.UTF_8)) {
        p.load(r);
      } catch (IOException e) {
        throw new ConfigException("cannot read config file " + props + ": " + e.getMessage());
      }
      for (String name : p.stringPropertyNames()) {
        Setting s = byKey(name);
        if (s != null) {
          values.put(s, p.getProperty(name).trim());
        } else if (name.startsWith("kafka.")) {
          kafka.put(name.substring("kafka.".length()), p.getProperty(name).trim());
        } else if (name.startsWith("type.")) {
          String key = typeKeyFromFile(name, props);
          types.put(key, p.getProperty(name).trim());
          names.put(key, name);
        } else if (name.startsWith("dependency.")) {
          String key = dependencyKeyFromFile(name, props);
          types.put(key, p.getProperty(name).trim());
          names.put(key, name);
        } else {
          throw new ConfigException("unknown setting '" + echo(name) + "' in " + props);
        }
      }
    }
    for (Map.Entry<String, String> e : env.entrySet()) {
      String name = e.getKey();
      if (!name.startsWith("FERRY_") || name.equals("FERRY_CONFIG")) {
        continue;
      }
      Setting s = byEnv(name);
      if (s != null) {
        values.put(s, e.getValue().trim());
      } else if (name.startsWith("FERRY_TYPE_")) {
        String key = typeKeyFromEnv(name);
        types.put(key, e.getValue().trim());
        names.put(key, name);
      } else if (name.startsWith("FERRY_DEPENDENCY_")) {
        String key = dependencyKeyFromEnv(name);
        types.put(key, e.getValue().trim());
        names.put(key, name);
      } else if (name.startsWith("FERRY_KAFKA_")) {
        kafka.put(
            name.substring("FERRY_KAFKA_".length()).toLowerCase(Locale.ROOT).replace('_', '.'),
            e.getValue());
      }
    }
    values.putAll(flags);
    readPasswordFile(values);
    return new FerryConfig(values, kafka, types, names);
  }

  /** {@code db.password.file}: the password is the file's content (one trailing newline cut). */
  private static void readPasswordFile(Map<Setting, String> values) {
    String file = values.getOrDefault(Setting.DB_PASSWORD_FILE, "");
    if (file.isBlank()) {
      return;
    }
    if (!values.getOrDefault(Setting.DB_PASSWORD, "").isEmpty()) {
      throw new ConfigException("set either " + Setting.DB_PASSWORD.spellings() + " or "
          + Setting.DB_PASSWORD_FILE.spellings() + ", not both");
    }
    String password;
    try {
      password = Files.readString(Path.of(file.trim()), StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      throw new ConfigException(Setting.DB_PASSWORD_FILE.spellings() + ": cannot read '"
          + file.trim() + "': " + e.getMessage());
    }
    if (password.endsWith("\n")) {
      password = password.substring(0, password.length() - 1);
      if (password.endsWith("\r")) {
        password = password.substring(0, password.length() - 1);
      }
    }
    values.put(Setting.DB_PASSWORD, password);
  }

  private static String typeKeyFromFile(String name, Path file) {
    for (String suffix : TYPE_SETTINGS.keySet()) {
      String tail = "." + suffix;
      if (name.endsWith(tail) && name.length() > "type.".length() + tail.length()) {
        return name.substring("type.".length(), name.length() - tail.length()) + "|" + suffix;
      }
    }
    throw new ConfigException("unknown per-type setting '" + echo(name) + "' in " + file
        + " (expected type.<type>.<" + String.join("|", new TreeMap<>(TYPE_SETTINGS).keySet()) + ">)");
  }

  private static String typeKeyFromEnv(String name) {
    for (String suffix : TYPE_SETTINGS.keySet()) {
      String tail = "_" + suffix.toUpperCase(Locale.ROOT).replace('.', '_');
      if (name.endsWith(tail) && name.length() > "FERRY_TYPE_".length() + tail.length()) {
        return "ENV:" + name.substring("FERRY_TYPE_".length(), name.length() - tail.length())
            + "|" + suffix;
      }
    }
    throw new ConfigException("unknown per-type setting " + echo(name)
        + " (expected FERRY_TYPE_<TYPE>_<MAX_ATTEMPTS|TIMEOUT_MS|BACKOFF_…>)");
  }

  private static String dependencyKeyFromFile(String name, Path file) {
    for (String suffix : DEPENDENCY_SETTINGS.keySet()) {
      String tail = "." + suffix;
      if (name.endsWith(tail) && name.length() > "dependency.".length() + tail.length()) {
        return "DEP:" + name.substring("dependency.".length(), name.length() - tail.length())
            + "|" + suffix;
      }
    }
    throw new ConfigException("unknown per-dependency setting '" + echo(name) + "' in " + file
        + " (expected dependency.<dependency>.breaker.<setting>)");
  }

  private static String dependencyKeyFromEnv(String name) {
    for (String suffix : DEPENDENCY_SETTINGS.keySet()) {
      String tail = "_" + suffix.toUpperCase(Locale.ROOT).replace('.', '_');
      if (name.endsWith(tail) && name.length() > "FERRY_DEPENDENCY_".length() + tail.length()) {
        return "DEPENV:" + name.substring("FERRY_DEPENDENCY_".length(), name.length() - tail.length())
            + "|" + suffix;
      }
    }
    throw new ConfigException("unknown per-dependency setting " + echo(name)
        + " (expected FERRY_DEPENDENCY_<DEPENDENCY>_BREAKER_<SETTING>)");
  }

  /**
   * The circuit-breaker settings of a dependency, with per-dependency overrides
   * ({@code dependency.<dep>.breaker.*} in the file, {@code FERRY_DEPENDENCY_<DEP>_BREAKER_*}
   * in the environment, {@code <DEP>} upper-cased with other characters as _). Cached.
   */
  public BreakerConfig breakerConfig(String dependency) {
    return cached(breakerConfigs, dependency == null ? "" : dependency, this::resolveBreaker);
  }

  /**
   * Most names whose resolved settings are cached per kind: type and dependency names come
   * from jobs, so beyond this many they are resolved on each call instead of growing the cache.
   */
  static final int MAX_CACHED = 10_000;

  private static <V> V cached(Map<String, V> cache, String name, Function<String, V> resolve) {
    V v = cache.get(name);
    if (v != null) {
      return v;
    }
    return cache.size() >= MAX_CACHED ? resolve.apply(name) : cache.computeIfAbsent(name, resolve);
  }

  /** Cached per-type and per-dependency settings (for tests of the bound). */
  int cachedSettings() {
    return jobDefaults.size() + breakerConfigs.size();
  }

  private BreakerConfig resolveBreaker(String dep) {
    FerryConfig c = this;
    if (!dep.isEmpty()) {
      for (Map.Entry<String, Setting> e : DEPENDENCY_SETTINGS.entrySet()) {
        String v = typeValues.get("DEPENV:" + envTypeName(dep) + "|" + e.getKey());
        if (v == null) {
          v = typeValues.get("DEP:" + dep + "|" + e.getKey());
        }
        if (v != null) {
          c = c.with(e.getValue(), v);
        }
      }
    }
    String where = dep.isEmpty() ? "" : " (for dependency '" + echo(dep) + "')";
    String wt = c.get(Setting.BREAKER_WINDOW_TYPE).toUpperCase(Locale.ROOT);
    try {
      WindowType type;
      try {
        type = WindowType.valueOf(wt);
      } catch (IllegalArgumentException e) {
        throw bad(Setting.BREAKER_WINDOW_TYPE, c.get(Setting.BREAKER_WINDOW_TYPE), "count or time");
      }
      return new BreakerConfig(
          type,
          c.getInt(Setting.BREAKER_WINDOW_SIZE, 1, 10_000),
          c.getInt(Setting.BREAKER_MINIMUM_CALLS, 1, 1_000_000),
          c.getDouble(Setting.BREAKER_FAILURE_RATE_THRESHOLD, 0.001, 100),
          c.getInt(Setting.BREAKER_SLOW_CALL_MS, 1, Integer.MAX_VALUE),
          c.getDouble(Setting.BREAKER_SLOW_CALL_RATE_THRESHOLD, 0.001, 100),
          c.getInt(Setting.BREAKER_OPEN_MS, 1, Integer.MAX_VALUE),
          c.getDouble(Setting.BREAKER_OPEN_MULTIPLIER, 1, 1000),
          c.getInt(Setting.BREAKER_OPEN_MAX_MS, 1, Integer.MAX_VALUE),
          c.getInt(Setting.BREAKER_HALF_OPEN_CALLS, 1, 10_000),
          c.getInt(Setting.BREAKER_BULKHEAD, 0, 1_000_000));
    } catch (ConfigException | IllegalArgumentException e) {
      throw new ConfigException(e.getMessage() + where);
    }
  }

  /** The name of a job type in environment variables: upper case, other characters as _. */
  static String envTypeName(String type) {
    return type.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
  }

  /**
   * Defaults for jobs of {@code type} (null: no type), with per-type overrides applied
   * (environment before file). Validated; cached.
   */
  public JobDefaults jobDefaults(String type) {
    return cached(jobDefaults, type == null ? "" : type, this::resolveJobDefaults);
  }

  private JobDefaults resolveJobDefaults(String type) {
    FerryConfig c = this;
    if (!type.isEmpty()) {
      for (Map.Entry<String, Setting> e : TYPE_SETTINGS.entrySet()) {
        String v = typeValues.get("ENV:" + envTypeName(type) + "|" + e.getKey());
        if (v == null) {
          v = typeValues.get(type + "|" + e.getKey());
        }
        if (v != null) {
          c = c.with(e.getValue(), v);
        }
      }
    }
    String where = type.isEmpty() ? "" : " (for type '" + echo(type) + "')";
    try {
      return new JobDefaults(
          c.getInt(Setting.JOB_MAX_ATTEMPTS, 1, 10_000),
          c.getInt(Setting.JOB_TIMEOUT_MS, 1, Integer.MAX_VALUE),
          c.backoff());
    } catch (ConfigException e) {
      throw new ConfigException(e.getMessage() + where);
    }
  }

  /**
   * Checks every setting, every per-type override and every per-dependency breaker override at
   * once, so that a process with a bad value stops at start (the CLI exits 2) instead of when the
   * first job of that type or dependency arrives. Orchestrators and workers call it first thing.
   *
   * @return this configuration, valid
   * @throws ConfigException naming the first bad setting (as it was spelled: key, variable or
   *     flag) and its value
   */
  public FerryConfig validate() {
    for (Setting s : Setting.values()) {
      String why = s.rule().violation(get(s));
      if (why != null) {
        throw bad(s, get(s), why);
      }
    }
    long socketMs = getLong(Setting.DB_SOCKET_TIMEOUT_MS, 0, Integer.MAX_VALUE);
    long statementMs = getLong(Setting.DB_STATEMENT_TIMEOUT_MS, 0, Integer.MAX_VALUE);
    long pollMs = getLong(Setting.DISPATCH_POLL_MS, 0, Integer.MAX_VALUE);
    if (socketMs > 0 && socketMs <= Math.max(pollMs, statementMs)) {
      // The dispatcher waits on its LISTEN connection for up to dispatch.poll.ms with nothing
      // on the socket; a statement may legitimately run up to its timeout.
      throw new ConfigException(Setting.DB_SOCKET_TIMEOUT_MS.spellings() + " must be 0 (none) or"
          + " more than " + Setting.DISPATCH_POLL_MS.key() + " (" + pollMs + ") and "
          + Setting.DB_STATEMENT_TIMEOUT_MS.key() + " (" + statementMs + ") but was '"
          + socketMs + "'");
    }
    jobDefaults(null);
    breakerConfig(null);
    submissionLimits();
    Map<String, String> sorted = new TreeMap<>(typeValues);
    for (Map.Entry<String, String> e : sorted.entrySet()) {
      String key = e.getKey();
      int bar = key.lastIndexOf('|');
      String suffix = key.substring(bar + 1);
      boolean dependency = key.startsWith("DEP:") || key.startsWith("DEPENV:");
      Setting s = dependency ? DEPENDENCY_SETTINGS.get(suffix) : TYPE_SETTINGS.get(suffix);
      String why = s.rule().violation(e.getValue());
      if (why != null) {
        throw new ConfigException(echo(overrideNames.getOrDefault(key, key)) + " (overrides "
            + s.key() + ") must be " + why + " but was '" + echo(e.getValue()) + "'");
      }
    }
    // Each type and dependency as a whole, e.g. breaker.open.max.ms below an overridden
    // breaker.open.ms.
    for (String key : sorted.keySet()) {
      String scope = key.substring(0, key.lastIndexOf('|'));
      if (scope.startsWith("DEPENV:")) {
        breakerConfig(scope.substring("DEPENV:".length()));
      } else if (scope.startsWith("DEP:")) {
        breakerConfig(scope.substring("DEP:".length()));
      } else if (scope.startsWith("ENV:")) {
        jobDefaults(scope.substring("ENV:".length()));
      } else {
        jobDefaults(scope);
      }
    }
    return this;
  }

  /** A copy with one setting replaced. */
  public FerryConfig with(Setting s, String value) {
    Map<Setting, String> v = new EnumMap<>(Setting.class);
    v.putAll(values);
    v.put(s, value);
    return new FerryConfig(v, kafka, typeValues, overrideNames);
  }

  /** A copy with one Kafka client property added. */
  public FerryConfig withKafka(String property, String value) {
    Map<String, String> k = new HashMap<>(kafka);
    k.put(property, value);
    return new FerryConfig(values, k, typeValues, overrideNames);
  }

  private static Setting byKey(String key) {
    for (Setting s : Setting.values()) {
      if (s.key().equals(key)) {
        return s;
      }
    }
    return null;
  }

  private static Setting byEnv(String env) {
    for (Setting s : Setting.values()) {
      if (s.env().equals(env)) {
        return s;
      }
    }
    return null;
  }

  /** The raw value, or the default. */
  public String get(Setting s) {
    String v = values.get(s);
    return v == null ? s.defaultValue() : v;
  }

  public int getInt(Setting s, int min, int max) {
    return (int) getLong(s, min, max);
  }

  public long getLong(Setting s, long min, long max) {
    String v = get(s);
    try {
      long n = Long.parseLong(v.trim());
      if (n < min || n > max) {
        throw bad(s, v, "an integer between " + min + " and " + max);
      }
      return n;
    } catch (NumberFormatException e) {
      throw bad(s, v, "an integer between " + min + " and " + max);
    }
  }

  public double getDouble(Setting s, double min, double max) {
    String v = get(s);
    try {
      double d = Double.parseDouble(v.trim());
      if (!(d >= min && d <= max)) {
        throw bad(s, v, "a number between " + min + " and " + max);
      }
      return d;
    } catch (NumberFormatException e) {
      throw bad(s, v, "a number between " + min + " and " + max);
    }
  }

  public boolean getBoolean(Setting s) {
    String v = get(s).trim().toLowerCase(Locale.ROOT);
    return switch (v) {
      case "true", "yes", "1" -> true;
      case "false", "no", "0" -> false;
      default -> throw bad(s, get(s), "true or false");
    };
  }

  /** A non-empty string setting. */
  public String getRequired(Setting s) {
    String v = get(s);
    if (v == null || v.isBlank()) {
      throw new ConfigException(s.spellings() + " must be set");
    }
    return v;
  }

  private static ConfigException bad(Setting s, String value, String expected) {
    String shown = s.secret() ? "****" : echo(value);
    return new ConfigException(s.spellings() + " must be " + expected + " but was '" + shown + "'");
  }

  /** Extra Kafka client properties (pass-through), without the {@code kafka.} prefix. */
  public Map<String, String> kafkaProperties() {
    Map<String, String> k = new HashMap<>(kafka);
    k.put("bootstrap.servers", getRequired(Setting.KAFKA_BOOTSTRAP_SERVERS));
    return k;
  }

  /** The default retry policy, validated. */
  public BackoffPolicy backoff() {
    String name = get(Setting.BACKOFF_STRATEGY);
    BackoffStrategy strategy = BackoffStrategy.fromWire(name.trim().toLowerCase(Locale.ROOT));
    if (strategy == null) {
      throw bad(Setting.BACKOFF_STRATEGY, name, "exponential, linear or fixed");
    }
    try {
      return new BackoffPolicy(
          strategy,
          getInt(Setting.BACKOFF_INITIAL_MS, 0, Integer.MAX_VALUE),
          getDouble(Setting.BACKOFF_MULTIPLIER, 1.0, 1000.0),
          getInt(Setting.BACKOFF_MAX_MS, 0, Integer.MAX_VALUE),
          getDouble(Setting.BACKOFF_JITTER, 0.0, 1.0));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("invalid default backoff: " + e.getMessage());
    }
  }

  public SubmissionLimits submissionLimits() {
    try {
      return new SubmissionLimits(
          getInt(Setting.SUBMIT_MAX_BYTES, 64, 64 << 20),
          getInt(Setting.SUBMIT_MAX_DEPTH, 4, 10_000),
          getInt(Setting.SUBMIT_MAX_CHILDREN, 0, 10_000_000));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
  }

  public String topicPrefix() {
    return get(Setting.TOPIC_PREFIX);
  }

  /** Every setting with its value, secrets masked: safe to log. */
  public Map<String, String> describe() {
    Map<String, String> out = new TreeMap<>();
    for (Setting s : Setting.values()) {
      out.put(s.key(), s.secret() && !get(s).isEmpty() ? "****" : maskUrl(get(s)));
    }
    kafka.forEach((k, v) -> out.put("kafka." + k, isSecretKafka(k) ? "****" : v));
    return out;
  }

  private static final java.util.regex.Pattern URL_PASSWORD =
      java.util.regex.Pattern.compile("(?i)(password=)[^&;]*");

  /** A JDBC URL with any {@code password=} parameter masked. */
  public static String maskUrl(String value) {
    return value == null ? null : URL_PASSWORD.matcher(value).replaceAll("$1****");
  }

  /**
   * Whether a Kafka client property carries a secret: passwords, passphrases, JAAS settings
   * (which embed credentials), anything named secret, and PEM private keys
   * ({@code ssl.keystore.key}). Public certificates ({@code ssl.keystore.certificate.chain},
   * {@code ssl.truststore.certificates}) are not secret and stay readable.
   */
  static boolean isSecretKafka(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    return k.contains("password") || k.contains("passphrase") || k.contains("jaas")
        || k.contains("secret") || k.equals("ssl.keystore.key") || k.endsWith(".key")
        || k.contains("private");
  }

  /** The most characters of user text an error message echoes. */
  static final int ECHO_CHARS = 200;

  /**
   * User text as an error message echoes it: control characters escaped (no line breaks or
   * terminal escapes in logs), at most {@link #ECHO_CHARS} characters.
   */
  public static String echo(String s) {
    return s == null ? "null" : dev.ferry.core.text.SafeText.echo(s, ECHO_CHARS);
  }


}
