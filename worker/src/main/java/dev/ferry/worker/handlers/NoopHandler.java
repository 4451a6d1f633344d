package dev.ferry.worker.handlers;

import com.fasterxml.jackson.databind.node.NullNode;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;

/** {@code noop}: succeeds at once with a null result. */
public final class NoopHandler implements JobHandler {
  @Override
  public String type() {
    return "noop";
  }

  @Override
  public JobResult handle(JobContext context) {
    return JobResult.success(NullNode.instance);
  }
}
