package dev.ferry.core.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Where configuration comes from, and which source wins: command-line flags, then environment
 * variables ({@code FERRY_*}), then a properties file ({@code --config} or {@code FERRY_CONFIG}),
 * then defaults. Also reads {@code db.password.file}. Knows nothing of what the settings mean: that
 * is {@link FerryConfig}'s part.
 */
final class ConfigLoader {
  private static final String KAFKA_KEY = "kafka.";
  private static final String KAFKA_ENV = "FERRY_KAFKA_";
  private static final String CONFIG_ENV = "FERRY_CONFIG";

  private final Map<Setting, String> values = new EnumMap<>(Setting.class);
  private final Map<String, String> kafka = new HashMap<>();
  private final List<Overrides.Entry> overrides = new ArrayList<>();

  private ConfigLoader() {}

  static FerryConfig load(Map<Setting, String> flags, Map<String, String> env, Path file) {
    ConfigLoader l = new ConfigLoader();
    Path props =
        file != null ? file : env.get(CONFIG_ENV) == null ? null : Path.of(env.get(CONFIG_ENV));
    if (props != null) {
      l.readFile(props);
    }
    l.readEnvironment(env);
    l.values.putAll(flags);
    readSecretFile(l.values, Setting.DB_PASSWORD, Setting.DB_PASSWORD_FILE);
    readSecretFile(l.values, Setting.CONSOLE_AUTH_TOKEN, Setting.CONSOLE_AUTH_TOKEN_FILE);
    return new FerryConfig(l.values, l.kafka, Overrides.of(l.overrides));
  }

  private void readFile(Path props) {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(props, StandardCharsets.UTF_8)) {
      p.load(r);
    } catch (IOException e) {
      throw new ConfigException("cannot read config file " + props + ": " + e.getMessage());
    }
    for (String name : p.stringPropertyNames()) {
      String value = p.getProperty(name).trim();
      Setting s = byKey(name);
      Overrides.Scope scope = Overrides.scopeOfKey(name);
      if (s != null) {
        values.put(s, value);
      } else if (name.startsWith(KAFKA_KEY)) {
        kafka.put(name.substring(KAFKA_KEY.length()), value);
      } else if (scope != null) {
        overrides.add(Overrides.fromKey(scope, name, value, props));
      } else {
        throw new ConfigException("unknown setting '" + FerryConfig.echo(name) + "' in " + props);
      }
    }
  }

  private void readEnvironment(Map<String, String> env) {
    for (Map.Entry<String, String> e : env.entrySet()) {
      String name = e.getKey();
      if (!name.startsWith("FERRY_") || name.equals(CONFIG_ENV)) {
        continue;
      }
      Setting s = byEnv(name);
      Overrides.Scope scope = Overrides.scopeOfEnv(name);
      if (s != null) {
        values.put(s, e.getValue().trim());
      } else if (scope != null) {
        overrides.add(Overrides.fromEnv(scope, name, e.getValue().trim()));
      } else if (name.startsWith(KAFKA_ENV)) {
        // Not trimmed: a Kafka property (a JAAS line, a PEM) is passed on as given.
        kafka.put(
            name.substring(KAFKA_ENV.length()).toLowerCase(Locale.ROOT).replace('_', '.'),
            e.getValue());
      }
    }
  }

  /**
   * {@code db.password.file}, {@code console.auth.token.file}: the secret is the file's content
   * (one trailing newline cut).
   */
  private static void readSecretFile(Map<Setting, String> values, Setting secret, Setting file) {
    String path = values.getOrDefault(file, "");
    if (path.isBlank()) {
      return;
    }
    if (!values.getOrDefault(secret, "").isEmpty()) {
      throw new ConfigException(
          "set either " + secret.spellings() + " or " + file.spellings() + ", not both");
    }
    String value;
    try {
      value = Files.readString(Path.of(path.trim()), StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      throw new ConfigException(
          file.spellings() + ": cannot read '" + path.trim() + "': " + e.getMessage());
    }
    if (value.endsWith("\n")) {
      value = value.substring(0, value.length() - 1);
      if (value.endsWith("\r")) {
        value = value.substring(0, value.length() - 1);
      }
    }
    values.put(secret, value);
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
}
