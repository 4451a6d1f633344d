package dev.ferry.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.core.config.FerryConfig;
import dev.ferry.core.config.SettingGroup;
import dev.ferry.core.config.Topics;
import dev.ferry.core.json.FerryJson;
import dev.ferry.core.json.InvalidSubmissionException;
import dev.ferry.core.json.SubmissionCodec;
import dev.ferry.core.kafka.KafkaClients;
import dev.ferry.core.model.Submission;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

@Command(
    name = "submit",
    mixinStandardHelpOptions = true,
    description = {
      "Submits jobs to ferry.submit and prints their ids.",
      "",
      "From flags:  ferry submit --type echo --payload '{\"hello\":1}'",
      "From a file: ferry submit --file jobs.jsonl   (one JSON submission per line,",
      "             or a single JSON object; '-' reads stdin)",
      "Submissions are validated before sending; each gets an id if it has none."
    })
final class SubmitCommand extends ConfigurableCommand implements Callable<Integer> {
  @Option(names = "--type", description = "Job type (handler name).")
  String type;

  @Option(names = "--payload", description = "Payload as JSON (default {}).")
  String payload;

  @Option(names = "--id", description = "Job id (UUID); submitting it twice makes one job.")
  UUID id;

  @Option(names = "--dependency", description = "Circuit-breaker key.")
  String dependency;

  @Option(names = "--max-attempts", description = "Most attempts (>= 1).")
  Integer maxAttempts;

  @Option(names = "--timeout-ms", description = "Per-attempt timeout.")
  Integer timeoutMs;

  @Option(names = "--run-at", description = "ISO-8601 instant; not before this time.")
  String runAt;

  @Option(names = "--file", paramLabel = "FILE", description = "JSON lines file, or - for stdin.")
  String file;

  @Override
  Set<SettingGroup> settingGroups() {
    return EnumSet.of(SettingGroup.KAFKA, SettingGroup.SUBMISSIONS);
  }

  @Override
  public Integer call() throws Exception {
    FerryConfig config = config();
    List<ObjectNode> docs = new ArrayList<>();
    if (file != null) {
      for (String line : readLines()) {
        if (!line.isBlank()) {
          docs.add((ObjectNode) parse(line));
        }
      }
    } else {
      if (type == null) {
        throw new ParameterException(spec.commandLine(), "give --type (or --file)");
      }
      ObjectNode n = FerryJson.object();
      n.put("type", type);
      n.set("payload", payload == null ? FerryJson.object() : parse(payload));
      if (id != null) {
        n.put("id", id.toString());
      }
      if (dependency != null) {
        n.put("dependency", dependency);
      }
      if (maxAttempts != null) {
        n.put("maxAttempts", maxAttempts);
      }
      if (timeoutMs != null) {
        n.put("timeoutMs", timeoutMs);
      }
      if (runAt != null) {
        n.put("runAt", runAt);
      }
      docs.add(n);
    }
    SubmissionCodec codec = new SubmissionCodec(config.submissionLimits());
    List<String> ids = new ArrayList<>();
    List<byte[]> values = new ArrayList<>();
    for (int i = 0; i < docs.size(); i++) {
      ObjectNode d = docs.get(i);
      if (!d.hasNonNull("id") && !d.has("schedule")) {
        d.put("id", UUID.randomUUID().toString());
      }
      byte[] bytes = FerryJson.bytes(d);
      try {
        Submission s = codec.decode(bytes);
        // A schedule definition creates no job now: its name stands for it.
        ids.add(s.schedule() != null ? "schedule " + s.schedule().name() : s.id().toString());
        values.add(bytes);
      } catch (InvalidSubmissionException e) {
        throw new IllegalArgumentException(
            "submission " + (i + 1) + " is invalid: " + e.getMessage());
      }
    }
    Topics topics = Topics.withPrefix(config.topicPrefix());
    try (KafkaProducer<String, byte[]> p = KafkaClients.producer(config, "ferry-cli-submit")) {
      List<Future<RecordMetadata>> sends = new ArrayList<>();
      for (int i = 0; i < values.size(); i++) {
        sends.add(p.send(new ProducerRecord<>(topics.submit(), ids.get(i), values.get(i))));
      }
      for (Future<RecordMetadata> f : sends) {
        f.get();
      }
    }
    ids.forEach(System.out::println);
    return 0;
  }

  private static JsonNode parse(String json) {
    try {
      JsonNode n = FerryJson.MAPPER.readTree(json);
      if (n == null || !n.isObject()) {
        throw new IllegalArgumentException("expected a JSON object but got: " + json);
      }
      return n;
    } catch (IOException e) {
      throw new IllegalArgumentException("not valid JSON: " + json);
    }
  }

  private List<String> readLines() throws IOException {
    String content;
    if (file.equals("-")) {
      BufferedReader r =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      content = String.join("\n", r.lines().toList());
    } else {
      content = Files.readString(Path.of(file), StandardCharsets.UTF_8);
    }
    String trimmed = content.strip();
    // A single (possibly multi-line) JSON object, or JSON lines.
    if (trimmed.startsWith("{") && !trimmed.contains("\n{")) {
      return List.of(trimmed.replace('\n', ' '));
    }
    return trimmed.lines().toList();
  }
}
