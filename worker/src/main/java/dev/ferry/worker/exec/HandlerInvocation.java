package dev.ferry.worker.exec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.core.json.FerryJson;
import dev.ferry.core.json.InvalidSubmissionException;
import dev.ferry.core.json.SubmissionCodec;
import dev.ferry.core.model.Outcome;
import dev.ferry.core.model.WorkItem;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;
import dev.ferry.worker.api.NonRetryableException;
import java.time.Clock;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls a {@link JobHandler} once, on the calling thread, and maps whatever it returns or throws
 * (any {@link Throwable}, interruption included) to exactly one {@link Outcome}: a success (unless
 * its result is over {@code result.max.bytes}), a retryable or non-retryable failure, a snooze
 * (deferred), or spawned children (validated like a submission's). An attempt cancelled while its
 * handler ran ends non-retryable "cancelled", whatever the handler did. The deadline is handed to
 * the handler in its {@link JobContext}; interrupting it at the deadline is the caller's ({@link
 * JobRunner}'s). Thread-safe.
 */
final class HandlerInvocation {
  private static final Logger log = LoggerFactory.getLogger(HandlerInvocation.class);

  private final Clock clock;
  private final JobRunner.Limits limits;

  /** Validates spawned children; built once (it holds a configured JSON parser). */
  private final SubmissionCodec spawnCodec;

  HandlerInvocation(Clock clock, JobRunner.Limits limits) {
    this.clock = clock;
    this.limits = limits;
    this.spawnCodec = new SubmissionCodec(limits.spawn());
  }

  /**
   * Runs {@code handler} on {@code item}.
   *
   * @param deadline when the attempt times out (for the handler's own use)
   * @param cancelled whether the attempt has been cancelled
   */
  Outcome invoke(JobHandler handler, WorkItem item, Instant deadline, BooleanSupplier cancelled) {
    JobContext ctx =
        new JobContext(
            item.id(),
            item.attempt(),
            item.type(),
            item.payload(),
            item.dependency(),
            deadline,
            cancelled,
            item.traceparent());
    try {
      JobResult r = handler.handle(ctx);
      if (r == null) {
        return new Outcome.Failed("handler returned null instead of a JobResult", true);
      }
      if (cancelled.getAsBoolean()) {
        return new Outcome.Failed("cancelled while running", false);
      }
      return switch (r) {
        case JobResult.Success s -> succeeded(s.result());
        case JobResult.Retry f -> new Outcome.Failed(f.error(), true);
        case JobResult.Fail f -> new Outcome.Failed(f.error(), false);
        case JobResult.Snooze s ->
            new Outcome.Deferred(
                clock.instant().plus(s.delay()), "snoozed for " + s.delay().toMillis() + " ms");
        case JobResult.Spawn s -> spawned(s);
      };
    } catch (NonRetryableException e) {
      return new Outcome.Failed(describe(e), false);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      if (cancelled.getAsBoolean()) {
        return new Outcome.Failed("cancelled while running", false);
      }
      return new Outcome.Failed("interrupted: " + describe(e), true);
    } catch (Throwable t) {
      if (cancelled.getAsBoolean()) {
        return new Outcome.Failed("cancelled while running: " + describe(t), false);
      }
      log.warn("Job {} attempt {} failed: {}", item.id(), item.attempt(), t.toString());
      return new Outcome.Failed(describe(t), true);
    }
  }

  /**
   * A success, unless its result is over {@code result.max.bytes}: such a report could never be
   * sent (or stored), so the attempt ends non-retryable instead.
   */
  private Outcome succeeded(JsonNode result) {
    int size = result == null ? 4 : FerryJson.bytes(result).length;
    if (size > limits.resultMaxBytes()) {
      return new Outcome.Failed(
          "result too large: "
              + size
              + " bytes over result.max.bytes ("
              + limits.resultMaxBytes()
              + ")",
          false);
    }
    return new Outcome.Succeeded(result);
  }

  /**
   * Validates spawned children like a submission's, with the configured {@code submit.max.*}
   * limits, so the orchestrator can trust them.
   */
  private Outcome spawned(JobResult.Spawn s) {
    ArrayNode arr = FerryJson.MAPPER.createArrayNode();
    s.children().forEach(arr::add);
    ObjectNode probe = FerryJson.object();
    probe.set("children", arr);
    try {
      spawnCodec.decode(FerryJson.bytes(probe));
    } catch (InvalidSubmissionException e) {
      return new Outcome.Failed("spawned children are invalid: " + e.getMessage(), false);
    }
    return new Outcome.Spawned(arr);
  }

  private static String describe(Throwable t) {
    String m = t.getMessage();
    return m == null ? t.getClass().getName() : t.getClass().getName() + ": " + m;
  }
}
