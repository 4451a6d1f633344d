package dev.ferry.worker.handlers;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.core.json.FerryJson;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;
import dev.ferry.worker.api.NonRetryableException;

/** {@code sleep}: waits {@code {"ms": N}} milliseconds (interruptible), then succeeds. */
public final class SleepHandler implements JobHandler {
  @Override
  public String type() {
    return "sleep";
  }

  @Override
  public JobResult handle(JobContext context) throws InterruptedException {
    JsonNode ms = context.payload().get("ms");
    if (ms == null || !ms.canConvertToLong() || ms.asLong() < 0) {
      throw new NonRetryableException("sleep needs a payload {\"ms\": N} with N >= 0");
    }
    // The job's purpose is to wait.
    Thread.sleep(ms.asLong());
    return JobResult.success(FerryJson.object().put("sleptMs", ms.asLong()));
  }
}
