package dev.ferry.core.model;

/**
 * A submission's {@code schedule}: the record defines (creates or replaces) the schedule {@code
 * name}; the rest of the record is the template of the job each tick creates.
 *
 * @param timeZone an IANA zone, validated; null for UTC
 * @param misfire what happens to ticks missed while no orchestrator ran
 */
public record ScheduleSpec(
    String name, String cron, String timeZone, Misfire misfire, boolean enabled) {

  /** Ticks missed while no orchestrator ran (DESIGN section 11). */
  public enum Misfire {
    /** Missed ticks create nothing; the schedule goes on with its next tick. */
    SKIP("skip"),
    /** Missed ticks create one catch-up job, for the first of them. */
    RUN_ONCE("run-once");

    private final String wireName;

    Misfire(String wireName) {
      this.wireName = wireName;
    }

    public String wireName() {
      return wireName;
    }

    /** The misfire of its wire name, or null for none. */
    public static Misfire fromWire(String s) {
      for (Misfire m : values()) {
        if (m.wireName.equals(s)) {
          return m;
        }
      }
      return null;
    }
  }
}
