package dev.ferry.bench;

import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;

/**
 * {@code fail-once}: the first attempt fails (retryable) when the payload says {@code "fail":
 * true}.
 */
public final class FailOnceHandler implements JobHandler {
  @Override
  public String type() {
    return "fail-once";
  }

  @Override
  public JobResult handle(JobContext ctx) {
    if (ctx.attempt() == 1 && ctx.payload().path("fail").asBoolean()) {
      return JobResult.retry("failing once on purpose");
    }
    return JobResult.success(null);
  }
}
