package dev.ferry.devtools;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.UUID;

/**
 * Part three of the demo: fan-out / fan-in. One parent with 300 children calling the flaky
 * downstream (one in four fails once and is retried); the parent completes with the aggregate. Each
 * child names its own dependency, so single retried failures do not trip a shared breaker (part two
 * shows one).
 */
final class FanOutPart {
  private static final int CHILDREN = 300;

  private FanOutPart() {}

  static boolean run(Demo demo, FlakyServer http) throws Exception {
    System.out.println();
    System.out.println(
        "Part 3 — fan-out / fan-in: one parent job with "
            + CHILDREN
            + " children calling the flaky downstream…");
    UUID parent = UUID.randomUUID();
    ObjectNode submission =
        Demo.object().put("id", parent.toString()).put("failurePolicy", "collect");
    ArrayNode children = submission.putArray("children");
    for (int i = 0; i < CHILDREN; i++) {
      ObjectNode child =
          children
              .addObject()
              .put("type", "http")
              .put("key", "item-" + i)
              .put("dependency", "demo-batch-" + i);
      child.putObject("backoff").put("initialMs", 100).put("jitter", 0.5);
      child
          .putObject("payload")
          .put("url", http.baseUrl() + "/flaky?key=batch" + i + "&fail=" + (i % 4 == 0 ? 1 : 0));
    }
    demo.submitAndWait(submission);
    long deadline = demo.deadlineNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      try (PreparedStatement ps =
          demo.db.prepareStatement(
              "SELECT status, children_done, children_total, result->>'total' AS total,"
                  + " result->>'succeeded' AS succeeded, result->>'failed' AS failed,"
                  + " result->'results'->'item-4' AS item4 FROM ferry.jobs WHERE id = ?")) {
        ps.setObject(1, parent);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            String status = rs.getString("status");
            String line =
                String.format(
                    "  parent %-16s · %3d/%d children done",
                    status, rs.getInt("children_done"), rs.getInt("children_total"));
            if (!line.equals(last)) {
              System.out.println(line);
              last = line;
            }
            if (status.equals("SUCCEEDED")) {
              long retried =
                  demo.count(
                      "SELECT count(*) FROM ferry.jobs WHERE parent_id = ? AND attempts > 1",
                      parent);
              System.out.printf(
                  "Aggregate: total %s, succeeded %s, failed %s (%d children needed"
                      + " a retry); e.g. results.item-4 = %s%n",
                  rs.getString("total"),
                  rs.getString("succeeded"),
                  rs.getString("failed"),
                  retried,
                  rs.getString("item4"));
              System.out.println(
                  "Inspect it: ./ferry status "
                      + parent
                      + "   (or SELECT result"
                      + " FROM ferry.jobs WHERE id = '"
                      + parent
                      + "')");
              String expected = Integer.toString(CHILDREN);
              return expected.equals(rs.getString("total"))
                  && expected.equals(rs.getString("succeeded"));
            }
          }
        }
      }
      // Refreshing a progress line at a human pace.
      Thread.sleep(200);
    }
    System.out.println("Timed out waiting for the fan-out.");
    return false;
  }
}
