package io.nvsentinel.exporter.bench;

import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.devstack.EmbeddedPostgresStore;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.bson.BsonString;

/**
 * The footprint benchmark's events in NVSentinel's PostgreSQL store: a real PostgreSQL in its own
 * processes, rows written as the platform connector writes them, each with an id chosen here so its
 * CloudEvent id is known before it is stored.
 */
final class PostgresEvents implements AutoCloseable {

  private final EmbeddedPostgresStore store;
  private final Connection connection;
  private final PreparedStatement insert;

  PostgresEvents(Path directory) throws IOException, SQLException {
    store = EmbeddedPostgresStore.start(directory);
    connection = store.connect();
    insert =
        connection.prepareStatement(
            "INSERT INTO health_events (id, node_name, event_type, document, created_at)"
                + " VALUES (?, 'gpu-node-1', 'GpuXidError', ?::jsonb, ?)");
  }

  /** The exporter's settings for this store. */
  List<String> settings() {
    return List.of(
        "--exporter.datastore.provider=postgresql",
        "--exporter.datastore.postgresql.host=localhost",
        "--exporter.datastore.postgresql.port=" + store.port(),
        "--exporter.datastore.postgresql.database=" + EmbeddedPostgresStore.DATABASE,
        "--exporter.datastore.postgresql.username=" + EmbeddedPostgresStore.USER,
        "--exporter.datastore.postgresql.sslmode=disable");
  }

  int port() {
    return store.port();
  }

  /** The CloudEvent id of row {@code id}. */
  static String eventId(UUID id) {
    return EventIds.of(
        EmbeddedPostgresStore.DATABASE, "health_events", new BsonString(id.toString()));
  }

  /** Stores one event created at {@code createdAt}; synchronized: one connection. */
  synchronized void insert(UUID id, Instant createdAt) throws SQLException {
    insert.setObject(1, id);
    insert.setString(
        2, EmbeddedPostgresStore.document("gpu-node-1", "XID 79: GPU has fallen off the bus"));
    insert.setTimestamp(3, Timestamp.from(createdAt));
    insert.executeUpdate();
  }

  /** Stores {@code count} events one millisecond apart from {@code first}, in batches. */
  synchronized void insertMany(int count, Instant first) throws SQLException {
    connection.setAutoCommit(false);
    for (int i = 0; i < count; i++) {
      insert.setObject(1, UUID.randomUUID());
      insert.setString(2, EmbeddedPostgresStore.document("gpu-node-1", "XID 79"));
      insert.setTimestamp(3, Timestamp.from(first.plusMillis(i)));
      insert.addBatch();
      if (i % 1000 == 999 || i == count - 1) {
        insert.executeBatch();
        connection.commit();
      }
    }
    connection.setAutoCommit(true);
  }

  @Override
  public void close() throws Exception {
    connection.close();
    store.close();
  }
}
