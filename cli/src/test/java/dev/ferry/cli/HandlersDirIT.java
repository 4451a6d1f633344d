package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.Setting;
import dev.ferry.testkit.FerryExtension;
import dev.ferry.testkit.FerryTestEnv;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A handler jar in {@code FERRY_HANDLERS_DIR}, as a user deploys one: a worker process whose
 * classpath lacks the handler loads it from the directory and runs its jobs through real Kafka and
 * PostgreSQL. The jar is compiled here, against the handler API only.
 */
@ExtendWith(FerryExtension.class)
class HandlersDirIT {
  private static final String HANDLER =
      """
      package example;

      import com.fasterxml.jackson.databind.node.JsonNodeFactory;
      import dev.ferry.worker.api.JobContext;
      import dev.ferry.worker.api.JobHandler;
      import dev.ferry.worker.api.JobResult;

      public final class Shout implements JobHandler {
        @Override public String type() { return "shout"; }

        @Override public JobResult handle(JobContext context) {
          String text = context.payload().path("text").asText();
          return JobResult.success(JsonNodeFactory.instance.objectNode()
              .put("shouted", text.toUpperCase(java.util.Locale.ROOT) + "!"));
        }
      }
      """;

  @Test
  void workerLoadsHandlersFromTheDirectoryAndRunsTheirJobs(FerryTestEnv env) throws Exception {
    Path dir = Files.createTempDirectory("ferry-handlers");
    buildHandlerJar(dir.resolve("shout-handler.jar"));
    FerryConfig config = env.config();
    Harness.orchestrator(env, config);
    Path log = Files.createTempFile("ferry-worker-handlers", ".log");
    Process worker =
        Harness.ferryProcess(
            env,
            config,
            Map.of(Setting.HANDLERS_DIR.env(), dir.toString(), Setting.WORKER_ID.env(), "w-dir"),
            log,
            "worker");

    UUID id = UUID.randomUUID();
    Harness.submitRaw(
        env,
        config,
        null,
        "{\"id\":\"" + id + "\",\"type\":\"shout\",\"payload\":{\"text\":\"hello\"}}");
    await()
        .atMost(Duration.ofSeconds(90))
        .until(() -> "SUCCEEDED".equals(Harness.status(env.dataSource(), id)));
    Map<String, Object> row = Harness.job(env.dataSource(), id);
    assertThat(row.get("result_text").toString()).contains("\"shouted\": \"HELLO!\"");
    assertThat(row.get("worker_id")).isEqualTo("w-dir");
    assertThat(Files.readString(log))
        .contains("Handler 'shout' (example.Shout) loaded from")
        .contains("shout-handler.jar");
    worker.destroy();
    assertThat(worker.waitFor(60, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aMissingDirectory_isAConfigurationError(FerryTestEnv env) throws Exception {
    Path log = Files.createTempFile("ferry-worker-nodir", ".log");
    Process worker =
        Harness.ferryProcess(
            env,
            env.config(),
            Map.of(Setting.HANDLERS_DIR.env(), "/nonexistent/handlers"),
            log,
            "worker");
    assertThat(worker.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(worker.exitValue()).isEqualTo(2);
    assertThat(Files.readString(log))
        .contains(
            "handlers.dir / FERRY_HANDLERS_DIR / --handlers-dir must be a readable directory of"
                + " handler jars but was '/nonexistent/handlers'");
  }

  /** Compiles {@link #HANDLER} against the test classpath and packs it with its service file. */
  private static void buildHandlerJar(Path jar) throws IOException {
    Path src = Files.createTempDirectory("ferry-handler-src");
    Path out = Files.createTempDirectory("ferry-handler-classes");
    Path file = src.resolve("example").resolve("Shout.java");
    Files.createDirectories(file.getParent());
    Files.writeString(file, HANDLER);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    int rc =
        javac.run(
            null,
            null,
            null,
            "-d",
            out.toString(),
            "-cp",
            System.getProperty("java.class.path"),
            file.toString());
    assertThat(rc).as("compiling the handler").isZero();
    try (OutputStream os = Files.newOutputStream(jar);
        JarOutputStream j = new JarOutputStream(os)) {
      j.putNextEntry(new JarEntry("example/Shout.class"));
      j.write(Files.readAllBytes(out.resolve("example").resolve("Shout.class")));
      j.closeEntry();
      j.putNextEntry(new JarEntry("META-INF/services/dev.ferry.worker.api.JobHandler"));
      j.write("example.Shout\n".getBytes(StandardCharsets.UTF_8));
      j.closeEntry();
    }
  }
}
