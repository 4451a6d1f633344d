package dev.ferry.cli;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.worker.Worker;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

@Command(name = "worker", mixinStandardHelpOptions = true,
    description = {"Runs a worker replica that executes jobs.",
        "",
        "Consumes ferry.work, runs handlers with bounded concurrency and produces outcomes",
        "to ferry.results. SIGTERM drains gracefully: no new jobs, in-flight ones finish",
        "(up to --worker-drain-timeout-ms), offsets are committed and the worker leaves its",
        "consumer group."})
final class WorkerCommand extends ConfigurableCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(WorkerCommand.class);

  @Override
  public Integer call() throws InterruptedException {
    FerryConfig config = config();
    log.info("Starting worker with {}", config.describe());
    Worker w = Worker.start(config, List.of());
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      w.close();
      done.countDown();
    }, "ferry-shutdown"));
    done.await();
    return 0;
  }
}
