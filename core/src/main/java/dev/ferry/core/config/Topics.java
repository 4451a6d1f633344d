package dev.ferry.core.config;

/**
 * Topic names, all under one prefix (default {@code ferry.}). {@code workUrgent} carries the work
 * items of priority 1 and 2, which workers take before those on {@code work}
 * (docs/flow-control.md).
 */
public record Topics(
    String submit, String work, String results, String events, String dlq, String workUrgent) {
  public static Topics withPrefix(String prefix) {
    return new Topics(
        prefix + "submit",
        prefix + "work",
        prefix + "results",
        prefix + "events",
        prefix + "dlq",
        prefix + "work.urgent");
  }
}
