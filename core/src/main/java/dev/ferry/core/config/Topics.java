package dev.ferry.core.config;

/** Topic names, all under one prefix (default {@code ferry.}). */
public record Topics(String submit, String work, String results, String events, String dlq) {
  public static Topics withPrefix(String prefix) {
    return new Topics(
        prefix + "submit", prefix + "work", prefix + "results", prefix + "events", prefix + "dlq");
  }
}
