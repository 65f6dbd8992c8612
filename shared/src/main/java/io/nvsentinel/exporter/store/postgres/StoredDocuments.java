package io.nvsentinel.exporter.store.postgres;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
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
   * Reads the JSON in one pass, straight into BSON: JSONB keeps any number, and writes a float such
   * as Go's {@code 1e+30} as its digits; numbers beyond {@code long} and fractions become doubles,
   * as Go holds them, integers {@code int32} or {@code int64} by size. Returns {@code null} for
   * JSON that is not one object.
   */
  static BsonDocument parse(String json) throws IOException {
    try (JsonParser parser = JSON.createParser(json)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      BsonDocument document = object(parser);
      return parser.nextToken() == null ? document : null;
    }
  }

  /**
   * JSON with MongoDB Extended JSON in it ({@code {"$date": ...}}, {@code {"$oid": ...}}: documents
   * copied from a MongoDB store), read as the MongoDB reader reads it; a number beyond {@code long}
   * makes it plain JSON again.
   */
  private static BsonDocument extended(String json) throws IOException {
    try {
      return BsonDocument.parse(json);
    } catch (NumberFormatException beyondLong) {
      return parse(json);
    }
  }

  private static BsonDocument object(JsonParser parser) throws IOException {
    BsonDocument document = new BsonDocument();
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = parser.currentName();
      parser.nextToken();
      document.put(name, value(parser));
    }
    return document;
  }

  private static BsonValue value(JsonParser parser) throws IOException {
    switch (parser.currentToken()) {
      case START_OBJECT:
        return object(parser);
      case START_ARRAY:
        BsonArray array = new BsonArray();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
          array.add(value(parser));
        }
        return array;
      case VALUE_STRING:
        return new BsonString(parser.getText());
      case VALUE_NUMBER_INT:
        return switch (parser.getNumberType()) {
          case INT -> new BsonInt32(parser.getIntValue());
          case LONG -> new BsonInt64(parser.getLongValue());
          default -> new BsonDouble(parser.getDoubleValue());
        };
      case VALUE_NUMBER_FLOAT:
        return new BsonDouble(parser.getDoubleValue());
      case VALUE_TRUE:
        return BsonBoolean.TRUE;
      case VALUE_FALSE:
        return BsonBoolean.FALSE;
      case VALUE_NULL:
        return BsonNull.VALUE;
      default:
        throw new JsonParseException(parser, "unexpected " + parser.currentToken());
    }
  }

  private static final JsonFactory JSON = new JsonFactory();

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
      document =
          json == null ? new BsonDocument() : json.contains("\"$") ? extended(json) : parse(json);
    } catch (IOException | RuntimeException notJson) {
      document = null;
    }
    if (document == null) {
      // set aside by the decoder, never thrown
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
