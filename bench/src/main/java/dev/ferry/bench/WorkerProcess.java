package dev.ferry.bench;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.worker.Worker;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A worker in its own JVM, so that its heap and resident memory are its own. The parent starts it
 * with a heap cap ({@code -Xmx}) and the worker's settings in the environment (as a deployed worker
 * gets them), stops it by closing its standard input, and reads the memory figures it prints last.
 */
public final class WorkerProcess implements AutoCloseable {
  private static final String PEAK = "PEAK ";

  private final Process process;
  private final BufferedReader out;

  private WorkerProcess(Process process) {
    this.process = process;
    this.out =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
  }

  /** Memory figures of a worker process. */
  /**
   * @param heapMaxMb the heap cap it ran with
   * @param heapPeakMb highest heap use (sum of the pools' peaks, garbage included)
   * @param liveAfterGcPeakMb highest heap use right after a collection (what was live)
   * @param rssPeakMb peak resident set size of the process
   */
  public record Memory(
      long heapMaxMb, double heapPeakMb, double liveAfterGcPeakMb, double rssPeakMb) {
    String fields() {
      return String.format(
          Locale.ROOT,
          "heap_max_mb=%d heap_peak_mb=%.0f heap_after_gc_peak_mb=%.0f rss_peak_mb=%.0f",
          heapMaxMb,
          heapPeakMb,
          liveAfterGcPeakMb,
          rssPeakMb);
    }
  }

  /** Starts a worker JVM with {@code -Xmx<heapMb>m} and these settings. */
  public static WorkerProcess start(int heapMb, Map<Setting, String> settings) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.add("-Xmx" + heapMb + "m");
    if (Runtime.version().feature() >= 24) {
      cmd.add("--sun-misc-unsafe-memory-access=allow");
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(WorkerProcess.class.getName());
    ProcessBuilder pb = new ProcessBuilder(cmd);
    settings.forEach((s, v) -> pb.environment().put(s.env(), v));
    pb.redirectError(ProcessBuilder.Redirect.DISCARD);
    WorkerProcess w = new WorkerProcess(pb.start());
    String line = w.out.readLine();
    if (line == null || !line.equals("READY")) {
      w.process.destroyForcibly();
      throw new IOException("worker process did not start: " + line);
    }
    return w;
  }

  /** Stops the worker (a graceful drain) and returns its memory figures. */
  public Memory stop() throws IOException, InterruptedException {
    process.getOutputStream().close();
    String line;
    while ((line = out.readLine()) != null) {
      if (line.startsWith(PEAK)) {
        String[] f = line.substring(PEAK.length()).split(" ");
        process.waitFor(30, TimeUnit.SECONDS);
        return new Memory(
            Long.parseLong(f[0]),
            Double.parseDouble(f[1]),
            Double.parseDouble(f[2]),
            Double.parseDouble(f[3]));
      }
    }
    throw new IOException(
        "worker process ended without memory figures (exit " + process.waitFor() + ")");
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }

  /** The worker JVM: starts a worker from the environment, runs until stdin closes. */
  public static void main(String[] args) throws Exception {
    PrintStream stdout = System.out;
    // Keep the protocol on stdout clean: logs go to stderr (discarded by the parent).
    System.setOut(System.err);
    watchGcs();
    FerryConfig config = FerryConfig.load(Map.of(), System.getenv(), null);
    Worker worker = Worker.start(config, List.of());
    stdout.println("READY");
    stdout.flush();
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      while (in.readLine() != null) {
        // wait for the parent to close stdin
      }
    }
    worker.close();
    double peak = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        peak += pool.getPeakUsage().getUsed();
      }
    }
    double live = liveAfterGc.get();
    stdout.printf(
        Locale.ROOT,
        "%s%d %.1f %.1f %.1f%n",
        PEAK,
        Runtime.getRuntime().maxMemory() >> 20,
        peak / (1 << 20),
        live / (1 << 20),
        rssPeakKb() / 1024.0);
    stdout.flush();
    System.exit(0);
  }

  /** Highest heap occupancy right after a collection: the peak of what was really live. */
  private static final java.util.concurrent.atomic.AtomicLong liveAfterGc =
      new java.util.concurrent.atomic.AtomicLong();

  private static void watchGcs() {
    for (var gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      ((javax.management.NotificationEmitter) gc)
          .addNotificationListener(
              (n, h) -> {
                if (n.getType()
                    .equals(
                        com.sun.management.GarbageCollectionNotificationInfo
                            .GARBAGE_COLLECTION_NOTIFICATION)) {
                  var info =
                      com.sun.management.GarbageCollectionNotificationInfo.from(
                          (javax.management.openmbean.CompositeData) n.getUserData());
                  long used =
                      info.getGcInfo().getMemoryUsageAfterGc().values().stream()
                          .mapToLong(MemoryUsage::getUsed)
                          .sum();
                  liveAfterGc.accumulateAndGet(used, Math::max);
                }
              },
              null,
              null);
    }
  }

  /** VmHWM, the peak resident set size, from /proc (0 where there is none). */
  private static long rssPeakKb() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (l.startsWith("VmHWM:")) {
          return Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
    return 0;
  }
}
