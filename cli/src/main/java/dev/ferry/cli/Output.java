package dev.ferry.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.core.json.FerryJson;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * How an inspection command prints what it found: aligned text for people ({@code --output text},
 * the default) or one JSON document for scripts ({@code --output json}).
 */
enum Output {
  TEXT,
  JSON;

  /** Prints one JSON document (pretty-printed) on standard output. */
  static void print(JsonNode document) throws JsonProcessingException {
    System.out.println(
        FerryJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(document));
  }

  /** {@code text} or {@code json}, in any case. */
  static final class Converter implements ITypeConverter<Output> {
    @Override
    public Output convert(String value) {
      for (Output o : values()) {
        if (o.name().equalsIgnoreCase(value.trim())) {
          return o;
        }
      }
      throw new TypeConversionException("expected text or json but was '" + value + "'");
    }
  }

  /** The values shown in help and offered by shell completion. */
  static final class Names implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return List.of(TEXT.name().toLowerCase(Locale.ROOT), JSON.name().toLowerCase(Locale.ROOT))
          .iterator();
    }
  }
}
