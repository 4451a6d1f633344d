package dev.ferry.cli;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.net.MalformedURLException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code demo}, {@code dev} and {@code bench} run embedded Kafka and PostgreSQL, which the runtime
 * (the Docker image, {@code ferry.jar} and its {@code lib/}) does not ship. Here they are stubs
 * that load the real commands from the development classpath (module {@code devtools}): {@code
 * FERRY_DEV_CLASSPATH} (jars and directories of jars, separated by {@code :}) or, in a source
 * checkout, {@code devtools/target} next to {@code cli/target/ferry.jar}. When the classes are on
 * the classpath already (the devtools module's own tests), they are used as they are.
 */
final class DevTools {
  static final String CLASSPATH_ENV = "FERRY_DEV_CLASSPATH";

  private DevTools() {}

  /** A command that lives in the development tools; its arguments go to it untouched. */
  abstract static class Stub implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Unmatched List<String> args = new ArrayList<>();

    abstract String className();

    @Override
    public Integer call() throws Exception {
      Object command = load(className(), spec.name());
      CommandLine cl = Main.configure(new CommandLine(command));
      cl.setCommandName("ferry " + spec.name());
      return cl.execute(args.toArray(String[]::new));
    }
  }

  @Command(
      name = "demo",
      description =
          "Runs a self-contained demo on embedded Kafka and PostgreSQL and exits 0"
              + " when every job ended as expected (development tools; see 'ferry demo --help').")
  static final class Demo extends Stub {
    @Override
    String className() {
      return "dev.ferry.devtools.DemoCommand";
    }
  }

  @Command(
      name = "dev",
      description =
          "Runs embedded Kafka and PostgreSQL for local development until Ctrl-C"
              + " (development tools).")
  static final class Dev extends Stub {
    @Override
    String className() {
      return "dev.ferry.devtools.DevCommand";
    }
  }

  @Command(
      name = "bench",
      description =
          "Runs a benchmark scenario on embedded Kafka and PostgreSQL and prints its"
              + " RESULT lines (development tools; see 'ferry bench --help').")
  static final class Bench extends Stub {
    @Override
    String className() {
      return "dev.ferry.devtools.BenchCommand";
    }
  }

  /**
   * The command object of a development tool.
   *
   * @throws IllegalStateException naming what is missing when the tools are not available
   */
  static Object load(String className, String command) throws ReflectiveOperationException {
    ClassLoader own = DevTools.class.getClassLoader();
    try {
      return instantiate(Class.forName(className, true, own));
    } catch (ClassNotFoundException notHere) {
      List<URL> urls = classpath();
      if (urls.isEmpty()) {
        throw new IllegalStateException(
            "'ferry "
                + command
                + "' needs Ferry's development tools"
                + " (embedded Kafka and PostgreSQL), which the runtime does not ship. Run it from a"
                + " source checkout with ./ferry "
                + command
                + " (it builds them), or set "
                + CLASSPATH_ENV
                + " to the devtools jars.");
      }
      @SuppressWarnings("resource") // lives as long as the command, which is the process
      URLClassLoader dev = new URLClassLoader("ferry-devtools", urls.toArray(URL[]::new), own);
      // ServiceLoader and Kafka's class lookups use the context loader.
      Thread.currentThread().setContextClassLoader(dev);
      try {
        return instantiate(Class.forName(className, true, dev));
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException(
            "'ferry "
                + command
                + "': "
                + className
                + " is not on the"
                + " development classpath "
                + urls
                + "; rebuild with ./mvnw install -DskipTests",
            e);
      }
    }
  }

  private static Object instantiate(Class<?> c) throws ReflectiveOperationException {
    try {
      return c.getConstructor().newInstance();
    } catch (InvocationTargetException e) {
      throw new IllegalStateException("could not create " + c.getName() + ": " + e.getCause(), e);
    }
  }

  /** The development classpath: {@value #CLASSPATH_ENV}, else devtools/target of a checkout. */
  static List<URL> classpath() {
    String configured = System.getenv(CLASSPATH_ENV);
    List<Path> entries = new ArrayList<>();
    if (configured != null && !configured.isBlank()) {
      for (String e : configured.split(File.pathSeparator, -1)) {
        if (!e.isBlank()) {
          entries.add(Path.of(e.strip()));
        }
      }
    } else {
      Path checkout = checkoutDevtools();
      if (checkout != null) {
        entries.add(checkout.resolve("ferry-devtools.jar"));
        entries.add(checkout.resolve("dev-lib"));
      }
    }
    List<URL> urls = new ArrayList<>();
    for (Path p : entries) {
      if (Files.isDirectory(p)) {
        try (Stream<Path> jars = Files.list(p)) {
          for (Path j : jars.filter(j -> j.toString().endsWith(".jar")).sorted().toList()) {
            urls.add(url(j));
          }
        } catch (IOException e) {
          throw new IllegalStateException("could not list " + p + ": " + e.getMessage(), e);
        }
      } else if (Files.isRegularFile(p)) {
        urls.add(url(p));
      }
    }
    return urls;
  }

  /** {@code <checkout>/devtools/target} when this runs from {@code <checkout>/cli/target}. */
  private static Path checkoutDevtools() {
    try {
      var source = DevTools.class.getProtectionDomain().getCodeSource();
      if (source == null) {
        return null;
      }
      Path here = Path.of(source.getLocation().toURI());
      Path target = here.getParent(); // cli/target, for target/ferry.jar and target/classes
      Path candidate = target.getParent().getParent().resolve("devtools").resolve("target");
      return Files.isRegularFile(candidate.resolve("ferry-devtools.jar")) ? candidate : null;
    } catch (URISyntaxException | RuntimeException e) {
      return null;
    }
  }

  private static URL url(Path p) {
    try {
      return p.toUri().toURL();
    } catch (MalformedURLException e) {
      throw new IllegalStateException("bad classpath entry " + p, e);
    }
  }
}
