package dev.ferry.orchestrator.admin;

import dev.ferry.core.model.JobStatus;
import java.util.List;
import java.util.UUID;

/**
 * Which jobs an administrative command applies to: explicit ids, or every job matching a status
 * and/or type. Empty filters never mean "everything": at least one must be given.
 */
public record Selection(List<UUID> ids, JobStatus status, String type) {
  public Selection {
    ids = ids == null ? List.of() : List.copyOf(ids);
    if (ids.isEmpty() && status == null && type == null) {
      throw new IllegalArgumentException("name job ids, or select with --status and/or --type");
    }
  }
}
