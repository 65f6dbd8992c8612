package io.nvsentinel.exporter.store.postgres;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.UUID;
import org.bson.BsonArray;
import org.bson.BsonBoolean;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonNull;
import org.bson.BsonString;
import org.bson.BsonValue;

/**
 * NVSentinel's PostgreSQL store keeps each health event as the JSON of its Go {@code
 * HealthEventWithStatus} in {@code health_events.document}: {@code createdAt} as an RFC 3339
 * string, {@code healthevent} with the protobuf's field names, enum values as numbers and
 * timestamps as {@code {seconds, nanos}}, and {@code healtheventstatus}. The decoder already reads
 * every one of those shapes from a BSON document, so the JSON becomes one, with the row's {@code
 * id} as its {@code _id}: the identity the CloudEvent id is derived from.
 */
public final class StoredDocuments {

  /** The table the events live in, named in CloudEvent ids beside the database. */
  public static final String TABLE = "health_events";

  private StoredDocuments() {}

  /**
   * JSONB keeps any number, and writes a float such as Go's {@code 1e+30} as its digits, which the
   * MongoDB JSON reader refuses as an integer beyond {@code long}. Read as plain JSON instead:
   * numbers beyond {@code long} and fractions become doubles, as Go holds them.
   */
  private static BsonDocument plain(String json) {
    try {
      JsonNode tree = JSON.readTree(json);
      return tree.isObject()
          ? bson(tree).asDocument()
          : new BsonDocument("unreadable", new BsonString(json));
    } catch (JsonProcessingException e) {
      return new BsonDocument("unreadable", new BsonString(json));
    }
  }

  private static BsonValue bson(JsonNode node) {
    if (node.isObject()) {
      BsonDocument document = new BsonDocument();
      node.properties().forEach(field -> document.put(field.getKey(), bson(field.getValue())));
      return document;
    }
    if (node.isArray()) {
      BsonArray array = new BsonArray();
      node.forEach(element -> array.add(bson(element)));
      return array;
    }
    if (node.isInt()) {
      return new BsonInt32(node.intValue());
    }
    if (node.isLong()) {
      return new BsonInt64(node.longValue());
    }
    if (node.isNumber()) {
      return new BsonDouble(node.doubleValue());
    }
    if (node.isBoolean()) {
      return BsonBoolean.valueOf(node.booleanValue());
    }
    if (node.isNull()) {
      return BsonNull.VALUE;
    }
    return new BsonString(node.asText());
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The stored document of row {@code id}, or {@code null} when there is none; an id that is no
   * UUID names no row.
   */
  public static BsonDocument find(PostgresConnections db, BsonValue id) {
    UUID row;
    try {
      row = id.isString() ? UUID.fromString(id.asString().getValue()) : null;
    } catch (IllegalArgumentException notAUuid) {
      row = null;
    }
    if (row == null) {
      return null;
    }
    UUID wanted = row;
    return db.with(
        "reading health event " + row,
        connection -> {
          try (PreparedStatement query =
              connection.prepareStatement(
                  "SELECT document::text FROM " + TABLE + " WHERE id = ?")) {
            query.setObject(1, wanted);
            try (ResultSet found = query.executeQuery()) {
              return found.next() ? of(wanted, found.getString(1)) : null;
            }
          }
        });
  }

  /**
   * The document of row {@code id}. JSON that is not an object (the column is JSONB, so it is valid
   * JSON) becomes a document with only its {@code _id} and the text under {@code unreadable}, which
   * the decoder sets aside as having no health event.
   */
  public static BsonDocument of(UUID id, String json) {
    BsonDocument document;
    try {
      document = json == null ? new BsonDocument() : BsonDocument.parse(json);
    } catch (NumberFormatException beyondLong) {
      document = plain(json);
    } catch (RuntimeException notAnObject) {
      // JsonParseException, BsonInvalidOperationException: set aside by the decoder, never thrown
      document = new BsonDocument("unreadable", new BsonString(json));
    }
    BsonDocument withId = new BsonDocument("_id", new BsonString(id.toString()));
    document.forEach(
        (key, value) -> {
          if (!key.equals("_id")) {
            withId.put(key, key.equals("createdAt") ? storedTime(value) : value);
          }
        });
    return withId;
  }

  /**
   * Go writes {@code createdAt} as an RFC 3339 string: this store's normal form, given to the
   * decoder as {@code {seconds, nanos}} (a form it reads as is, to the nanosecond) so that it is
   * not counted as a repaired field. Anything else is left for the decoder to judge.
   */
  private static BsonValue storedTime(BsonValue value) {
    if (value.isString()) {
      try {
        Instant time = OffsetDateTime.parse(value.asString().getValue()).toInstant();
        return new BsonDocument("seconds", new BsonInt64(time.getEpochSecond()))
            .append("nanos", new BsonInt32(time.getNano()));
      } catch (DateTimeParseException notRfc3339) {
        return value;
      }
    }
    return value;
  }
}
