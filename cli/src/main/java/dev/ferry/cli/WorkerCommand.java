package dev.ferry.cli;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.SettingGroup;
import dev.ferry.worker.Worker;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

@Command(
    name = "worker",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a worker replica that executes jobs.",
      "",
      "Consumes ferry.work, runs handlers with bounded concurrency and produces outcomes",
      "to ferry.results. SIGTERM drains gracefully: no new jobs, in-flight ones finish",
      "(up to --worker-drain-timeout-ms), offsets are committed and the worker leaves its",
      "consumer group.",
      "",
      "Exit codes: 0 stopped by a signal, 2 bad configuration, 4 Kafka refused the",
      "credentials, 5 the poll loop failed for good (restart the worker)."
    })
final class WorkerCommand extends ConfigurableCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(WorkerCommand.class);

  /** Exit code when the poll loop failed for good. */
  static final int POLL_LOOP_FAILED = 5;

  @Override
  Set<SettingGroup> settingGroups() {
    return EnumSet.of(
        SettingGroup.DATABASE,
        SettingGroup.DATABASE_POOL,
        SettingGroup.KAFKA,
        SettingGroup.SUBMISSIONS,
        SettingGroup.WORKER,
        SettingGroup.HTTP,
        SettingGroup.BREAKER,
        SettingGroup.PROCESS);
  }

  @Override
  public Integer call() throws InterruptedException {
    FerryConfig config = config();
    log.info("Starting worker with {}", config.describe());
    Worker w = Worker.start(config, List.of());
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  w.close();
                  done.countDown();
                },
                "ferry-shutdown"));
    Throwable failure = w.awaitPollLoopEnd();
    if (failure != null) {
      // Not a silent death: exit non-zero so that a supervisor restarts the worker (the
      // shutdown hook drains what is still running and leaves the group).
      log.error(
          "The worker's poll loop failed and the worker stops (exit code {}): {}",
          POLL_LOOP_FAILED,
          failure.toString());
      return POLL_LOOP_FAILED;
    }
    done.await();
    return 0;
  }
}
