package io.nvsentinel.exporter.event;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.metrics.ExporterMetric;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.json.JsonMode;
import org.bson.json.JsonWriterSettings;

/**
 * Turns a datastore document into a {@link StoredHealthEvent} without ever throwing for bad data.
 *
 * <p>Whatever can be exported is exported: wrong types are converted, unknown enum names become
 * {@code UNKNOWN}, and each such repair is listed in the result and counted in {@code
 * health_events_exporter_decode_repairs_total{field}}. A document without a usable {@code
 * healthevent} sub-document is {@link DecodeResult.Rejected rejected} with the reason and counted
 * in {@code health_events_exporter_transform_errors_total}, so the caller can set it aside.
 */
public final class HealthEventDecoder {

  static final String REPAIRS_METRIC = ExporterMetric.DECODE_REPAIRS.meterName();
  static final String TRANSFORM_ERRORS_METRIC = ExporterMetric.TRANSFORM_ERRORS.meterName();

  /** The range of RFC 3339 dates: years 0001 to 9999. */
  private static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");

  private static final Instant LATEST = Instant.parse("+10000-01-01T00:00:00Z");
  private static final double MAX_EPOCH_SECONDS = 253_402_300_800d;

  private static final JsonWriterSettings JSON =
      JsonWriterSettings.builder().outputMode(JsonMode.RELAXED).build();

  private final int maxMessageLength;
  private final MeterRegistry meters;
  private final Counter rejections;

  /**
   * @param maxMessageLength longest message exported as is, in characters; 0 for no limit
   */
  public HealthEventDecoder(int maxMessageLength, MeterRegistry meters) {
    this.maxMessageLength = maxMessageLength;
    this.meters = meters;
    this.rejections =
        Counter.builder(TRANSFORM_ERRORS_METRIC)
            .description("Documents that could not be turned into a CloudEvent")
            .register(meters);
  }

  public DecodeResult decode(BsonDocument document) {
    BsonValue id = document.get("_id");
    BsonValue raw = document.get("healthevent");
    String reason = null;
    if (raw == null) {
      reason = "the document has no healthevent field";
    } else if (raw.isNull()) {
      reason = "healthevent is null";
    } else if (!raw.isDocument()) {
      reason = "healthevent is a " + typeName(raw) + ", expected a document";
    }
    if (reason != null) {
      rejections.increment();
      return new DecodeResult.Rejected(id, reason);
    }
    Fields fields = new Fields(raw.asDocument());
    Instant createdAt = fields.instant(document.get("createdAt"), "createdAt");
    HealthEvent event =
        new HealthEvent(
            fields.integer("version"),
            fields.string("agent"),
            fields.string("componentClass"),
            fields.string("checkName"),
            fields.bool("isFatal"),
            fields.bool("isHealthy"),
            fields.message(maxMessageLength),
            fields.recommendedAction(),
            fields.errorCodes(),
            fields.entities(),
            fields.metadata(),
            fields.instant(fields.get("generatedTimestamp"), "generatedTimestamp"),
            fields.string("nodeName"),
            fields.overrides("quarantineOverrides"),
            fields.overrides("drainOverrides"),
            fields.string("processingStrategy"));
    for (DecodeWarning warning : fields.warnings) {
      meters.counter(REPAIRS_METRIC, "field", warning.field()).increment();
    }
    return new DecodeResult.Decoded(new StoredHealthEvent(id, createdAt, event, fields.warnings));
  }

  /**
   * Counts a document that failed after decoding, in {@code
   * health_events_exporter_transform_errors_total} like the ones rejected here.
   */
  public void countRejection() {
    rejections.increment();
  }

  private static String typeName(BsonValue value) {
    return value.getBsonType().name().toLowerCase(Locale.ROOT).replace("_", " ");
  }

  /** Field access that repairs instead of failing, matching names case-insensitively. */
  private static final class Fields {
    private final BsonDocument document;
    private final Map<String, String> keysByLowerCase = new HashMap<>();
    private final List<DecodeWarning> warnings = new ArrayList<>();

    Fields(BsonDocument document) {
      this.document = document;
      for (String key : document.keySet()) {
        keysByLowerCase.putIfAbsent(key.toLowerCase(Locale.ROOT), key);
      }
    }

    BsonValue get(String name) {
      BsonValue value = document.get(name);
      if (value == null) {
        String key = keysByLowerCase.get(name.toLowerCase(Locale.ROOT));
        value = key == null ? null : document.get(key);
      }
      return value == null || value.isNull() ? null : value;
    }

    void warn(String field, String detail) {
      warnings.add(new DecodeWarning(field, detail));
    }

