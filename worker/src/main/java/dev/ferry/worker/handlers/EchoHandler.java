package dev.ferry.worker.handlers;

import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;

/** {@code echo}: succeeds with its payload as the result. */
public final class EchoHandler implements JobHandler {
  @Override
  public String type() {
    return "echo";
  }

  @Override
  public JobResult handle(JobContext context) {
    return JobResult.success(context.payload());
  }
}
