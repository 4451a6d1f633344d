package dev.ferry.testkit;

import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses and starts the infrastructure once per JVM (so once per test run), and stops it at exit.
 * Selection, from the environment:
 *
 * <ul>
 *   <li>{@code FERRY_TEST_KAFKA} and/or {@code FERRY_TEST_DB_URL}: external servers;
 *   <li>{@code FERRY_TEST_INFRA=containers} with a Docker engine: Testcontainers;
 *   <li>otherwise: embedded Kafka and PostgreSQL (real servers, no Docker needed); PostgreSQL runs
 *       with {@code fsync=off, synchronous_commit=off} unless {@code
 *       FERRY_TEST_DB_DURABILITY=production}.
 * </ul>
 */
public final class FerryInfra {
  private static final Logger log = LoggerFactory.getLogger(FerryInfra.class);
  private static Infra shared;

  private FerryInfra() {}

  /** The shared infrastructure of this JVM, started on first use. */
  public static synchronized Infra shared() {
    if (shared == null) {
      shared = start(System.getenv());
      Infra toClose = shared;
      Runtime.getRuntime()
          .addShutdownHook(new Thread(toClose::close, "ferry-testkit-infra-shutdown"));
    }
    return shared;
  }

  /** Starts new infrastructure chosen from the given environment; the caller closes it. */
  public static Infra start(Map<String, String> env) {
    long t0 = System.nanoTime();
    String kafka = env.get("FERRY_TEST_KAFKA");
    String db = env.get("FERRY_TEST_DB_URL");
    Infra infra;
    if (kafka != null || db != null) {
      infra =
          new ExternalInfra(
              kafka,
              db,
              env.getOrDefault("FERRY_TEST_DB_USER", "postgres"),
              env.getOrDefault("FERRY_TEST_DB_PASSWORD", ""));
    } else if ("containers".equals(env.get("FERRY_TEST_INFRA"))) {
      if (!ContainerInfra.dockerAvailable()) {
        throw new IllegalStateException(
            "FERRY_TEST_INFRA=containers but no Docker engine is reachable;"
                + " unset it to use embedded servers");
      }
      infra = ContainerInfra.start();
    } else {
      String durability = env.getOrDefault("FERRY_TEST_DB_DURABILITY", "test");
      if (!durability.equals("test") && !durability.equals("production")) {
        throw new IllegalArgumentException(
            "FERRY_TEST_DB_DURABILITY must be test or production," + " not '" + durability + "'");
      }
      infra = EmbeddedInfra.start(durability.equals("production"));
    }
    log.info(
        "Test infrastructure ready in {} ms: {}",
        (System.nanoTime() - t0) / 1_000_000,
        infra.describe());
    return infra;
  }
}
