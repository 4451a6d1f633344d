package dev.ferry.core.config;

import dev.ferry.core.breaker.BreakerConfig;
import dev.ferry.core.breaker.WindowType;
import dev.ferry.core.json.SubmissionLimits;
import dev.ferry.core.retry.BackoffPolicy;
import dev.ferry.core.retry.BackoffStrategy;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Resolved configuration, read through typed getters. Precedence, highest first: command-line
 * flags, environment variables ({@code FERRY_*}), a properties file ({@code --config} or {@code
 * FERRY_CONFIG}), defaults (see {@link #load}).
 *
 * <p>Kafka client properties pass through: {@code kafka.ssl.truststore.location} in the file, or
 * {@code FERRY_KAFKA_SSL_TRUSTSTORE_LOCATION} in the environment, becomes {@code
 * ssl.truststore.location} on every Kafka client. Job defaults and breaker settings may be
 * overridden per job type and per dependency ({@link Overrides}). Each setting's range is declared
 * once, by its {@link Setting#rule()}; the typed getters read within it. Immutable and thread-safe;
 * getters fail fast with a {@link ConfigException} that names the setting and the bad value.
 */
public final class FerryConfig {
  private final Map<Setting, String> values;
  private final Map<String, String> kafka;
  private final Overrides overrides;
  private final Map<String, JobDefaults> jobDefaults = new ConcurrentHashMap<>();
  private final Map<String, BreakerConfig> breakerConfigs = new ConcurrentHashMap<>();

  FerryConfig(Map<Setting, String> values, Map<String, String> kafka, Overrides overrides) {
    // Not new EnumMap<>(values): that throws for an empty map that is not an EnumMap.
    EnumMap<Setting, String> copy = new EnumMap<>(Setting.class);
    copy.putAll(values);
    this.values = Collections.unmodifiableMap(copy);
    this.kafka = Collections.unmodifiableMap(new TreeMap<>(kafka));
    this.overrides = overrides;
  }

  /** Only defaults; handy in tests with {@link #with}. */
  public static FerryConfig defaults() {
    return new FerryConfig(Map.of(), Map.of(), Overrides.NONE);
  }

  /**
   * Resolves configuration from all sources.
   *
   * @param flags values given as command-line flags, by setting
   * @param env the environment (usually {@link System#getenv()})
   * @param file a properties file, or null (then {@code FERRY_CONFIG} is consulted)
   */
  public static FerryConfig load(Map<Setting, String> flags, Map<String, String> env, Path file) {
    return ConfigLoader.load(flags, env, file);
  }

  /** A copy with one setting replaced. */
  public FerryConfig with(Setting s, String value) {
    return with(Map.of(s, value));
  }

  private FerryConfig with(Map<Setting, String> replaced) {
    Map<Setting, String> v = new EnumMap<>(Setting.class);
    v.putAll(values);
    v.putAll(replaced);
    return new FerryConfig(v, kafka, overrides);
  }

  /** A copy with one Kafka client property added. */
  public FerryConfig withKafka(String property, String value) {
    Map<String, String> k = new HashMap<>(kafka);
    k.put(property, value);
    return new FerryConfig(values, k, overrides);
  }

  // ---- Typed access ----

  /** The raw value, or the default. */
  public String get(Setting s) {
    String v = values.get(s);
    return v == null ? s.defaultValue() : v;
  }

  /** An integer setting that fits an int (its rule says so), within its rule's range. */
  public int getInt(Setting s) {
    if (!(s.rule() instanceof SettingRule.IntRange r)
        || r.min() < Integer.MIN_VALUE
        || r.max() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(s.key() + " is not an int setting: " + s.rule());
    }
    return (int) getLong(s);
  }

  /** An integer setting, within its rule's range. */
  public long getLong(Setting s) {
    if (!(s.rule() instanceof SettingRule.IntRange)) {
      throw new IllegalArgumentException(s.key() + " is not an integer setting: " + s.rule());
    }
    return Long.parseLong(checked(s).trim());
  }

  /** A number setting, within its rule's range. */
  public double getDouble(Setting s) {
    if (!(s.rule() instanceof SettingRule.NumberRange)) {
      throw new IllegalArgumentException(s.key() + " is not a number setting: " + s.rule());
    }
    return Double.parseDouble(checked(s).trim());
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

  /** The value, if its rule accepts it. */
  private String checked(Setting s) {
    String v = get(s);
    String why = s.rule().violation(v);
    if (why != null) {
      throw bad(s, v, why);
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

  public String topicPrefix() {
    return get(Setting.TOPIC_PREFIX);
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
          getInt(Setting.BACKOFF_INITIAL_MS),
          getDouble(Setting.BACKOFF_MULTIPLIER),
          getInt(Setting.BACKOFF_MAX_MS),
          getDouble(Setting.BACKOFF_JITTER));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("invalid default backoff: " + e.getMessage());
    }
  }

  public SubmissionLimits submissionLimits() {
    try {
      return new SubmissionLimits(
          getInt(Setting.SUBMIT_MAX_BYTES),
          getInt(Setting.SUBMIT_MAX_DEPTH),
          getInt(Setting.SUBMIT_MAX_CHILDREN));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
  }

  // ---- Per type and per dependency ----

  /**
   * Defaults for jobs of {@code type} (null: no type), with per-type overrides applied (environment
   * before file). Validated; cached.
   */
  public JobDefaults jobDefaults(String type) {
    return cached(jobDefaults, type == null ? "" : type, this::resolveJobDefaults);
  }

  /**
   * The circuit-breaker settings of a dependency, with per-dependency overrides ({@code
   * dependency.<dep>.breaker.*} in the file, {@code FERRY_DEPENDENCY_<DEP>_BREAKER_*} in the
   * environment, {@code <DEP>} upper-cased with other characters as _). Cached.
   */
  public BreakerConfig breakerConfig(String dependency) {
    return cached(breakerConfigs, dependency == null ? "" : dependency, this::resolveBreaker);
  }

  /** A dependency's configured default limits ({@code dependency.<dep>.rate|max.concurrent}). */
  public record LimitDefaults(
      String dependency, dev.ferry.core.flow.Rate rate, Integer maxConcurrent) {}

  /**
   * The default limits set per dependency in the configuration file, which an orchestrator writes
   * to {@code ferry.dependency_limits} at start for dependencies without a row (the table is the
   * live truth). Environment overrides name a dependency only in upper case, so they are not used
   * here.
   *
   * @throws ConfigException when {@code rate} or {@code max.concurrent} is set globally: they only
   *     make sense per dependency
   */
  public List<LimitDefaults> limitDefaults() {
    for (Setting s : List.of(Setting.DEPENDENCY_RATE, Setting.DEPENDENCY_MAX_CONCURRENT)) {
      if (!get(s).isBlank()) {
        throw new ConfigException(
            s.key()
                + " is set per dependency (dependency.<dependency>."
                + s.key()
                + "), not alone");
      }
    }
    Map<String, LimitDefaults> out = new TreeMap<>();
    for (Overrides.Entry e : overrides.entries()) {
      if (e.scope() != Overrides.Scope.DEPENDENCY || e.fromEnv() || e.value().isBlank()) {
        continue;
      }
      LimitDefaults d = out.getOrDefault(e.name(), new LimitDefaults(e.name(), null, null));
      if (e.setting() == Setting.DEPENDENCY_RATE) {
        out.put(
            e.name(),
            new LimitDefaults(
                e.name(), dev.ferry.core.flow.Rate.parse(e.value().trim()), d.maxConcurrent()));
      } else if (e.setting() == Setting.DEPENDENCY_MAX_CONCURRENT) {
        out.put(
            e.name(), new LimitDefaults(e.name(), d.rate(), Integer.parseInt(e.value().trim())));
      }
    }
    return List.copyOf(out.values());
  }

  /**
   * Most names whose resolved settings are cached per kind: type and dependency names come from
   * jobs, so beyond this many they are resolved on each call instead of growing the cache.
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

  /**
   * This configuration as seen by one name of a scope: its overrides applied, and the function's
   * errors ending in {@code (for type 'x')}.
   */
  private <T> T scoped(Overrides.Scope scope, String name, Function<FerryConfig, T> read) {
    Map<Setting, String> o = overrides.forName(scope, name);
    FerryConfig c = o.isEmpty() ? this : with(o);
    try {
      return read.apply(c);
    } catch (ConfigException e) {
      throw name.isEmpty() ? e : new ConfigException(e.getMessage() + scope.where(name));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage() + (name.isEmpty() ? "" : scope.where(name)));
    }
  }

  private JobDefaults resolveJobDefaults(String type) {
    return scoped(
        Overrides.Scope.TYPE,
        type,
        c ->
            new JobDefaults(
                c.getInt(Setting.JOB_MAX_ATTEMPTS), c.getInt(Setting.JOB_TIMEOUT_MS), c.backoff()));
  }

  private BreakerConfig resolveBreaker(String dependency) {
    return scoped(
        Overrides.Scope.DEPENDENCY,
        dependency,
        c -> {
          String wt = c.get(Setting.BREAKER_WINDOW_TYPE);
          WindowType type;
          try {
            type = WindowType.valueOf(wt.toUpperCase(Locale.ROOT));
          } catch (IllegalArgumentException e) {
            throw bad(Setting.BREAKER_WINDOW_TYPE, wt, "count or time");
          }
          return new BreakerConfig(
              type,
              c.getInt(Setting.BREAKER_WINDOW_SIZE),
              c.getInt(Setting.BREAKER_MINIMUM_CALLS),
              c.getDouble(Setting.BREAKER_FAILURE_RATE_THRESHOLD),
              c.getInt(Setting.BREAKER_SLOW_CALL_MS),
              c.getDouble(Setting.BREAKER_SLOW_CALL_RATE_THRESHOLD),
              c.getInt(Setting.BREAKER_OPEN_MS),
              c.getDouble(Setting.BREAKER_OPEN_MULTIPLIER),
              c.getInt(Setting.BREAKER_OPEN_MAX_MS),
              c.getInt(Setting.BREAKER_HALF_OPEN_CALLS),
              c.getInt(Setting.BREAKER_BULKHEAD));
        });
  }

  /** The name of a job type in environment variables: upper case, other characters as _. */
  static String envTypeName(String type) {
    return Overrides.envName(type);
  }

  // ---- Validation ----

  /**
   * Checks every setting, every per-type override and every per-dependency breaker override at
   * once, so that a process with a bad value stops at start (the CLI exits 2) instead of when the
   * first job of that type or dependency arrives. Orchestrators and workers call it first thing.
   *
   * @return this configuration, valid
   * @throws ConfigException naming the first bad setting (as it was spelled: key, variable or flag)
   *     and its value
   */
  public FerryConfig validate() {
    for (Setting s : Setting.values()) {
      checked(s);
    }
    long socketMs = getLong(Setting.DB_SOCKET_TIMEOUT_MS);
    long statementMs = getLong(Setting.DB_STATEMENT_TIMEOUT_MS);
    long pollMs = getLong(Setting.DISPATCH_POLL_MS);
    if (socketMs > 0 && socketMs <= Math.max(pollMs, statementMs)) {
      // The dispatcher waits on its LISTEN connection for up to dispatch.poll.ms with nothing
      // on the socket; a statement may legitimately run up to its timeout.
      throw new ConfigException(
          Setting.DB_SOCKET_TIMEOUT_MS.spellings()
              + " must be 0 (none) or"
              + " more than "
              + Setting.DISPATCH_POLL_MS.key()
              + " ("
              + pollMs
              + ") and "
              + Setting.DB_STATEMENT_TIMEOUT_MS.key()
              + " ("
              + statementMs
              + ") but was '"
              + socketMs
              + "'");
    }
    jobDefaults(null);
    breakerConfig(null);
    submissionLimits();
    for (Overrides.Entry e : overrides.entries()) {
      String why = e.setting().rule().violation(e.value());
      if (why != null) {
        throw new ConfigException(
            echo(e.givenAs())
                + " (overrides "
                + e.setting().key()
                + ") must be "
                + why
                + " but was '"
                + echo(e.value())
                + "'");
      }
    }
    // Each type and dependency as a whole, e.g. breaker.open.max.ms below an overridden
    // breaker.open.ms.
    Set<String> seen = new HashSet<>();
    for (Overrides.Entry e : overrides.entries()) {
      if (seen.add(e.scope() + "|" + e.name())) {
        switch (e.scope()) {
          case TYPE -> jobDefaults(e.name());
          case DEPENDENCY -> breakerConfig(e.name());
        }
      }
    }
    limitDefaults();
    return this;
  }

  // ---- Safe to show ----

  /** Every setting with its value, secrets masked: safe to log. */
  public Map<String, String> describe() {
    Map<String, String> out = new TreeMap<>();
    for (Setting s : Setting.values()) {
      out.put(s.key(), s.secret() && !get(s).isEmpty() ? "****" : maskUrl(get(s)));
    }
    kafka.forEach((k, v) -> out.put("kafka." + k, isSecretKafka(k) ? "****" : v));
    return out;
  }

  private static final Pattern URL_PASSWORD = Pattern.compile("(?i)(password=)[^&;]*");

  /** A JDBC URL with any {@code password=} parameter masked. */
  public static String maskUrl(String value) {
    return value == null ? null : URL_PASSWORD.matcher(value).replaceAll("$1****");
  }

  /**
   * Whether a Kafka client property carries a secret: passwords, passphrases, JAAS settings (which
   * embed credentials), anything named secret, and PEM private keys ({@code ssl.keystore.key}).
   * Public certificates ({@code ssl.keystore.certificate.chain}, {@code
   * ssl.truststore.certificates}) are not secret and stay readable.
   */
  static boolean isSecretKafka(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    return k.contains("password")
        || k.contains("passphrase")
        || k.contains("jaas")
        || k.contains("secret")
        || k.equals("ssl.keystore.key")
        || k.endsWith(".key")
        || k.contains("private");
  }

  /** The most characters of user text an error message echoes. */
  static final int ECHO_CHARS = 200;

  /**
   * User text as an error message echoes it: control characters escaped (no line breaks or terminal
   * escapes in logs), at most {@link #ECHO_CHARS} characters.
   */
  public static String echo(String s) {
    return s == null ? "null" : dev.ferry.core.text.SafeText.echo(s, ECHO_CHARS);
  }
}
