package io.nvsentinel.exporter.store.postgres;

import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.Lease;
import io.nvsentinel.exporter.checkpoint.LeaseLostException;
import io.nvsentinel.exporter.checkpoint.ReplacedExporterPosition;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Optional;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt64;
import org.bson.json.JsonParseException;

/**
 * Checkpoints in the exporter's table {@code event_exporter_checkpoints} of NVSentinel's PostgreSQL
 * store. NVSentinel's own {@code resume_tokens} is shared with the replaced exporter: a position
 * stored there ({@code {"timestamp": RFC 3339, "eventID": n}}) is offered for a takeover, and every
 * checkpoint saved is written back there in that form, so a roll-back to the replaced exporter
 * continues where this one stopped.
 *
 * <p>The lease of the live exporters is a row of {@code event_exporter_leases}; a checkpoint
 * written under a lease is written in one transaction with a share lock on that row and a check of
 * its epoch, so a term that ended cannot move the position.
 */
public final class PostgresCheckpointStore implements CheckpointStore {

  private final PostgresConnections db;
  private final PostgresLeases leases;

  public PostgresCheckpointStore(PostgresConnections db) {
    this.db = db;
    this.leases = new PostgresLeases(db);
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
              return Optional.of(
                  new Checkpoint(
                      client,
                      ChangelogPosition.parse(row.getString(1)),
                      instant(row.getTimestamp(2)),
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
    return stored(client);
  }

  /**
   * What {@code resume_tokens} holds for {@code client}, read as the replaced exporter's position.
   */
  private Optional<ReplacedExporterPosition> stored(String client) {
    return db.with(
        "reading the replaced exporter's position",
        connection -> {
          try (PreparedStatement query =
              connection.prepareStatement(
                  "SELECT resume_token::text FROM resume_tokens WHERE client_name = ?")) {
            query.setString(1, client);
            try (ResultSet row = query.executeQuery()) {
              return row.next()
                  ? Optional.of(replaced(client, row.getString(1)))
                  : Optional.<ReplacedExporterPosition>empty();
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
        return new ReplacedExporterPosition(client, new ChangelogPosition(token), null);
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
          write(connection, checkpoint);
          return null;
        });
  }

  /**
   * The checkpoint and the replaced exporter's form of the position in one transaction that holds
   * the lease row: a new term cannot begin between the epoch check and the writes.
   */
  @Override
  public void save(Checkpoint checkpoint, Lease lease) {
    boolean held =
        db.with(
            "saving the checkpoint",
            connection -> {
              connection.setAutoCommit(false);
              try {
                if (!current(connection, lease)) {
                  connection.rollback();
                  return false;
                }
                write(connection, checkpoint);
                connection.commit();
                return true;
              } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
              } finally {
                connection.setAutoCommit(true);
              }
            });
    if (!held) {
      throw new LeaseLostException(lease, "writing the checkpoint");
    }
  }

  private static boolean current(Connection connection, Lease lease) throws SQLException {
    try (PreparedStatement query =
        connection.prepareStatement(
            "SELECT epoch FROM event_exporter_leases WHERE client_name = ? FOR SHARE")) {
      query.setString(1, lease.client());
      try (ResultSet row = query.executeQuery()) {
        return row.next() && row.getLong(1) == lease.epoch();
      }
    }
  }

  private static void write(Connection connection, Checkpoint checkpoint) throws SQLException {
    BsonDocument token = ChangelogPosition.of(checkpoint.position());
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
      upsert.setString(2, token == null ? null : token.toJson());
      upsert.setTimestamp(3, timestamp(checkpoint.startAt()));
      upsert.setTimestamp(4, timestamp(checkpoint.backfillCutoff()));
      upsert.setTimestamp(5, timestamp(checkpoint.lastEventTime()));
      upsert.setTimestamp(6, timestamp(checkpoint.updatedAt()));
      upsert.setTimestamp(7, timestamp(checkpoint.takenOverAt()));
      upsert.executeUpdate();
    }
    // numbers as JSON keeps them: a small one reads back as 32 bits
    if (token != null
        && token.isNumber("id")
        && token.isNumber("changedAtMicros")
        && token.isNumber("watermark")) {
      writeBack(connection, checkpoint.client(), token);
    }
  }

  @Override
  public Optional<Lease> acquireLease(
      String client, String holder, Duration duration, Instant now) {
    return leases.acquire(client, holder, duration, now);
  }

  @Override
  public Optional<Lease> renewLease(Lease lease, Duration duration, Instant now) {
    return leases.renew(lease, duration, now);
  }

  @Override
  public void releaseLease(Lease lease) {
    leases.release(lease);
  }

  /**
   * Writes the replaced exporter's form of the position, {@code (changed_at, id)} after which its
   * watcher resumes ({@code changed_at > ts OR (changed_at = ts AND id > id)}), placed so that it
   * cannot resume past a change this exporter has not delivered: the earliest, in that order, of
   * the last committed change, every change above the watermark the server shows (read and in
   * flight, or not read yet), and the start of every transaction still writing that this role can
   * see (its rows take that start as {@code changed_at}). A roll-back then sends some events again,
   * and skips none it can know of.
   */
  private static void writeBack(Connection connection, String client, BsonDocument token)
      throws SQLException {
    try (PreparedStatement shared =
        connection.prepareStatement(
            "WITH candidate (ts, id) AS ("
                + " SELECT TIMESTAMPTZ 'epoch' + ? * INTERVAL '1 microsecond', ?::bigint"
                + " UNION ALL SELECT changed_at, id - 1 FROM datastore_changelog"
                + "   WHERE id > ? AND table_name = 'health_events' AND operation = 'INSERT'"
                + " UNION ALL SELECT xact_start, 0 FROM pg_stat_activity"
                + "   WHERE backend_xid IS NOT NULL AND xact_start IS NOT NULL"
                + "   AND pid <> pg_backend_pid())"
                + " INSERT INTO resume_tokens (client_name, resume_token, last_updated)"
                + " SELECT ?, jsonb_build_object('timestamp', to_char(ts AT TIME ZONE 'UTC',"
                + " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), 'eventID', id), NOW()"
                + " FROM candidate ORDER BY ts, id LIMIT 1"
                + " ON CONFLICT (client_name) DO UPDATE"
                + " SET resume_token = EXCLUDED.resume_token, last_updated = NOW()")) {
      shared.setLong(1, token.getNumber("changedAtMicros").longValue());
      shared.setLong(2, token.getNumber("id").longValue());
      shared.setLong(3, token.getNumber("watermark").longValue());
      shared.setString(4, client);
      shared.executeUpdate();
    }
  }

  /**
   * The replaced exporter's position where it lies past {@code ours}: after a roll-back it ran on
   * and moved it (this exporter only ever writes a position at or before its own).
   */
  @Override
  public Optional<ReplacedExporterPosition> replacedExporterPositionPast(Checkpoint ours) {
    BsonDocument token = ChangelogPosition.of(ours.position());
    Instant ourTime =
        ours.lastEventTime() != null
            ? ours.lastEventTime()
            : ours.startAt() != null ? ours.startAt() : ours.updatedAt();
    long ourMicros =
        token != null && token.isNumber("changedAtMicros")
            ? token.getNumber("changedAtMicros").longValue()
            : micros(ourTime);
    long ourId = token != null && token.isNumber("id") ? token.getNumber("id").longValue() : 0;
    return stored(ours.client())
        .filter(theirs -> theirs.position() != null)
        .filter(
            theirs -> {
              BsonDocument bound = ChangelogPosition.of(theirs.position());
              long theirMicros = bound.getInt64("afterChangedAtMicros").getValue();
              long theirId = bound.getInt64("afterId").getValue();
              return theirMicros > ourMicros || (theirMicros == ourMicros && theirId > ourId);
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
