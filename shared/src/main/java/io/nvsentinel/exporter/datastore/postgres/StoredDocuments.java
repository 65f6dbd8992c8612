package io.nvsentinel.exporter.datastore.postgres;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.UUID;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.bson.json.JsonParseException;

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
    } catch (JsonParseException | org.bson.BsonInvalidOperationException notAnObject) {
      document = new BsonDocument("unreadable", new BsonString(json));
    }
    BsonDocument withId = new BsonDocument("_id", new BsonString(id.toString()));
    document.forEach(
        (key, value) -> {
          if (!key.equals("_id")) {
            withId.put(key, value);
          }
        });
    return withId;
  }
}
