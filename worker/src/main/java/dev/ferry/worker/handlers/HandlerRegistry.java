package dev.ferry.worker.handlers;

import dev.ferry.core.config.ConfigException;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.worker.api.JobHandler;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The handlers a worker knows, by type: built-ins (minus {@code handlers.disabled}), ServiceLoader
 * ones, then explicit ones. A disabled built-in is simply not known, so its jobs fail like jobs of
 * an unknown type; a ServiceLoader or explicit handler may still take its type.
 */
public final class HandlerRegistry implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HandlerRegistry.class);

  /** The built-in types, which {@code handlers.disabled} may name. */
  public static final Set<String> BUILT_INS = Set.of("noop", "echo", "sleep", "http");

  private final Map<String, JobHandler> handlers;

  /** Built-ins holding resources, closed by {@link #close()} (user handlers are the user's). */
  private final List<HttpHandler> owned;

  private HandlerRegistry(Map<String, JobHandler> handlers, List<HttpHandler> owned) {
    this.handlers = Map.copyOf(handlers);
    this.owned = List.copyOf(owned);
  }

  /** Built-ins with default settings, plus ServiceLoader handlers, plus {@code extra}. */
  public static HandlerRegistry load(Collection<JobHandler> extra) {
    return load(extra, HttpSettings.defaults(), Set.of());
  }

  /**
   * Built-ins as configured ({@code http.*}, {@code handlers.disabled}), plus ServiceLoader
   * handlers, plus {@code extra}.
   *
   * @throws ConfigException for a bad http setting or an unknown type in handlers.disabled
   */
  public static HandlerRegistry load(FerryConfig config, Collection<JobHandler> extra) {
    return load(extra, HttpSettings.from(config), disabled(config), handlersDir(config));
  }

  /** Built-ins except {@code disabled}, plus ServiceLoader handlers, plus {@code extra}. */
  public static HandlerRegistry load(
      Collection<JobHandler> extra, HttpSettings http, Set<String> disabled) {
    return load(extra, http, disabled, null);
  }

  /**
   * Built-ins except {@code disabled}, plus ServiceLoader handlers of the classpath and of the jars
   * in {@code dir} (when not null), plus {@code extra}.
   */
  private static HandlerRegistry load(
      Collection<JobHandler> extra, HttpSettings http, Set<String> disabled, Path dir) {
    Map<String, JobHandler> m = new TreeMap<>();
    List<HttpHandler> owned = new ArrayList<>();
    for (String type : List.of("noop", "echo", "sleep", "http")) {
      if (!disabled.contains(type)) {
        m.put(
            type,
            switch (type) {
              case "noop" -> new NoopHandler();
              case "echo" -> new EchoHandler();
              case "sleep" -> new SleepHandler();
              default -> {
                HttpHandler h = new HttpHandler(http);
                owned.add(h);
                yield h;
              }
            });
      }
    }
    ClassLoader loader =
        dir == null ? Thread.currentThread().getContextClassLoader() : jarLoader(dir);
    try {
      for (JobHandler h : ServiceLoader.load(JobHandler.class, loader)) {
        m.put(h.type(), h);
        if (dir != null) {
          var source = h.getClass().getProtectionDomain().getCodeSource();
          log.info(
              "Handler '{}' ({}) loaded from {}",
              h.type(),
              h.getClass().getName(),
              source == null ? "the classpath" : source.getLocation());
        }
      }
    } catch (java.util.ServiceConfigurationError e) {
      throw new ConfigException(
          "a handler could not be loaded"
              + (dir == null ? "" : " from " + Setting.HANDLERS_DIR.spellings() + " " + dir)
              + ": "
              + e.getMessage());
    }
    for (JobHandler h : extra) {
      m.put(h.type(), h);
    }
    return new HandlerRegistry(m, owned);
  }

  /**
   * The types named by {@code handlers.disabled}.
   *
   * @throws ConfigException if one is not a built-in type
   */
  public static Set<String> disabled(FerryConfig config) {
    String value = config.get(Setting.HANDLERS_DISABLED);
    Set<String> out = new TreeSet<>();
    if (value == null || value.isBlank()) {
      return out;
    }
    for (String t : value.split(",", -1)) {
      String type = t.strip();
      if (!BUILT_INS.contains(type)) {
        throw new ConfigException(
            Setting.HANDLERS_DISABLED.spellings()
                + " must list built-in types ("
                + String.join(", ", new TreeSet<>(BUILT_INS))
                + ") but was '"
                + value
                + "'");
      }
      out.add(type);
    }
    return out;
  }

  /**
   * The directory {@code handlers.dir} names, or null when it is empty.
   *
   * @throws ConfigException if it is not a readable directory
   */
  static Path handlersDir(FerryConfig config) {
    String value = config.get(Setting.HANDLERS_DIR);
    if (value == null || value.isBlank()) {
      return null;
    }
    Path dir = Path.of(value.strip());
    if (!Files.isDirectory(dir) || !Files.isReadable(dir)) {
      throw new ConfigException(
          Setting.HANDLERS_DIR.spellings()
              + " must be a readable directory of handler jars but was '"
              + value
              + "'");
    }
    return dir;
  }

  /** A class loader over every {@code *.jar} in {@code dir}, on top of the worker's classes. */
  private static ClassLoader jarLoader(Path dir) {
    List<URL> jars = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path jar : files.filter(f -> f.toString().endsWith(".jar")).sorted().toList()) {
        jars.add(jar.toUri().toURL());
      }
    } catch (IOException e) {
      throw new ConfigException(
          Setting.HANDLERS_DIR.spellings() + " " + dir + " could not be read: " + e.getMessage());
    }
    if (jars.isEmpty()) {
      log.warn(
          "{} {} holds no .jar files: no handlers loaded from it",
          Setting.HANDLERS_DIR.spellings(),
          dir);
    }
    // Lives as long as the worker's handlers, which is the process.
    return new URLClassLoader(
        "ferry-handlers", jars.toArray(URL[]::new), HandlerRegistry.class.getClassLoader());
  }

  /** The handler for a type, or null. */
  public JobHandler get(String type) {
    return type == null ? null : handlers.get(type);
  }

  /** Known type names, sorted. */
  public Collection<String> types() {
    return new TreeMap<>(handlers).keySet();
  }

  /** Closes the built-ins that hold resources (the http client's connection pool). */
  @Override
  public void close() {
    for (HttpHandler h : owned) {
      try {
        h.close();
      } catch (IOException | RuntimeException e) {
        log.warn("Closing handler {} failed: {}", h.type(), e.toString());
      }
    }
  }
}
