package io.nvsentinel.exporter.live.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.config.TestProperties;
import io.nvsentinel.exporter.devstack.EmbeddedPostgresStore;
import io.nvsentinel.exporter.store.Datastore;
import io.nvsentinel.exporter.store.DatastoreUnavailableException;
import io.nvsentinel.exporter.store.postgres.ChangelogPosition;
import io.nvsentinel.exporter.store.postgres.PostgresConnections;
import io.nvsentinel.exporter.store.postgres.PostgresDatastore;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.BsonValue;

/**
 * NVSentinel's PostgreSQL store in a database of its own on a real PostgreSQL: each document is
 * stored as the JSON of a {@code health_events} row, whose id is derived from the document's {@code
 * _id}, so the test can name the event each row becomes.
 */
final class PostgresRunnerStore implements RunnerStore {

  final EmbeddedPostgresStore db;
  private final Map<UUID, BsonValue> documentIds = new HashMap<>();
  private PostgresConnections connections;

  PostgresRunnerStore(EmbeddedPostgresStore db) {
    this.db = db;
  }

  @Override
  public void configure(TestProperties config) {
    config.postgresql = TestProperties.postgresqlOf(db);
    connections = new PostgresConnections(config.postgresql);
  }

  @Override
  public Datastore datastore(ExporterProperties properties, MeterRegistry meters) {
    return new PostgresDatastore(connections, meters, Clock.systemUTC());
  }

  /**
   * Each batch of up to 100 in one transaction, as MongoDB's insertMany; created now, as NVSentinel
   * stores a new event.
   */
  @Override
  public synchronized void insert(List<BsonDocument> docs) {
    List<BsonDocument> created = new ArrayList<>();
    for (BsonDocument doc : docs) {
      documentIds.put(EmbeddedPostgresStore.rowId(doc.get("_id")), doc.get("_id"));
      created.add(doc.clone().append("createdAt", new BsonDateTime(System.currentTimeMillis())));
    }
    try {
      db.insertDocuments(created);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public boolean holds(BsonDocument doc) {
    return EmbeddedPostgresStore.canHold(doc);
  }

  @Override
  public BsonValue storedId(BsonValue documentId) {
    return new BsonString(EmbeddedPostgresStore.rowId(documentId).toString());
  }

  /** The rows at or below the token's watermark: every one of them is accounted for. */
  @Override
  public synchronized Set<BsonValue> accountedFor(Checkpoint checkpoint) {
    if (checkpoint.position() == null) {
      return Set.of();
    }
    BsonDocument token = token(checkpoint);
    assertThat(token.isNumber("watermark"))
        .as("the checkpoint is a change-log position: %s", token)
        .isTrue();
    Set<BsonValue> ids = new HashSet<>();
    for (String row :
        query(
            "SELECT record_id::text FROM datastore_changelog WHERE id <= "
                + token.getNumber("watermark").longValue())) {
      BsonValue id = documentIds.get(UUID.fromString(row));
      if (id != null) {
        ids.add(id);
      }
    }
    return ids;
  }

  @Override
  public RuntimeException connectionBroken() {
    return new DatastoreUnavailableException(
        "reading datastore_changelog failed",
        new SQLException("An I/O error occurred while sending to the backend.", "08006"));
  }

  @Override
  public void replacedExporterStoredPositionAfter(String client, BsonDocument doc) {
    execute(
        "INSERT INTO resume_tokens (client_name, resume_token) SELECT '"
            + client
            + "', jsonb_build_object('timestamp', to_char(changed_at AT TIME ZONE 'UTC',"
            + " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), 'eventID', id)"
            + " FROM datastore_changelog WHERE record_id = '"
            + EmbeddedPostgresStore.rowId(doc.get("_id"))
            + "'");
  }

  @Override
  public void assertReplacedExporterContinuesFrom(String client, Checkpoint checkpoint) {
    assertThat(
            query(
                "SELECT (resume_token->>'eventID') || ' ' || (resume_token->>'timestamp')"
                    + " FROM resume_tokens WHERE client_name = '"
                    + client
                    + "'"))
        .as("the position in the replaced exporter's form: the last change's id and time")
        .singleElement()
        .asString()
        .startsWith(token(checkpoint).getNumber("id").longValue() + " ");
  }

  private static BsonDocument token(Checkpoint checkpoint) {
    return ((ChangelogPosition) checkpoint.position()).token();
  }

  void execute(String sql) {
    try (Connection connection = db.connect()) {
      connection.createStatement().execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  List<String> query(String sql) {
    try (Connection connection = db.connect();
        ResultSet rows = connection.createStatement().executeQuery(sql)) {
      List<String> values = new ArrayList<>();
      while (rows.next()) {
        values.add(rows.getString(1));
      }
      return values;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() throws Exception {
    db.close();
  }
}