    String string(String name) {
      BsonValue value = get(name);
      if (value == null) {
        return "";
      }
      if (value.isString()) {
        return value.asString().getValue();
      }
      String text = text(value);
      warn(name, "a " + typeName(value) + " was exported as the string " + abbreviate(text));
      return text;
    }

    String message(int maxLength) {
      String message = string("message");
      if (maxLength > 0 && message.length() > maxLength) {
        warn("message", "a message of " + message.length() + " characters was cut to " + maxLength);
        return message.substring(0, maxLength);
      }
      return message;
    }

    int integer(String name) {
      BsonValue value = get(name);
      if (value == null) {
        return 0;
      }
      if (value.isInt32()) {
        return value.asInt32().getValue();
      }
      if ((value.isInt64() || value.isDouble()) && fitsInt(value.asNumber().doubleValue())) {
        return value.asNumber().intValue();
      }
      if (value.isString()) {
        try {
          int parsed = Integer.parseInt(value.asString().getValue().strip());
          warn(name, "the string '" + value.asString().getValue() + "' was read as a number");
          return parsed;
        } catch (NumberFormatException e) {
          // fall through to the default below
        }
      }
      warn(name, "a " + typeName(value) + " is not a whole number of 32 bits; exported 0");
      return 0;
    }

    private static boolean fitsInt(double number) {
      return number == Math.rint(number)
          && number >= Integer.MIN_VALUE
          && number <= Integer.MAX_VALUE;
    }

    boolean bool(String name) {
      BsonValue value = get(name);
      if (value == null) {
        return false;
      }
      if (value.isBoolean()) {
        return value.asBoolean().getValue();
      }
      if (value.isString()) {
        String s = value.asString().getValue().strip();
        if (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false")) {
          warn(name, "the string '" + s + "' was read as a boolean");
          return Boolean.parseBoolean(s);
        }
      }
      if (value.isNumber()) {
        warn(name, "the number " + text(value) + " was read as a boolean");
        return value.asNumber().doubleValue() != 0;
      }
      warn(name, "a " + typeName(value) + " is not a boolean; exported false");
      return false;
    }

    RecommendedAction recommendedAction() {
      BsonValue value = get("recommendedAction");
      if (value == null) {
        return RecommendedAction.NONE;
      }
      if (value.isInt32()) {
        return new RecommendedAction(value.asInt32().getValue());
      }
      if (value.isInt64() || value.isDouble()) {
        double number = value.asNumber().doubleValue();
        if (fitsInt(number)) {
          return new RecommendedAction((int) number);
        }
        warn("recommendedAction", "the number " + text(value) + " was exported as UNKNOWN (99)");
        return RecommendedAction.UNKNOWN;
      }
      if (value.isString()) {
        String name = value.asString().getValue();
        if (name.strip().matches("-?\\d+")) {
          try {
            return new RecommendedAction(Integer.parseInt(name.strip()));
          } catch (NumberFormatException tooLarge) {
            warn(
                "recommendedAction",
                "the number '" + abbreviate(name) + "' was exported as UNKNOWN (99)");
            return RecommendedAction.UNKNOWN;
          }
        }
        return RecommendedAction.byName(name)
            .orElseGet(
                () -> {
                  warn(
                      "recommendedAction",
                      "unknown action '" + abbreviate(name) + "' was exported as UNKNOWN (99)");
                  return RecommendedAction.UNKNOWN;
                });
      }
      warn("recommendedAction", "a " + typeName(value) + " was exported as UNKNOWN (99)");
      return RecommendedAction.UNKNOWN;
    }

    List<String> errorCodes() {
      BsonValue value = get("errorCode");
      if (value == null) {
        return List.of();
      }
      if (value.isArray()) {
        List<String> codes = new ArrayList<>();
        for (BsonValue element : value.asArray()) {
          if (element != null && !element.isNull()) {
            codes.add(element.isString() ? element.asString().getValue() : text(element));
          }
        }
        return codes;
      }
      String single = value.isString() ? value.asString().getValue() : text(value);
      warn("errorCode", "a single " + typeName(value) + " was exported as a one-element list");
      return List.of(single);
    }

    List<Entity> entities() {
      BsonValue value = get("entitiesImpacted");
      if (value == null) {
        return List.of();
      }
      if (!value.isArray()) {
        warn("entitiesImpacted", "a " + typeName(value) + " is not a list; exported none");
        return List.of();
      }
      List<Entity> entities = new ArrayList<>();
      int index = 0;
      for (BsonValue element : value.asArray()) {
        if (element == null || !element.isDocument()) {
          warn("entitiesImpacted", "entry " + index + " is not a document; left out");
        } else {
          BsonDocument entity = element.asDocument();
          String type = entityField(entity, "entityType", index);
          String val = entityField(entity, "entityValue", index);
          entities.add(new Entity(type, val));
        }
        index++;
      }
      return entities;
    }

