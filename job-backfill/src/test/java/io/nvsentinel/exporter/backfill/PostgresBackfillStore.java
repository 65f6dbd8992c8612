package io.nvsentinel.exporter.backfill;

import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.config.TestProperties;
import io.nvsentinel.exporter.devstack.EmbeddedPostgresStore;
import io.nvsentinel.exporter.store.StreamPosition;
import io.nvsentinel.exporter.store.postgres.ChangelogPosition;
import io.nvsentinel.exporter.store.postgres.PostgresCheckpointStore;
import io.nvsentinel.exporter.store.postgres.PostgresConnections;
import io.nvsentinel.exporter.store.postgres.PostgresGapWindowStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.bson.BsonDocument;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.BsonValue;

/**
 * NVSentinel's PostgreSQL store in a database of its own: each document stored as the JSON of a
 * {@code health_events} row whose {@code created_at} is the document's {@code createdAt} and whose
 * id is derived from the document's {@code _id}.
 */
public final class PostgresBackfillStore implements BackfillStore {

  final EmbeddedPostgresStore db;
  private final PostgresConnections connections;

  /** A new database on {@code server}. */
  public PostgresBackfillStore(EmbeddedPostgresStore server) {
    try {
      db = server.newDatabase("backfill_" + UUID.randomUUID().toString().replace("-", ""));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    connections = new PostgresConnections(TestProperties.postgresqlOf(db));
  }

  @Override
  public Map<String, String> settings() {
    return Map.of(
        "exporter.datastore.provider",
        "postgresql",
        "exporter.datastore.postgresql.host",
        "localhost",
        "exporter.datastore.postgresql.port",
        String.valueOf(db.port()),
        "exporter.datastore.postgresql.database",
        db.database(),
        "exporter.datastore.postgresql.username",
        EmbeddedPostgresStore.USER,
        "exporter.datastore.postgresql.sslmode",
        "disable");
  }

  @Override
  public void insert(List<BsonDocument> docs) {
    try {
      db.insertDocuments(docs);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public boolean holds(BsonDocument doc) {
    return EmbeddedPostgresStore.canHold(doc);
  }

  @Override
  public String eventId(BsonValue documentId) {
    return EventIds.of(
        db.database(),
        "health_events",
        new BsonString(EmbeddedPostgresStore.rowId(documentId).toString()));
  }

  @Override
  public CheckpointStore checkpoints() {
    return new PostgresCheckpointStore(connections);
  }

  @Override
  public GapWindowStore gaps() {
    return new PostgresGapWindowStore(connections);
  }

  @Override
  public long deadLetters() {
    return connections.with(
        "counting dead letters",
        connection -> {
          try (ResultSet count =
              connection
                  .createStatement()
                  .executeQuery("SELECT count(*) FROM event_exporter_dead_letters")) {
            count.next();
            return count.getLong(1);
          }
        });
  }

  @Override
  public StreamPosition aTakenOverPosition() {
    return new ChangelogPosition(
        new BsonDocument("afterChangedAtMicros", new BsonInt64(1))
            .append("afterId", new BsonInt64(1)));
  }

  @Override
  public void close() {
    try {
      db.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
