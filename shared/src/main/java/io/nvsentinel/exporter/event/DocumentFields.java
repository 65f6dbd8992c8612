package io.nvsentinel.exporter.event;

import java.time.Instant;
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
 * The fields of one stored health event, read so that bad data is repaired instead of failing:
 * names match case-insensitively, wrong types are converted, and each repair is noted as a {@link
 * DecodeWarning}.
 */
final class DocumentFields {

  private static final JsonWriterSettings JSON =
      JsonWriterSettings.builder().outputMode(JsonMode.RELAXED).build();

  private final BsonDocument document;
  private final Map<String, String> keysByLowerCase = new HashMap<>();
  final List<DecodeWarning> warnings = new ArrayList<>();

  DocumentFields(BsonDocument document) {
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

  /**
   * The name of an enum value stored as its name (MongoDB) or its number (PostgreSQL, older
   * writers): what the Go exporter would send, the digits for a number the enum does not declare,
   * and {@link ProtoEnum#UNREADABLE} for what is no value of it at all.
   */
  String enumName(ProtoEnum type) {
    String field = type.field();
    BsonValue value = get(field);
    if (value == null) {
      return type.unset();
    }
    String text = value.isString() ? value.asString().getValue().strip() : null;
    if (value.isNumber() || (text != null && text.matches("-?\\d+"))) {
      double number = text != null ? parseOrNaN(text) : value.asNumber().doubleValue();
      if (!fitsInt(number)) {
        warn(field, "the number " + abbreviate(text(value)) + " was exported as UNKNOWN");
        return ProtoEnum.UNREADABLE;
      }
      if (!type.declares((int) number)) {
        warn(field, "the number " + (int) number + " is not declared; exported as its digits");
      }
      return type.nameOf((int) number);
    }
    if (text != null) {
      return type.canonical(text)
          .orElseGet(
              () -> {
                warn(field, "unknown name '" + abbreviate(text) + "' was exported as UNKNOWN");
                return ProtoEnum.UNREADABLE;
              });
    }
    warn(field, "a " + typeName(value) + " was exported as UNKNOWN");
    return ProtoEnum.UNREADABLE;
  }

  private static double parseOrNaN(String digits) {
    try {
      return Double.parseDouble(digits);
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
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
    DocumentFields nested = new DocumentFields(value.asDocument());
    Overrides overrides = new Overrides(nested.bool("force"), nested.bool("skip"));
    nested.warnings.forEach(w -> warn(name + "." + w.field(), w.detail()));
    return overrides;
  }

  /** A time the store may hold as a date, a timestamp, a string or {seconds, nanos}. */
  Instant instant(BsonValue value, String name) {
    return StoredTime.read(value, name, this::warn);
  }

  static String text(BsonValue value) {
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

  static String abbreviate(String text) {
    return text.length() <= 64 ? text : text.substring(0, 61) + "...";
  }

  static String typeName(BsonValue value) {
    return value.getBsonType().name().toLowerCase(Locale.ROOT).replace("_", " ");
  }
}
