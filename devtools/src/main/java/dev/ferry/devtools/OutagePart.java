package dev.ferry.devtools;

import dev.ferry.cli.Sql;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;

/**
 * Part two of the demo: a downstream outage. 100 jobs call a service that is down; its shared
 * breaker opens, no worker calls it while it is open, the service comes back, the breaker
 * half-opens with a few trial calls, closes, and every job succeeds.
 */
final class OutagePart {
  private static final int JOBS = 100;

  /** Calls this close to a breaker transition are not counted as made "while OPEN". */
  private static final long EDGE_MS = 200;

  private OutagePart() {}

  static boolean run(Demo demo, FlakyServer payments) throws Exception {
    System.out.println();
    System.out.println(
        "Part 2 — a downstream outage. "
            + payments.dependency()
            + " is down; submitting "
            + JOBS
            + " http jobs to it…");
    for (int i = 0; i < JOBS; i++) {
      var job = Demo.object().put("type", "http").put("maxAttempts", 10).put("key", "payment-" + i);
      job.putObject("payload").put("url", payments.baseUrl() + "/outage");
      demo.submit(job);
    }
    demo.flush();
    String dep = payments.dependency();
    long deadline = demo.deadlineNanos();
    String last = "";
    Instant openedAt = null;
    Instant halfOpenAt = null;
    while (System.nanoTime() < deadline) {
      String state = "CLOSED";
      try (PreparedStatement ps =
          demo.db.prepareStatement(
              "SELECT state, opened_at, retry_at FROM ferry.circuit_breakers WHERE dependency = ?")) {
        ps.setString(1, dep);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            state = rs.getString("state");
            if (state.equals("OPEN") && openedAt == null) {
              openedAt = rs.getTimestamp("opened_at").toInstant();
              System.out.printf(
                  "  breaker OPEN after %d failed calls; jobs wait until %s%n",
                  payments.outageCalls(), rs.getTimestamp("retry_at").toInstant());
              System.out.println("  the service comes back now (the breaker does not know yet)");
              payments.outage = false;
            }
            if (state.equals("HALF_OPEN") && halfOpenAt == null) {
              halfOpenAt = Instant.now();
            }
          }
        }
      }
      long done =
          demo.count(
              "SELECT count(*) FROM ferry.jobs WHERE key LIKE 'payment-%'"
                  + " AND status = 'SUCCEEDED'");
      String line =
          String.format(
              "  breaker %-9s · %3d/%d succeeded · %d calls to the service",
              state, done, JOBS, payments.outageCalls());
      if (!line.equals(last)) {
        System.out.println(line);
        last = line;
      }
      if (done == JOBS) {
        long whileOpen =
            openedAt == null || halfOpenAt == null
                ? -1
                : payments.outageCallsBetween(
                    openedAt.plusMillis(EDGE_MS), halfOpenAt.minusMillis(EDGE_MS));
        long attempts =
            demo.count("SELECT sum(attempts) FROM ferry.jobs WHERE key LIKE 'payment-%'");
        System.out.printf(
            "All %d payments succeeded: %d calls in all, %d while the breaker was"
                + " OPEN, %d attempts used (the waiting gave its attempts back).%n",
            JOBS, payments.outageCalls(), whileOpen, attempts);
        try (PreparedStatement ps =
            demo.db.prepareStatement(
                "SELECT dependency, state, trips, generation, last_reason FROM ferry.circuit_breakers"
                    + " WHERE dependency = ?")) {
          ps.setString(1, dep);
          try (ResultSet rs = ps.executeQuery()) {
            Sql.printTable(rs, 60);
          }
        }
        return openedAt != null;
      }
      // Refreshing a progress line at a human pace.
      Thread.sleep(100);
    }
    System.out.println("Timed out waiting for the outage jobs.");
    return false;
  }
}