    private String entityField(BsonDocument entity, String name, int index) {
      BsonValue value = entity.get(name);
      if (value == null || value.isNull()) {
        warn("entitiesImpacted", "entry " + index + " has no " + name + "; exported \"\"");
        return "";
      }
      return value.isString() ? value.asString().getValue() : text(value);
    }

    Map<String, String> metadata() {
      BsonValue value = get("metadata");
      if (value == null) {
        return null;
      }
      if (!value.isDocument()) {
        warn("metadata", "a " + typeName(value) + " is not a map; left out");
        return null;
      }
      Map<String, String> map = new LinkedHashMap<>();
      for (Map.Entry<String, BsonValue> entry : value.asDocument().entrySet()) {
        BsonValue v = entry.getValue();
        if (v == null || v.isNull()) {
          map.put(entry.getKey(), "");
        } else if (v.isString()) {
          map.put(entry.getKey(), v.asString().getValue());
        } else {
          map.put(entry.getKey(), text(v));
          warn(
              "metadata",
              "the " + typeName(v) + " under '" + entry.getKey() + "' was exported as JSON text");
        }
      }
      return map;
    }

    Overrides overrides(String name) {
      BsonValue value = get(name);
      if (value == null) {
        return null;
      }
      if (!value.isDocument()) {
        warn(name, "a " + typeName(value) + " is not a document; left out");
        return null;
      }
      Fields nested = new Fields(value.asDocument());
      Overrides overrides = new Overrides(nested.bool("force"), nested.bool("skip"));
      nested.warnings.forEach(w -> warn(name + "." + w.field(), w.detail()));
      return overrides;
    }

    Instant instant(BsonValue value, String name) {
      if (value == null || value.isNull()) {
        return null;
      }
      Instant read;
      try {
        read = readInstant(value, name);
      } catch (DateTimeException | ArithmeticException outOfRange) {
        warn(name, "a " + typeName(value) + " beyond any representable time; ignored");
        return null;
      }
      if (read != null && (read.isBefore(EARLIEST) || !read.isBefore(LATEST))) {
        // RFC 3339 (and so the CloudEvent time) has four-digit years only
        warn(name, "the date " + read + " lies outside the years 0001-9999; ignored");
        return null;
      }
      return read;
    }

    private Instant readInstant(BsonValue value, String name) {
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
          warn(name, "the string '" + abbreviate(text) + "' was read as a date");
          return parsed;
        } catch (DateTimeParseException e) {
          warn(name, "the string '" + abbreviate(text) + "' is not an RFC 3339 date; ignored");
          return null;
        }
      }
      if (value.isDocument() && value.asDocument().isNumber("seconds")) {
        BsonDocument ts = value.asDocument();
        double seconds = ts.getNumber("seconds").doubleValue();
        double nanos = ts.isNumber("nanos") ? ts.getNumber("nanos").doubleValue() : 0;
        if (Math.abs(seconds) > MAX_EPOCH_SECONDS || nanos < 0 || nanos >= 1e9) {
          warn(name, "the timestamp " + text(value) + " is out of range; ignored");
          return null;
        }
        return Instant.ofEpochSecond((long) seconds, (long) nanos);
      }
      warn(name, "a " + typeName(value) + " is not a date; ignored");
      return null;
    }

    private static String text(BsonValue value) {
      if (value.isString()) {
        return value.asString().getValue();
      }
      if (value.isBoolean()) {
        return Boolean.toString(value.asBoolean().getValue());
      }
      if (value.isInt32() || value.isInt64()) {
        return Long.toString(value.asNumber().longValue());
      }
      if (value.isDouble()) {
        return Double.toString(value.asDouble().getValue());
      }
      if (value.isDateTime()) {
        return Instant.ofEpochMilli(value.asDateTime().getValue()).toString();
      }
      if (value.isObjectId()) {
        return value.asObjectId().getValue().toHexString();
      }
      if (value.isDocument()) {
        return value.asDocument().toJson(JSON);
      }
      String wrapped = new BsonDocument("v", value).toJson(JSON);
      return wrapped.substring(wrapped.indexOf(':') + 1, wrapped.length() - 1).strip();
    }

    private static String abbreviate(String text) {
      return text.length() <= 64 ? text : text.substring(0, 61) + "...";
    }
  }
}
