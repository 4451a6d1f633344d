package dev.ferry.core.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Settings overridden for one name of a {@link Scope}: per job type ({@code
 * type.<type>.max.attempts}, {@code FERRY_TYPE_<TYPE>_MAX_ATTEMPTS}) and per dependency ({@code
 * dependency.<dep>.breaker.open.ms}, {@code FERRY_DEPENDENCY_<DEP>_BREAKER_OPEN_MS}). One mechanism
 * for both: a scope only says which settings it covers and how they are spelled. In the environment
 * the name is upper-cased with other characters as {@code _}; for the same name and setting the
 * environment beats the file. Immutable.
 */
final class Overrides {
  /** What can be overridden per name, and how its keys and variables are spelled. */
  enum Scope {
    /** {@code job.max.attempts} is overridden as {@code type.<type>.max.attempts}. */
    TYPE(
        "type",
        "type.",
        "FERRY_TYPE_",
        "job.",
        List.of(
            Setting.JOB_MAX_ATTEMPTS,
            Setting.JOB_TIMEOUT_MS,
            Setting.BACKOFF_STRATEGY,
            Setting.BACKOFF_INITIAL_MS,
            Setting.BACKOFF_MULTIPLIER,
            Setting.BACKOFF_MAX_MS,
            Setting.BACKOFF_JITTER),
        null,
        "FERRY_TYPE_<TYPE>_<MAX_ATTEMPTS|TIMEOUT_MS|BACKOFF_…>"),
    DEPENDENCY(
        "dependency",
        "dependency.",
        "FERRY_DEPENDENCY_",
        "",
        List.of(
            Setting.BREAKER_WINDOW_TYPE,
            Setting.BREAKER_WINDOW_SIZE,
            Setting.BREAKER_MINIMUM_CALLS,
            Setting.BREAKER_FAILURE_RATE_THRESHOLD,
            Setting.BREAKER_SLOW_CALL_MS,
            Setting.BREAKER_SLOW_CALL_RATE_THRESHOLD,
            Setting.BREAKER_OPEN_MS,
            Setting.BREAKER_OPEN_MULTIPLIER,
            Setting.BREAKER_OPEN_MAX_MS,
            Setting.BREAKER_HALF_OPEN_CALLS,
            Setting.BREAKER_BULKHEAD,
            Setting.DEPENDENCY_RATE,
            Setting.DEPENDENCY_MAX_CONCURRENT),
        "dependency.<dependency>.<breaker.setting|rate|max.concurrent>",
        "FERRY_DEPENDENCY_<DEPENDENCY>_<BREAKER_SETTING|RATE|MAX_CONCURRENT>");

    private final String noun;
    private final String keyPrefix;
    private final String envPrefix;

    /** Settings by key suffix, longest suffix first (so that no suffix shadows a longer one). */
    private final Map<String, Setting> bySuffix;

    private final String expectedKey;
    private final String expectedEnv;

    Scope(
        String noun,
        String keyPrefix,
        String envPrefix,
        String cutFromKey,
        List<Setting> settings,
        String expectedKey,
        String expectedEnv) {
      this.noun = noun;
      this.keyPrefix = keyPrefix;
      this.envPrefix = envPrefix;
      Map<String, Setting> m =
          new TreeMap<>(
              Comparator.comparingInt(String::length)
                  .reversed()
                  .thenComparing(Comparator.naturalOrder()));
      for (Setting s : settings) {
        m.put(s.key().startsWith(cutFromKey) ? s.key().substring(cutFromKey.length()) : s.key(), s);
      }
      this.bySuffix = java.util.Collections.unmodifiableMap(m);
      this.expectedKey =
          expectedKey != null
              ? expectedKey
              : keyPrefix + "<" + noun + ">.<" + String.join("|", new TreeMap<>(m).keySet()) + ">";
      this.expectedEnv = expectedEnv;
    }

    /** {@code "for type 'x'"}: appended to errors about a name's settings. */
    String where(String name) {
      return " (for " + noun + " '" + FerryConfig.echo(name) + "')";
    }
  }

  /**
   * One override as given.
   *
   * @param fromEnv whether it came from the environment (then {@code name} is in env form)
   * @param givenAs the key or variable it was spelled as, for error messages
   */
  record Entry(
      Scope scope, boolean fromEnv, String name, Setting setting, String value, String givenAs) {}

