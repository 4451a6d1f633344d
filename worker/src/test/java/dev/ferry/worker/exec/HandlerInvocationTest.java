package dev.ferry.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.TextNode;
import dev.ferry.core.json.FerryJson;
import dev.ferry.core.json.SubmissionLimits;
import dev.ferry.core.model.Outcome;
import dev.ferry.core.model.WorkItem;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;
import dev.ferry.worker.api.NonRetryableException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What each handler result or throwable becomes, on the calling thread, without Kafka. */
class HandlerInvocationTest {
  private static final Instant NOW = Instant.parse("2026-12-01T00:00:00Z");
  private final HandlerInvocation invocation =
      new HandlerInvocation(
          Clock.fixed(NOW, ZoneOffset.UTC),
          new JobRunner.Limits(100, new SubmissionLimits(1 << 20, 64, 2)));
  private final WorkItem item =
      new WorkItem(UUID.randomUUID(), 1, 1L, "t", FerryJson.object(), null, 30_000);

  /** A handler that does what the test says. */
  @FunctionalInterface
  interface Body {
    JobResult handle(JobContext ctx) throws Exception;
  }

  private Outcome run(Body body, boolean cancelled) {
    JobHandler h =
        new JobHandler() {
          @Override
          public String type() {
            return "t";
          }

          @Override
          public JobResult handle(JobContext ctx) throws Exception {
            return body.handle(ctx);
          }
        };
    return invocation.invoke(h, item, NOW.plusSeconds(30), () -> cancelled);
  }

  private Outcome run(Body body) {
    return run(body, false);
  }

  @AfterEach
  void clearInterrupt() {
    boolean ignored = Thread.interrupted();
  }

  @Test
  void resultsMapToOutcomes() {
    assertThat(run(ctx -> JobResult.success(TextNode.valueOf("ok"))))
        .isEqualTo(new Outcome.Succeeded(TextNode.valueOf("ok")));
    assertThat(run(ctx -> JobResult.retry("later"))).isEqualTo(new Outcome.Failed("later", true));
    assertThat(run(ctx -> JobResult.fail("never"))).isEqualTo(new Outcome.Failed("never", false));
    assertThat(run(ctx -> JobResult.snooze(Duration.ofSeconds(3))))
        .isEqualTo(new Outcome.Deferred(NOW.plusSeconds(3), "snoozed for 3000 ms"));
  }

  @Test
  void theHandlerSeesItsDeadlineAndItem() {
    assertThat(
            run(
                ctx ->
                    ctx.deadline().equals(NOW.plusSeconds(30)) && ctx.jobId().equals(item.id())
                        ? JobResult.success(null)
                        : JobResult.fail("wrong")))
        .isEqualTo(new Outcome.Succeeded(null));
  }

  @Test
  void throwablesAreRetryable_exceptNonRetryableException() {
    assertThat(
            run(
                ctx -> {
                  throw new IllegalStateException("boom");
                }))
        .isEqualTo(new Outcome.Failed("java.lang.IllegalStateException: boom", true));
    assertThat(
            run(
                ctx -> {
                  throw new StackOverflowError();
                }))
        .isEqualTo(new Outcome.Failed("java.lang.StackOverflowError", true));
    assertThat(
            run(
                ctx -> {
                  throw new NonRetryableException("bad input");
                }))
        .isEqualTo(
            new Outcome.Failed("dev.ferry.worker.api.NonRetryableException: bad input", false));
    assertThat(run(ctx -> null))
        .isEqualTo(new Outcome.Failed("handler returned null instead of a JobResult", true));
  }

  @Test
  void interruption_isRetryable_andTheInterruptFlagIsRestored() {
    Outcome o =
        run(
            ctx -> {
              throw new InterruptedException("stop");
            });
    assertThat(o)
        .isEqualTo(new Outcome.Failed("interrupted: java.lang.InterruptedException: stop", true));
    assertThat(Thread.currentThread().isInterrupted()).isTrue();
  }

  @Test
  void aCancelledAttempt_endsNonRetryable_whateverTheHandlerDid() {
    assertThat(run(ctx -> JobResult.success(null), true))
        .isEqualTo(new Outcome.Failed("cancelled while running", false));
    assertThat(
            run(
                ctx -> {
                  throw new InterruptedException();
                },
                true))
        .isEqualTo(new Outcome.Failed("cancelled while running", false));
    assertThat(
            run(
                ctx -> {
                  throw new IllegalStateException("boom");
                },
                true))
        .isEqualTo(
            new Outcome.Failed(
                "cancelled while running: java.lang.IllegalStateException: boom", false));
  }

  @Test
  void aResultOverTheLimit_endsNonRetryable() {
    assertThat(run(ctx -> JobResult.success(TextNode.valueOf("x".repeat(200)))))
        .isEqualTo(
            new Outcome.Failed("result too large: 202 bytes over result.max.bytes (100)", false));
  }

  @Test
  void spawnedChildren_areValidatedWithTheLimits() {
    Outcome ok = run(ctx -> JobResult.spawn(List.of(FerryJson.parse("{\"type\":\"noop\"}"))));
    assertThat(ok).isInstanceOf(Outcome.Spawned.class);
    Outcome tooMany =
        run(
            ctx ->
                JobResult.spawn(
                    List.of(
                        FerryJson.parse("{\"type\":\"noop\"}"),
                        FerryJson.parse("{\"type\":\"noop\"}"),
                        FerryJson.parse("{\"type\":\"noop\"}"))));
    assertThat(tooMany).isInstanceOf(Outcome.Failed.class);
    assertThat(((Outcome.Failed) tooMany).error()).startsWith("spawned children are invalid");
    assertThat(((Outcome.Failed) tooMany).retryable()).isFalse();
  }
}
