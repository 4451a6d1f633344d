package dev.ferry.core.config;

/**
 * What part of Ferry a {@link Setting} configures. The command line shows each command only the
 * groups it uses, under these headings, so that {@code ferry jobs --help} lists the database
 * settings and not the breaker or applier ones.
 */
public enum SettingGroup {
  DATABASE("Database"),
  DATABASE_POOL("Database connections of a long-running process"),
  KAFKA("Kafka and topics"),
  SUBMISSIONS("Submission limits"),
  JOB_DEFAULTS("Job defaults (per type: type.<type>.* / FERRY_TYPE_<TYPE>_*)"),
  ORCHESTRATOR("Orchestrator"),
  RETENTION("Retention"),
  WORKER("Worker"),
  HTTP("HTTP handler"),
  BREAKER(
      "Circuit breakers (per dependency: dependency.<dep>.breaker.* /"
          + " FERRY_DEPENDENCY_<DEP>_BREAKER_*)"),
  PROCESS("Start-up, health and metrics"),
  CONSOLE("Console (web UI)");

  private final String heading;

  SettingGroup(String heading) {
    this.heading = heading;
  }

  /** The heading the group's options are listed under in a command's help. */
  public String heading() {
    return heading;
  }
}
