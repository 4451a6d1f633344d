package dev.ferry.orchestrator.intake;

import dev.ferry.core.text.SafeText;
import dev.ferry.orchestrator.OrchestratorSettings;
import dev.ferry.orchestrator.store.Rejection;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

/**
 * The rejected submissions of one intake transaction, each kept for inspection twice: a row for
 * {@code ferry.rejected_submissions} (the raw text, or base64 when it is not text) and a copy on
 * the DLQ with the reason in header {@link Intake#ERROR_HEADER}. A record too large to copy (it
 * would exceed the producer's {@code max.request.size}) goes to the DLQ without its value, its text
 * being in the table. Not thread-safe: one per batch.
 */
final class Rejections {
  /** The most characters of a rejection reason (user text in it is capped on its own too). */
  static final int MAX_REASON_CHARS = 2_000;

  /** The most characters of a record key kept on a DLQ copy without its value: 1,000. */
  private static final int MAX_DLQ_KEY_CHARS = 1_000;

  /** The most UTF-8 bytes one Java char encodes to (a surrogate pair is two chars): 3. */
  private static final long MAX_UTF8_BYTES_PER_CHAR = 3;

  private final OrchestratorSettings settings;
  private final List<Rejection> rows = new ArrayList<>();
  private final List<ProducerRecord<String, byte[]>> dlqRecords = new ArrayList<>();

  Rejections(OrchestratorSettings settings) {
    this.settings = settings;
  }

  /** Rejects {@code rec} because of {@code message}. */
  void add(ConsumerRecord<String, byte[]> rec, String message) {
    String reason = SafeText.echo(message, MAX_REASON_CHARS);
    rows.add(
        new Rejection(rec.topic(), rec.partition(), rec.offset(), reason, printable(rec.value())));
    long size =
        (rec.value() == null ? 0 : rec.value().length)
            + (rec.key() == null ? 0 : rec.key().length() * MAX_UTF8_BYTES_PER_CHAR)
            + reason.length() * MAX_UTF8_BYTES_PER_CHAR;
    for (Header h : rec.headers()) {
      size +=
          h.key().length() * MAX_UTF8_BYTES_PER_CHAR + (h.value() == null ? 0 : h.value().length);
    }
    boolean fits = size <= settings.maxWorkItemBytes();
    String header =
        fits
            ? reason
            : reason
                + " (the record, "
                + size
                + " bytes, is too large to"
                + " copy to the DLQ; its text is in ferry.rejected_submissions)";
    String key = rec.key() == null ? null : SafeText.echo(rec.key(), MAX_DLQ_KEY_CHARS);
    ProducerRecord<String, byte[]> dlq =
        new ProducerRecord<>(
            settings.topics().dlq(), null, fits ? rec.key() : key, fits ? rec.value() : null);
    if (fits) {
      for (Header h : rec.headers()) {
        dlq.headers().add(h);
      }
    }
    dlq.headers().add(Intake.ERROR_HEADER, header.getBytes(StandardCharsets.UTF_8));
    dlqRecords.add(dlq);
  }

  /** The rows for {@code ferry.rejected_submissions}, in the order rejected. */
  List<Rejection> rows() {
    return rows;
  }

  /** The DLQ copies, in the order rejected (to send once the rows are written). */
  List<ProducerRecord<String, byte[]>> dlqRecords() {
    return dlqRecords;
  }

  /** The raw value as text if it is valid UTF-8 without NUL bytes, else base64 with a marker. */
  static String printable(byte[] value) {
    if (value == null) {
      return null;
    }
    try {
      String s =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(value))
              .toString();
      if (s.indexOf('\0') < 0) {
        return s;
      }
    } catch (CharacterCodingException e) {
      // fall through to base64
    }
    return "base64:" + Base64.getEncoder().encodeToString(value);
  }
}
