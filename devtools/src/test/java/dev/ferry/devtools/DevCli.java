package dev.ferry.devtools;

import dev.ferry.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the {@code ferry} command line for the development tools' tests. */
final class DevCli {
  record Run(int exit, String out, String err) {}

  private DevCli() {}

  /** In-process, with the development tools on the test classpath. */
  static synchronized Run run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int exit = Main.run(args);
      return new Run(
          exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  /**
   * As a user runs it: {@code java -jar cli/target/ferry.jar} (the runtime classpath only) with
   * {@code env} added to its environment; output and errors together in {@link Run#out()}.
   */
  static Run runtimeJar(Map<String, String> env, long timeoutS, String... args)
      throws IOException, InterruptedException {
    Started started = startRuntimeJar(env, args);
    Process p = started.process();
    Path log = started.log();
    try {
      if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
        throw new AssertionError(
            "ferry "
                + String.join(" ", args)
                + " still running after "
                + timeoutS
                + " s; output so far:\n"
                + Files.readString(log));
      }
      return new Run(p.exitValue(), Files.readString(log), "");
    } finally {
      p.destroyForcibly();
    }
  }

  /** A command started as a user starts it, still running; its output goes to {@code log}. */
  record Started(Process process, Path log) {}

  /** Starts {@code java -jar ferry.jar args} (as {@link #runtimeJar}) and returns at once. */
  static Started startRuntimeJar(Map<String, String> env, String... args) throws IOException {
    Path jar = runtimeJar();
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--sun-misc-unsafe-memory-access=allow",
                "-jar",
                jar.toString()));
    command.addAll(List.of(args));
    Path log = Files.createTempFile("ferry-devtools-", ".log");
    ProcessBuilder pb =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().remove(DEV_CLASSPATH_ENV);
    pb.environment().putAll(env);
    return new Started(pb.start(), log);
  }

  static final String DEV_CLASSPATH_ENV = "FERRY_DEV_CLASSPATH";

  /** The development classpath this module's build made: its jar and {@code dev-lib/}. */
  static String devClasspath() {
    Path target = Path.of("target").toAbsolutePath();
    return target.resolve("ferry-devtools.jar")
        + java.io.File.pathSeparator
        + target.resolve("dev-lib");
  }

  /** The runtime jar the cli module built ({@code ../cli/target/ferry.jar}). */
  static Path runtimeJar() {
    Path jar = Path.of("..", "cli", "target", "ferry.jar").toAbsolutePath().normalize();
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: build the cli module first");
    }
    return jar;
  }
}
