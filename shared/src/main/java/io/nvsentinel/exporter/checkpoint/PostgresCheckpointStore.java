package io.nvsentinel.exporter.checkpoint;

import io.nvsentinel.exporter.datastore.postgres.PostgresConnections;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Optional;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt64;
import org.bson.BsonTimestamp;
import org.bson.json.JsonParseException;

/**
 * Checkpoints in the exporter's table {@code event_exporter_checkpoints} of NVSentinel's PostgreSQL
 * store. NVSentinel's own {@code resume_tokens} is shared with the replaced exporter: a position
 * stored there ({@code {"timestamp": RFC 3339, "eventID": n}}) is offered for a takeover, and every
 * checkpoint saved is written back there in that form, so a roll-back to the replaced exporter
 * continues where this one stopped.
 */
public final class PostgresCheckpointStore implements CheckpointStore {

  private final PostgresConnections db;

  public PostgresCheckpointStore(PostgresConnections db) {
    this.db = db;
  }

  @Override
  public String location() {
    return "event_exporter_checkpoints in " + db.location();
  }

  @Override
  public Optional<Checkpoint> load(String client) {
    return db.with(
        "reading the checkpoint",
        connection -> {
          try (PreparedStatement query =
              connection.prepareStatement(
                  "SELECT resume_token::text, start_at, backfill_cutoff, last_event_time,"
                      + " updated_at, taken_over_at FROM event_exporter_checkpoints"
                      + " WHERE client_name = ?")) {
            query.setString(1, client);
            try (ResultSet row = query.executeQuery()) {
              if (!row.next()) {
                return Optional.empty();
              }
              String token = row.getString(1);
              Instant startAt = instant(row.getTimestamp(2));
              return Optional.of(
                  new Checkpoint(
                      client,
                      token == null ? null : BsonDocument.parse(token),
                      startAt == null ? null : new BsonTimestamp((int) startAt.getEpochSecond(), 0),
                      instant(row.getTimestamp(3)),
                      instant(row.getTimestamp(4)),
                      instant(row.getTimestamp(5)),
                      instant(row.getTimestamp(6))));
            }
          }
        });
  }

  @Override
  public Optional<ReplacedExporterPosition> replacedExporterPosition(String client) {
    if (load(client).isPresent()) {
      return Optional.empty();
    }
    return db.with(
        "reading the replaced exporter's position",
        connection -> {
          try (PreparedStatement query =
              connection.prepareStatement(
                  "SELECT resume_token::text FROM resume_tokens WHERE client_name = ?")) {
            query.setString(1, client);
            try (ResultSet row = query.executeQuery()) {
              if (!row.next()) {
                return Optional.empty();
              }
              return Optional.of(replaced(client, row.getString(1)));
            }
          }
        });
  }

  /**
   * The replaced watcher's position as a token this exporter's change-log source continues from:
   * after {@code (changed_at, id)} = {@code (timestamp, eventID)}.
   */
  static ReplacedExporterPosition replaced(String client, String json) {
    try {
      BsonDocument stored = BsonDocument.parse(json);
      if (stored.isString("timestamp") && stored.isNumber("eventID")) {
        Instant at = OffsetDateTime.parse(stored.getString("timestamp").getValue()).toInstant();
        BsonDocument token =
            new BsonDocument("afterChangedAt", new BsonDateTime(at.toEpochMilli()))
                .append("afterChangedAtMicros", new BsonInt64(micros(at)))
                .append("afterId", new BsonInt64(stored.getNumber("eventID").longValue()));
        return new ReplacedExporterPosition(client, token, null);
      }
      return new ReplacedExporterPosition(
          client, null, "resume_token " + json + " has no timestamp and eventID");
    } catch (JsonParseException | java.time.format.DateTimeParseException e) {
      return new ReplacedExporterPosition(
          client, null, "resume_token " + json + " cannot be read: " + e.getMessage());
    }
  }

  @Override
  public void save(Checkpoint checkpoint) {
    db.with(
        "saving the checkpoint",
        connection -> {
          try (PreparedStatement upsert =
              connection.prepareStatement(
                  "INSERT INTO event_exporter_checkpoints (client_name, resume_token, start_at,"
                      + " backfill_cutoff, last_event_time, updated_at, taken_over_at)"
                      + " VALUES (?, ?::jsonb, ?, ?, ?, ?, ?) ON CONFLICT (client_name) DO UPDATE"
                      + " SET resume_token = EXCLUDED.resume_token, start_at = EXCLUDED.start_at,"
                      + " backfill_cutoff = EXCLUDED.backfill_cutoff,"
                      + " last_event_time = EXCLUDED.last_event_time,"
                      + " updated_at = EXCLUDED.updated_at,"
                      + " taken_over_at = EXCLUDED.taken_over_at")) {
            upsert.setString(1, checkpoint.client());
            upsert.setString(
                2, checkpoint.resumeToken() == null ? null : checkpoint.resumeToken().toJson());
            upsert.setTimestamp(
                3,
                checkpoint.startAtOperationTime() == null
                    ? null
                    : Timestamp.from(
                        Instant.ofEpochSecond(checkpoint.startAtOperationTime().getTime())));
            upsert.setTimestamp(4, timestamp(checkpoint.backfillCutoff()));
            upsert.setTimestamp(5, timestamp(checkpoint.lastEventTime()));
            upsert.setTimestamp(6, timestamp(checkpoint.updatedAt()));
            upsert.setTimestamp(7, timestamp(checkpoint.takenOverAt()));
            upsert.executeUpdate();
          }
          BsonDocument token = checkpoint.resumeToken();
          if (token != null && token.isInt64("id") && token.isInt64("changedAtMicros")) {
            try (PreparedStatement shared =
                connection.prepareStatement(
                    "INSERT INTO resume_tokens (client_name, resume_token, last_updated)"
                        + " VALUES (?, jsonb_build_object('timestamp', to_char(to_timestamp(?::double precision / 1e6)"
                        + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), 'eventID', ?), NOW())"
                        + " ON CONFLICT (client_name) DO UPDATE"
                        + " SET resume_token = EXCLUDED.resume_token, last_updated = NOW()")) {
              shared.setString(1, checkpoint.client());
              shared.setLong(2, token.getInt64("changedAtMicros").getValue());
              shared.setLong(3, token.getInt64("id").getValue());
              shared.executeUpdate();
            }
          }
          return null;
        });
  }

  static long micros(Instant at) {
    return at.getEpochSecond() * 1_000_000L + at.getNano() / 1_000;
  }

  private static Timestamp timestamp(Instant instant) {
    return instant == null ? null : Timestamp.from(instant);
  }

  private static Instant instant(Timestamp timestamp) {
    return timestamp == null ? null : timestamp.toInstant();
  }
}
