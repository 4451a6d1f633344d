package dev.ferry.orchestrator.admin;

import dev.ferry.core.model.JobStatus;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * Which jobs an administrative action applies to: explicit ids, and/or every job matching all the
 * given filters (null = any): status, type, dependency, parent, key, text in {@code last_error},
 * created in {@code [createdFrom, createdTo)}. Empty filters never mean "everything": at least one
 * must be given.
 */
public record Selection(
    List<UUID> ids,
    JobStatus status,
    String type,
    String dependency,
    UUID parent,
    String key,
    String errorContains,
    Instant createdFrom,
    Instant createdTo) {
  public Selection {
    ids = ids == null ? List.of() : List.copyOf(ids);
    if (ids.isEmpty()
        && status == null
        && type == null
        && dependency == null
        && parent == null
        && key == null
        && errorContains == null
        && createdFrom == null
        && createdTo == null) {
      throw new IllegalArgumentException(
          "name job ids, or select with a filter (status, type, dependency, parent, key, error"
              + " text, created from/to)");
    }
  }

  /** By ids, status and type (what {@code ferry retry} and {@code ferry cancel} select by). */
  public Selection(List<UUID> ids, JobStatus status, String type) {
    this(ids, status, type, null, null, null, null, null, null);
  }
}
