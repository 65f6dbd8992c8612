package io.nvsentinel.exporter.store.postgres;

import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.deadletter.DeadLetter;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import io.nvsentinel.exporter.deadletter.FailedAttempt;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.json.JsonMode;
import org.bson.json.JsonWriterSettings;

/**
 * Dead letters in the exporter's table {@code event_exporter_dead_letters}: the same entries as the
 * MongoDB collection's, the document and the CloudEvent kept as JSON text.
 */
public final class PostgresDeadLetterStore implements DeadLetterStore {

  private static final JsonWriterSettings EXTENDED =
      JsonWriterSettings.builder().outputMode(JsonMode.EXTENDED).build();

  private static final String UPSERT =
      "INSERT INTO event_exporter_dead_letters (id, document_id, kind, reason, error_type,"
          + " last_status, attempts, first_attempt_at, last_attempt_at, cloud_event, document)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
          + " kind = EXCLUDED.kind, reason = EXCLUDED.reason, error_type = EXCLUDED.error_type,"
          + " last_status = EXCLUDED.last_status, attempts = EXCLUDED.attempts,"
          + " first_attempt_at = EXCLUDED.first_attempt_at,"
          + " last_attempt_at = EXCLUDED.last_attempt_at, cloud_event = EXCLUDED.cloud_event,"
          + " document = EXCLUDED.document";

  private final PostgresConnections db;
  private final MeterRegistry meters;
  private final Clock clock;

  public PostgresDeadLetterStore(PostgresConnections db, MeterRegistry meters, Clock clock) {
    this.db = db;
    this.meters = meters;
    this.clock = clock;
  }

  @Override
  public void deliveryFailed(
      OutgoingEvent event, DeadLetter.Kind kind, FailedAttempt last, int attempts, Instant first) {
    save(
        new Entry(
            event.id(),
            event.documentId(),
            kind,
            last.reason(),
            last.errorType(),
            last.status(),
            attempts,
            first,
            clock.instant(),
            new String(event.json(), StandardCharsets.UTF_8),
            null));
  }

  @Override
  public void undecodable(BsonDocument document, String reason) {
    BsonValue documentId = document.get("_id");
    BsonValue identity = documentId != null ? documentId : document;
    Instant now = clock.instant();
    save(
        new Entry(
            "undecodable:" + new BsonDocument("_id", identity).toJson(EXTENDED),
            documentId,
            DeadLetter.Kind.UNDECODABLE,
            reason,
            "undecodable",
            0,
            0,
            now,
            now,
            null,
            document.toJson(EXTENDED)));
  }

  private record Entry(
      String id,
      BsonValue documentId,
      DeadLetter.Kind kind,
      String reason,
      String errorType,
      int lastStatus,
      int attempts,
      Instant first,
      Instant last,
      String cloudEvent,
      String document) {}

  private void save(Entry entry) {
    db.with(
        "recording a dead letter",
        connection -> {
          try (PreparedStatement upsert = connection.prepareStatement(UPSERT)) {
            upsert.setString(1, entry.id());
            upsert.setString(
                2,
                entry.documentId() == null
                    ? null
                    : new BsonDocument("_id", entry.documentId()).toJson(EXTENDED));
            upsert.setString(3, entry.kind().label());
            upsert.setString(4, entry.reason());
            upsert.setString(5, entry.errorType());
            upsert.setInt(6, entry.lastStatus());
            upsert.setInt(7, entry.attempts());
            upsert.setTimestamp(8, Timestamp.from(entry.first()));
            upsert.setTimestamp(9, Timestamp.from(entry.last()));
            upsert.setString(10, entry.cloudEvent());
            upsert.setString(11, entry.document());
            return upsert.executeUpdate();
          }
        });
    meters.counter(METRIC, "kind", entry.kind().label()).increment();
  }

  @Override
  public List<DeadLetter> list(int limit) {
    return list(limit, null);
  }

  @Override
  public List<DeadLetter> list(int limit, DeadLetter.Kind kind) {
    return db.with(
        "listing dead letters",
        connection -> {
          try (PreparedStatement query =
              connection.prepareStatement(
                  "SELECT id, document_id, kind, reason, last_status, attempts, first_attempt_at,"
                      + " last_attempt_at, cloud_event FROM event_exporter_dead_letters"
                      + " WHERE (?::text IS NULL OR kind = ?) ORDER BY last_attempt_at LIMIT ?")) {
            String label = kind == null ? null : kind.label();
            query.setString(1, label);
            query.setString(2, label);
            query.setInt(3, limit);
            List<DeadLetter> letters = new ArrayList<>();
            try (ResultSet rows = query.executeQuery()) {
              while (rows.next()) {
                letters.add(letter(rows));
              }
            }
            return letters;
          }
        });
  }

  private static DeadLetter letter(ResultSet row) throws SQLException {
    String documentId = row.getString(2);
    return new DeadLetter(
        row.getString(1),
        documentId == null ? null : BsonDocument.parse(documentId).get("_id"),
        DeadLetter.Kind.of(row.getString(3)),
        row.getString(4),
        row.getInt(5),
        row.getInt(6),
        row.getTimestamp(7).toInstant(),
        row.getTimestamp(8).toInstant(),
        row.getString(9));
  }

  @Override
  public long count() {
    return count(null);
  }

  @Override
  public long count(DeadLetter.Kind kind) {
    return db.with(
        "counting dead letters",
        connection -> {
          try (PreparedStatement query =
              connection.prepareStatement(
                  "SELECT count(*) FROM event_exporter_dead_letters"
                      + " WHERE (?::text IS NULL OR kind = ?)")) {
            String label = kind == null ? null : kind.label();
            query.setString(1, label);
            query.setString(2, label);
            try (ResultSet row = query.executeQuery()) {
              row.next();
              return row.getLong(1);
            }
          }
        });
  }

  @Override
  public void remove(String id) {
    db.with(
        "removing a dead letter",
        connection -> {
          try (PreparedStatement delete =
              connection.prepareStatement("DELETE FROM event_exporter_dead_letters WHERE id = ?")) {
            delete.setString(1, id);
            return delete.executeUpdate();
          }
        });
  }
}
