package com.example.greetings;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.ferry.worker.api.JobContext;
import dev.ferry.worker.api.JobHandler;
import dev.ferry.worker.api.JobResult;
import dev.ferry.worker.api.NonRetryableException;

/**
 * Jobs of type {@code greet}: {@code {"name": "Ada", "language": "en"}} → {@code {"greeting":
 * "Hello, Ada!"}}. A missing name can never succeed, so it fails at once (no retries); an
 * unknown language is a value the handler returns, not an exception.
 *
 * <p>Registered for the worker in {@code META-INF/services/dev.ferry.worker.api.JobHandler}.
 * One instance runs many jobs at once: keep it stateless (or thread-safe).
 */
public final class GreetHandler implements JobHandler {
  @Override
  public String type() {
    return "greet";
  }

  @Override
  public JobResult handle(JobContext context) {
    String name = context.payload().path("name").asText("");
    if (name.isBlank()) {
      throw new NonRetryableException("payload.name is required");
    }
    String word = switch (context.payload().path("language").asText("en")) {
      case "en" -> "Hello";
      case "fr" -> "Bonjour";
      case "de" -> "Hallo";
      default -> null;
    };
    if (word == null) {
      return JobResult.fail("unknown language '" + context.payload().path("language").asText()
          + "' (known: en, fr, de)");
    }
    return JobResult.success(
        JsonNodeFactory.instance.objectNode().put("greeting", word + ", " + name + "!"));
  }
}
