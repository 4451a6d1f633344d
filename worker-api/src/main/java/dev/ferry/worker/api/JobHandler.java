package dev.ferry.worker.api;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A job type. Implementations must be thread-safe: one instance runs many jobs at once, each on its
 * own virtual thread. Register custom handlers with {@code java.util.ServiceLoader} (a {@code
 * META-INF/services/dev.ferry.worker.api.JobHandler} file) or pass them to the worker builder.
 */
public interface JobHandler {
  /** The {@code type} of the jobs this handler runs, e.g. {@code http}. */
  String type();

  /** Runs one attempt. Throwing counts as a retryable failure (see {@link JobResult}). */
  JobResult handle(JobContext context) throws Exception;

  /**
   * The dependency (circuit-breaker key) of a job whose submission named none; null for none.
   * {@code http} derives host:port from the URL.
   */
  default String dependency(JsonNode payload) {
    return null;
  }
}
