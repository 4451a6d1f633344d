package dev.ferry.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * CPU time spent by this JVM (Kafka broker, orchestrator and workers when embedded) and by every
 * PostgreSQL process, between two readings. On a busy 2-core machine wall-clock throughput varies
 * by ±20 % from run to run; CPU time per job is the steadier measure of what a change saved.
 */
final class CpuMeter {
  private static final double TICK_MS = 10; // USER_HZ is 100 on Linux

  private final long jvmNanos;
  private final long postgresTicks;

  private CpuMeter(long jvmNanos, long postgresTicks) {
    this.jvmNanos = jvmNanos;
    this.postgresTicks = postgresTicks;
  }

  static CpuMeter read() {
    var os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    return new CpuMeter(os.getProcessCpuTime(), postgresTicks());
  }

  /** "cpu_jvm_s=… cpu_pg_s=… cpu_us_per_job=…" since the earlier reading. */
  String since(CpuMeter earlier, long jobs) {
    double jvm = (jvmNanos - earlier.jvmNanos) / 1e9;
    double pg = (postgresTicks - earlier.postgresTicks) * TICK_MS / 1000;
    return String.format(
        Locale.ROOT,
        "cpu_jvm_s=%.1f cpu_pg_s=%.1f cpu_us_per_job=%.0f",
        jvm,
        pg,
        (jvm + pg) * 1e6 / jobs);
  }

  /** utime + stime of every process named postgres (0 where /proc is missing). */
  private static long postgresTicks() {
    long sum = 0;
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p : (Iterable<Path>) procs::iterator) {
        String name = p.getFileName().toString();
        if (name.isEmpty() || !Character.isDigit(name.charAt(0))) {
          continue;
        }
        try {
          String stat = Files.readString(p.resolve("stat"));
          int open = stat.indexOf('(');
          int close = stat.lastIndexOf(')');
          if (open < 0 || close < 0 || !stat.substring(open + 1, close).equals("postgres")) {
            continue;
          }
          String[] f = stat.substring(close + 2).split(" ");
          // after "(comm) ": state is field 0; utime and stime are fields 11 and 12
          sum += Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException e) {
          // the process ended meanwhile
        }
      }
    } catch (IOException e) {
      return 0;
    }
    return sum;
  }
}
