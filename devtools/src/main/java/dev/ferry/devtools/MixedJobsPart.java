package dev.ferry.devtools;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.cli.Sql;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Part one of the demo: a few hundred jobs of every built-in type, some failing transiently, some
 * for good, plus invalid records that intake must reject; live progress, then a summary read from
 * the database.
 */
final class MixedJobsPart {
  /** Records that are not valid submissions, one of each kind of mistake. */
  private static final List<String> INVALID =
      List.of(
          "this is not json",
          "{\"type\":\"noop\",\"maxAttempts\":-1}",
          "{\"payload\":{}}",
          "{\"type\":\"noop\",\"id\":\"not-a-uuid\"}",
          "{\"type\":\"noop\",\"colour\":\"blue\"}");

  /** An invalid record goes out after every this many jobs. */
  private static final int INVALID_EVERY = 80;

  private record Planned(ObjectNode submission, String expected) {}

  private MixedJobsPart() {}

  static boolean run(Demo demo, FlakyServer http, long t0) throws Exception {
    List<Planned> jobs = plan(http.baseUrl());
    int invalid = submit(demo, jobs);
    long expectedOk = jobs.stream().filter(p -> p.expected().equals("SUCCEEDED")).count();
    long expectedFailed = jobs.size() - expectedOk;
    System.out.printf(
        "Submitted %d jobs (+%d invalid records that must be rejected).%n", jobs.size(), invalid);
    boolean finished = progress(demo, jobs.size(), invalid);
    System.out.println();
    System.out.println(
        "Jobs by type and status (SELECT type, status, count(*) … FROM ferry.jobs):");
    try (Statement st = demo.db.createStatement();
        ResultSet rs =
            st.executeQuery(
                """
            SELECT type, status, count(*) AS jobs, round(avg(attempts), 2) AS avg_attempts,
                   max(last_error) AS example_error
            FROM ferry.jobs GROUP BY type, status ORDER BY type, status
            """)) {
      Sql.printTable(rs, 70);
    }
    System.out.println();
    System.out.println("Rejected submissions (ferry.rejected_submissions, also on ferry.dlq):");
    try (Statement st = demo.db.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT partition, \"offset\", reason FROM ferry.rejected_submissions ORDER BY id")) {
      Sql.printTable(rs, 90);
    }
    long ok = demo.count("SELECT count(*) FROM ferry.jobs WHERE status = 'SUCCEEDED'");
    long failed = demo.count("SELECT count(*) FROM ferry.jobs WHERE status = 'FAILED'");
    long rejected = demo.count("SELECT count(*) FROM ferry.rejected_submissions");
    long retried =
        demo.count("SELECT count(*) FROM ferry.jobs WHERE status = 'SUCCEEDED' AND attempts > 1");
    System.out.println();
    System.out.printf(
        "%d succeeded (%d after transient failures), %d failed as expected, %d rejected;"
            + " %d HTTP calls to the downstream; %.1f s in all.%n",
        ok, retried, failed, rejected, http.totalCalls(), Demo.secs(t0));
    boolean asExpected =
        finished && ok == expectedOk && failed == expectedFailed && rejected == invalid;
    if (!asExpected) {
      System.out.printf(
          "UNEXPECTED: wanted %d succeeded, %d failed, %d rejected.%n",
          expectedOk, expectedFailed, invalid);
    }
    return asExpected;
  }

  private static List<Planned> plan(String base) {
    List<Planned> p = new ArrayList<>();
    ThreadLocalRandom r = ThreadLocalRandom.current();
    for (int i = 0; i < 100; i++) {
      p.add(new Planned(job("noop"), "SUCCEEDED"));
    }
    for (int i = 0; i < 100; i++) {
      ObjectNode echo = job("echo");
      echo.putObject("payload").put("n", i).put("msg", "hello");
      p.add(new Planned(echo, "SUCCEEDED"));
    }
    for (int i = 0; i < 40; i++) {
      ObjectNode sleep = job("sleep");
      sleep.putObject("payload").put("ms", r.nextInt(100, 600));
      p.add(new Planned(sleep, "SUCCEEDED"));
    }
    for (int i = 0; i < 100; i++) {
      p.add(new Planned(http(base + "/ok"), "SUCCEEDED"));
    }
    for (int i = 0; i < 60; i++) {
      // Each flaky job names its own dependency: a few transient failures of one job must
      // not trip a breaker shared with the others (part 2 shows a real outage).
      p.add(
          new Planned(
              http(base + "/flaky?key=k" + i + "&fail=" + (1 + i % 2))
                  .put("dependency", "demo-flaky-" + i),
              "SUCCEEDED"));
    }
    for (int i = 0; i < 10; i++) {
      p.add(new Planned(http(base + "/missing"), "FAILED"));
    }
    for (int i = 0; i < 10; i++) {
      p.add(
          new Planned(
              http(base + "/down").put("maxAttempts", 3).put("dependency", "demo-down-" + i),
              "FAILED"));
    }
    for (int i = 0; i < 5; i++) {
      ObjectNode unknown = job("resize-image");
      unknown.putObject("payload").put("w", 100);
      p.add(new Planned(unknown, "FAILED"));
    }
    Collections.shuffle(p);
    return p;
  }

  private static ObjectNode job(String type) {
    return Demo.object().put("id", UUID.randomUUID().toString()).put("type", type);
  }

  private static ObjectNode http(String url) {
    ObjectNode job = job("http");
    job.putObject("payload").put("method", "GET").put("url", url);
    return job;
  }

  /** Sends the jobs with an invalid record after every {@link #INVALID_EVERY}; returns how many. */
  private static int submit(Demo demo, List<Planned> jobs) {
    int invalid = 0;
    for (int i = 0; i < jobs.size(); i++) {
      demo.submit(jobs.get(i).submission());
      if (i % INVALID_EVERY == INVALID_EVERY / 2 && invalid < INVALID.size()) {
        demo.submitRaw(INVALID.get(invalid++));
      }
    }
    demo.flush();
    return invalid;
  }

  private static boolean progress(Demo demo, int total, int invalid) throws Exception {
    long deadline = demo.deadlineNanos();
    long t0 = System.nanoTime();
    boolean tty = System.console() != null;
    long lastLine = 0;
    while (true) {
      StringBuilder line = new StringBuilder();
      long terminal = 0;
      long accepted = 0;
      try (Statement st = demo.db.createStatement();
          ResultSet rs =
              st.executeQuery(
                  "SELECT status, count(*) FROM ferry.jobs GROUP BY status ORDER BY status")) {
        while (rs.next()) {
          String s = rs.getString(1);
          long n = rs.getLong(2);
          accepted += n;
          if (s.equals("SUCCEEDED") || s.equals("FAILED") || s.equals("CANCELLED")) {
            terminal += n;
          }
          line.append(" ").append(s).append(' ').append(n);
        }
      }
      long rejected = demo.count("SELECT count(*) FROM ferry.rejected_submissions");
      String text =
          String.format(
              "[%5.1fs] %d/%d done ·%s · rejected %d",
              Demo.secs(t0), terminal, total, line, rejected);
      boolean done = terminal >= total && accepted >= total && rejected >= invalid;
      if (tty) {
        System.out.print("\r" + text + "   ");
      } else if (done || System.nanoTime() - lastLine > 2_000_000_000L) {
        System.out.println(text);
        lastLine = System.nanoTime();
      }
      if (done) {
        return true;
      }
      if (System.nanoTime() > deadline) {
        System.out.println();
        System.out.println("Timed out waiting for jobs to finish.");
        return false;
      }
      // Refreshing a progress line at a human pace.
      Thread.sleep(250);
    }
  }
}