  static final Overrides NONE = new Overrides(List.of());

  private final List<Entry> entries;

  /** Values by scope, then by name (env entries under {@code "ENV:" + env name}). */
  private final Map<Scope, Map<String, Map<Setting, String>>> values = new EnumMap<>(Scope.class);

  private Overrides(List<Entry> entries) {
    this.entries = List.copyOf(entries);
    for (Entry e : entries) {
      values
          .computeIfAbsent(e.scope(), k -> new LinkedHashMap<>())
          .computeIfAbsent(mapKey(e.fromEnv(), e.name()), k -> new EnumMap<>(Setting.class))
          .put(e.setting(), e.value());
    }
  }

  private static String mapKey(boolean fromEnv, String name) {
    return fromEnv ? "ENV:" + name : "KEY:" + name;
  }

  /** The scope a file key belongs to, or null when it is no override key. */
  static Scope scopeOfKey(String key) {
    for (Scope s : Scope.values()) {
      if (key.startsWith(s.keyPrefix)) {
        return s;
      }
    }
    return null;
  }

  /** The scope an environment variable belongs to, or null when it is no override variable. */
  static Scope scopeOfEnv(String variable) {
    for (Scope s : Scope.values()) {
      if (variable.startsWith(s.envPrefix)) {
        return s;
      }
    }
    return null;
  }

  /** Parses a file key such as {@code type.resize-image.max.attempts}. */
  static Entry fromKey(Scope scope, String key, String value, Path file) {
    for (Map.Entry<String, Setting> e : scope.bySuffix.entrySet()) {
      String tail = "." + e.getKey();
      if (key.endsWith(tail) && key.length() > scope.keyPrefix.length() + tail.length()) {
        String name = key.substring(scope.keyPrefix.length(), key.length() - tail.length());
        return new Entry(scope, false, name, e.getValue(), value, key);
      }
    }
    throw new ConfigException(
        "unknown per-"
            + scope.noun
            + " setting '"
            + FerryConfig.echo(key)
            + "' in "
            + file
            + " (expected "
            + scope.expectedKey
            + ")");
  }

  /** Parses a variable such as {@code FERRY_TYPE_RESIZE_IMAGE_MAX_ATTEMPTS}. */
  static Entry fromEnv(Scope scope, String variable, String value) {
    for (Map.Entry<String, Setting> e : scope.bySuffix.entrySet()) {
      String tail = "_" + e.getKey().toUpperCase(Locale.ROOT).replace('.', '_');
      if (variable.endsWith(tail) && variable.length() > scope.envPrefix.length() + tail.length()) {
        String name =
            variable.substring(scope.envPrefix.length(), variable.length() - tail.length());
        return new Entry(scope, true, name, e.getValue(), value, variable);
      }
    }
    throw new ConfigException(
        "unknown per-"
            + scope.noun
            + " setting "
            + FerryConfig.echo(variable)
            + " (expected "
            + scope.expectedEnv
            + ")");
  }

  static Overrides of(List<Entry> entries) {
    return entries.isEmpty() ? NONE : new Overrides(entries);
  }

  /** The settings overridden for {@code name} (environment before file); empty if none. */
  Map<Setting, String> forName(Scope scope, String name) {
    Map<String, Map<Setting, String>> byName = values.get(scope);
    if (byName == null || name.isEmpty()) {
      return Map.of();
    }
    Map<Setting, String> out = new EnumMap<>(Setting.class);
    out.putAll(byName.getOrDefault(mapKey(false, name), Map.of()));
    out.putAll(byName.getOrDefault(mapKey(true, envName(name)), Map.of()));
    return out;
  }

  /** Every override, in a stable order: dependencies before types, variables before keys. */
  List<Entry> entries() {
    List<Entry> sorted = new ArrayList<>(entries);
    sorted.sort(
        Comparator.comparing((Entry e) -> e.scope() != Scope.DEPENDENCY)
            .thenComparing(e -> !e.fromEnv())
            .thenComparing(Entry::name)
            .thenComparing(e -> e.setting().key()));
    return sorted;
  }

  /** The name in environment variables: upper case, other characters as _. */
  static String envName(String name) {
    return name.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
  }
}
