package dev.ferry.worker.poll;

import org.apache.kafka.common.TopicPartition;

/**
 * The poll loop's handle of a started (or deferred) job: where its record came from, which
 * assignment of that partition it belongs to ({@code tracker}, the epoch), and what admission
 * counted for it. Equal tickets name the same record of the same assignment.
 *
 * @param dependency the dependency whose bulkhead counts this job, or null (none, or not counted:
 *     deferred and isolated jobs)
 * @param alone whether this job runs alone because workers died running it before
 */
record Ticket(
    TopicPartition partition,
    OffsetTracker tracker,
    long offset,
    String dependency,
    boolean alone) {}
