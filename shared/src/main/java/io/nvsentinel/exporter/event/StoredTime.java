package io.nvsentinel.exporter.event;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.function.BiConsumer;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * Reads a time as the store may hold it — a BSON date or timestamp, an RFC 3339 string, a
 * protobuf-style {@code {seconds, nanos}} — and ignores, with a warning, what is no time or lies
 * outside the years 0001-9999 that RFC 3339 (and so the CloudEvent time) can express.
 */
final class StoredTime {

  private static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");
  private static final Instant LATEST = Instant.parse("+10000-01-01T00:00:00Z");
  private static final double MAX_EPOCH_SECONDS = 253_402_300_800d;

  private StoredTime() {}

  static Instant read(BsonValue value, String name, BiConsumer<String, String> warn) {
    if (value == null || value.isNull()) {
      return null;
    }
    Instant read;
    try {
      read = readInstant(value, name, warn);
    } catch (DateTimeException | ArithmeticException outOfRange) {
      warn.accept(
          name, "a " + DocumentFields.typeName(value) + " beyond any representable time; ignored");
      return null;
    }
    if (read != null && (read.isBefore(EARLIEST) || !read.isBefore(LATEST))) {
      // RFC 3339 (and so the CloudEvent time) has four-digit years only
      warn.accept(name, "the date " + read + " lies outside the years 0001-9999; ignored");
      return null;
    }
    return read;
  }

  private static Instant readInstant(
      BsonValue value, String name, BiConsumer<String, String> warn) {
    if (value.isDateTime()) {
      return Instant.ofEpochMilli(value.asDateTime().getValue());
    }
    if (value.isTimestamp()) {
      return Instant.ofEpochSecond(value.asTimestamp().getTime());
    }
    if (value.isString()) {
      String text = value.asString().getValue().strip();
      try {
        Instant parsed = OffsetDateTime.parse(text).toInstant();
        warn.accept(
            name, "the string '" + DocumentFields.abbreviate(text) + "' was read as a date");
        return parsed;
      } catch (DateTimeParseException e) {
        warn.accept(
            name,
            "the string '"
                + DocumentFields.abbreviate(text)
                + "' is not an RFC 3339 date; ignored");
        return null;
      }
    }
    if (value.isDocument() && value.asDocument().isNumber("seconds")) {
      BsonDocument ts = value.asDocument();
      double seconds = ts.getNumber("seconds").doubleValue();
      double nanos = ts.isNumber("nanos") ? ts.getNumber("nanos").doubleValue() : 0;
      if (Math.abs(seconds) > MAX_EPOCH_SECONDS || nanos < 0 || nanos >= 1e9) {
        warn.accept(
            name, "the timestamp " + DocumentFields.text(value) + " is out of range; ignored");
        return null;
      }
      return Instant.ofEpochSecond((long) seconds, (long) nanos);
    }
    warn.accept(name, "a " + DocumentFields.typeName(value) + " is not a date; ignored");
    return null;
  }
}
