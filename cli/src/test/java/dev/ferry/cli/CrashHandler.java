package dev.ferry.cli;

import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;

/**
 * Test job type {@code crash}: kills the JVM that runs it on the spot, like a native crash or the
 * kernel's OOM killer (no shutdown hooks, nothing flushed). Registered with ServiceLoader for
 * worker processes started on the test class path.
 */
public final class CrashHandler implements JobHandler {
  @Override
  public String type() {
    return "crash";
  }

  @Override
  public JobResult handle(JobContext context) {
    Runtime.getRuntime().halt(137);
    return JobResult.fail("unreachable");
  }
}
