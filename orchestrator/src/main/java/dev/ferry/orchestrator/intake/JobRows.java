package dev.ferry.orchestrator.intake;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.core.config.JobDefaults;
import dev.ferry.core.json.BackoffCodec;
import dev.ferry.core.json.FerryJson;
import dev.ferry.core.json.InvalidSubmissionException;
import dev.ferry.core.json.SubmissionCodec;
import dev.ferry.core.model.Dependencies;
import dev.ferry.core.model.FailurePolicy;
import dev.ferry.core.model.JobStatus;
import dev.ferry.core.model.Submission;
import dev.ferry.orchestrator.OrchestratorSettings;
import dev.ferry.orchestrator.store.NewJob;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

/**
 * Turns submissions (with their whole tree of children) into {@code ferry.jobs} rows, applying the
 * configured defaults. Used by intake and by dynamic fan-out. Thread-safe.
 */
public final class JobRows {
  private final OrchestratorSettings settings;
  private final SubmissionCodec codec;

  public JobRows(OrchestratorSettings settings) {
    this.settings = settings;
    this.codec = new SubmissionCodec(settings.limits());
  }

  /**
   * A submission and all its descendants as rows: a parent waits for its children ({@code
   * WAITING_CHILDREN}); a child without an id gets one derived from its parent's id and its
   * position, so the same tree always yields the same ids. The whole tree shares one trace context.
   *
   * @param rootId the id of the submission the tree came with (each row is inserted only if that
   *     submission is new), or null for children spawned by a handler
   */
  public void flatten(
      Submission s, UUID parentId, UUID rootId, String traceparent, List<NewJob> out) {
    out.add(toRow(s, parentId, rootId, traceparent));
    for (int i = 0; i < s.children().size(); i++) {
      Submission child = s.children().get(i);
      UUID childId =
          child.id() != null
              ? child.id()
              : UUID.nameUUIDFromBytes((s.id() + "/" + i).getBytes(StandardCharsets.UTF_8));
      flatten(child.withId(childId), s.id(), rootId, traceparent, out);
    }
  }

  /** Children spawned by a handler (already validated by the worker), as submissions. */
  public List<Submission> spawnedChildren(JsonNode children) throws InvalidSubmissionException {
    var wrapper = FerryJson.object();
    wrapper.set("children", children);
    return codec.decode(FerryJson.bytes(wrapper)).children();
  }

  /** The default backoff of each job type as JSON text: written once, not once per job. */
  private final java.util.concurrent.ConcurrentMap<String, String> defaultBackoffText =
      new java.util.concurrent.ConcurrentHashMap<>();

  private NewJob toRow(Submission s, UUID parentId, UUID rootId, String traceparent) {
    JobDefaults d = settings.jobDefaults().apply(s.type());
    String backoffText =
        s.backoff() != null
            ? FerryJson.text(BackoffCodec.encode(s.backoff()))
            : defaultBackoffText.computeIfAbsent(
                String.valueOf(s.type()), t -> FerryJson.text(BackoffCodec.encode(d.backoff())));
    boolean parent = !s.children().isEmpty();
    return new NewJob(
        s.id(),
        parentId,
        s.type(),
        Dependencies.of(s.type(), s.dependency(), s.payload()),
        FerryJson.text(s.payload()),
        (parent ? JobStatus.WAITING_CHILDREN : JobStatus.PENDING).name(),
        s.maxAttempts() != null ? s.maxAttempts() : d.maxAttempts(),
        s.runAt(),
        s.timeoutMs() != null ? s.timeoutMs() : d.timeoutMs(),
        backoffText,
        s.key(),
        parent
            ? (s.failurePolicy() == null ? FailurePolicy.FAIL_FAST : s.failurePolicy()).wireName()
            : null,
        s.children().size(),
        traceparent,
        rootId,
        s.unique() == null ? null : s.unique().key(),
        s.unique() == null ? null : s.unique().forMs(),
        null,
        s.priority() == null ? NewJob.DEFAULT_PRIORITY : s.priority(),
        s.concurrency() == null ? null : s.concurrency().key(),
        s.concurrency() == null ? null : s.concurrency().limit());
  }
}
