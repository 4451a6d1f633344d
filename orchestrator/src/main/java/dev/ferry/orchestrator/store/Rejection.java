package dev.ferry.orchestrator.store;

/** A rejected submission, as stored in {@code ferry.rejected_submissions}. */
public record Rejection(String topic, int partition, long offset, String reason, String raw) {}
