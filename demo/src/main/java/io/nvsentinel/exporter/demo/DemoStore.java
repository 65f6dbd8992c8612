package io.nvsentinel.exporter.demo;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import io.nvsentinel.exporter.devstack.EmbeddedPostgresStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.bson.BsonDocument;
import org.bson.BsonString;

/** The datastore the demo's events are stored in: MongoDB or NVSentinel's PostgreSQL store. */
interface DemoStore extends AutoCloseable {

  /** Stores an event; returns the CloudEvent id the exporter will give it. */
  String store(BsonDocument event) throws Exception;

  /** Where it is, for the demo's first line. */
  String describe();

  /** The exporter's settings for this store. */
  Map<String, String> settings();

  long deadLetters() throws Exception;

  static DemoStore start(String store, Path workDir) throws Exception {
    return switch (store) {
      case "mongodb" -> new Mongo();
      case "postgresql" -> new Postgres(EmbeddedPostgresStore.start(workDir.resolve("postgres")));
      default ->
          throw new IllegalArgumentException(
              "--store=" + store + ": the demo runs on mongodb or postgresql");
    };
  }

  /** The embedded MongoDB wire-protocol server. */
  final class Mongo implements DemoStore {
    final EmbeddedMongo mongo = EmbeddedMongo.start();
    final MongoClient client = MongoClients.create(mongo.connectionString());
    final MongoCollection<BsonDocument> events =
        client
            .getDatabase("HealthEventsDatabase")
            .getCollection("HealthEvents", BsonDocument.class);

    @Override
    public String store(BsonDocument event) {
      events.insertOne(event);
      return EventIds.of("HealthEventsDatabase", "HealthEvents", event.get("_id"));
    }

    @Override
    public List<String> storeAll(List<BsonDocument> history) {
      for (int from = 0; from < history.size(); from += 1000) {
        events.insertMany(history.subList(from, Math.min(history.size(), from + 1000)));
      }
      return history.stream()
          .map(e -> EventIds.of("HealthEventsDatabase", "HealthEvents", e.get("_id")))
          .toList();
    }

    @Override
    public String describe() {
      return "MongoDB " + mongo.connectionString();
    }

    @Override
    public Map<String, String> settings() {
      return Map.of("exporter.datastore.uri", mongo.connectionString());
    }

    @Override
    public long deadLetters() {
      return client
          .getDatabase("HealthEventsDatabase")
          .getCollection("exporterdeadletters")
          .countDocuments();
    }

    @Override
    public void close() {
      client.close();
      mongo.close();
    }
  }

  /** A real PostgreSQL laid out as NVSentinel's store; each event a health_events row. */
  final class Postgres implements DemoStore {
    final EmbeddedPostgresStore postgres;

    Postgres(EmbeddedPostgresStore postgres) {
      this.postgres = postgres;
    }

    @Override
    public String store(BsonDocument event) throws SQLException {
      BsonDocument document = event.clone();
      document.remove("_id");
      Instant createdAt = Instant.ofEpochMilli(event.getDateTime("createdAt").getValue());
      UUID id =
          postgres.insert(
              event.getDocument("healthevent").getString("nodeName").getValue(),
              document.toJson(),
              createdAt);
      return EventIds.of(
          EmbeddedPostgresStore.DATABASE, "health_events", new BsonString(id.toString()));
    }

    @Override
    public String describe() {
      return "PostgreSQL " + postgres.jdbcUrl();
    }

    @Override
    public Map<String, String> settings() {
      return Map.of(
          "exporter.datastore.provider",
          "postgresql",
          "exporter.datastore.postgresql.host",
          "localhost",
          "exporter.datastore.postgresql.port",
          String.valueOf(postgres.port()),
          "exporter.datastore.postgresql.database",
          EmbeddedPostgresStore.DATABASE,
          "exporter.datastore.postgresql.username",
          EmbeddedPostgresStore.USER,
          "exporter.datastore.postgresql.sslmode",
          "disable");
    }

    @Override
    public long deadLetters() throws SQLException {
      try (Connection connection = postgres.connect();
          ResultSet row =
              connection
                  .createStatement()
                  .executeQuery(
                      "SELECT count(*) FROM information_schema.tables"
                          + " WHERE table_name = 'event_exporter_dead_letters'")) {
        row.next();
        if (row.getLong(1) == 0) {
          return 0;
        }
      }
      try (Connection connection = postgres.connect();
          ResultSet row =
              connection
                  .createStatement()
                  .executeQuery("SELECT count(*) FROM event_exporter_dead_letters")) {
        row.next();
        return row.getLong(1);
      }
    }

    @Override
    public void close() throws Exception {
      postgres.close();
    }
  }

  /** Stores a list of events. */
  default List<String> storeAll(List<BsonDocument> events) throws Exception {
    List<String> ids = new java.util.ArrayList<>(events.size());
    for (BsonDocument event : events) {
      ids.add(store(event));
    }
    return ids;
  }
}
