package io.nvsentinel.exporter.devstack;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.BsonValue;

/**
 * A local NVSentinel datastore with health events in it, one implementation per store, for the demo
 * and the tests: where it is, the exporter's settings for it, and how events get in. Events are
 * given as MongoDB documents ({@code createdAt} a date); a store that keeps JSON stores their JSON
 * under an id derived from their {@code _id}.
 */
public interface DevStore extends AutoCloseable {

  /** The exporter's settings for this store. */
  Map<String, String> settings();

  /** Where it is, for a log line. */
  String describe();

  /** The database and collection (or table) of the health events, as event ids name them. */
  String database();

  String collection();

  /** Stores the documents, in this order. */
  void insert(List<BsonDocument> docs);

  /** Whether this store can hold the document at all. */
  default boolean holds(BsonDocument doc) {
    return true;
  }

  /** The {@code _id} the stored event has, for a document given with {@code documentId}. */
  BsonValue storedId(BsonValue documentId);

  /** How many dead letters the exporter has stored here. */
  long deadLetters();

  @Override
  void close();

  /**
   * {@code mongodb} or {@code postgresql}, started fresh; PostgreSQL's files under {@code work}.
   */
  static DevStore start(String provider, Path work) throws Exception {
    return switch (provider) {
      case "mongodb" -> new Mongo(EmbeddedMongo.start());
      case "postgresql" -> new Postgres(EmbeddedPostgresStore.start(work.resolve("postgres")));
      default ->
          throw new IllegalArgumentException(
              "store " + provider + ": the local stack runs mongodb or postgresql");
    };
  }

  /** The embedded MongoDB wire-protocol server, with NVSentinel's names. */
  final class Mongo implements DevStore {
    private final EmbeddedMongo mongo;
    private final MongoClient client;
    private final MongoCollection<BsonDocument> events;

    public Mongo(EmbeddedMongo mongo) {
      this.mongo = mongo;
      this.client = MongoClients.create(mongo.connectionString());
      this.events = client.getDatabase(database()).getCollection(collection(), BsonDocument.class);
    }

    @Override
    public Map<String, String> settings() {
      return Map.of("exporter.datastore.uri", mongo.connectionString());
    }

    @Override
    public String describe() {
      return "MongoDB " + mongo.connectionString();
    }

    @Override
    public String database() {
      return "HealthEventsDatabase";
    }

    @Override
    public String collection() {
      return "HealthEvents";
    }

    @Override
    public void insert(List<BsonDocument> docs) {
      for (int from = 0; from < docs.size(); from += 1000) {
        events.insertMany(docs.subList(from, Math.min(docs.size(), from + 1000)));
      }
    }

    @Override
    public BsonValue storedId(BsonValue documentId) {
      return documentId;
    }

    @Override
    public long deadLetters() {
      return client.getDatabase(database()).getCollection("exporterdeadletters").countDocuments();
    }

    @Override
    public void close() {
      client.close();
      mongo.close();
    }
  }

  /** A real PostgreSQL laid out as NVSentinel's store; each event a {@code health_events} row. */
  final class Postgres implements DevStore {
    private final EmbeddedPostgresStore postgres;

    public Postgres(EmbeddedPostgresStore postgres) {
      this.postgres = postgres;
    }

    /** The server under it, for what only PostgreSQL does. */
    public EmbeddedPostgresStore server() {
      return postgres;
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
          postgres.database(),
          "exporter.datastore.postgresql.username",
          EmbeddedPostgresStore.USER,
          "exporter.datastore.postgresql.sslmode",
          "disable");
    }

    @Override
    public String describe() {
      return "PostgreSQL " + postgres.jdbcUrl();
    }

    @Override
    public String database() {
      return postgres.database();
    }

    @Override
    public String collection() {
      return "health_events";
    }

    @Override
    public void insert(List<BsonDocument> docs) {
      try {
        postgres.insertDocuments(docs);
      } catch (SQLException e) {
        throw new IllegalStateException("storing health events failed: " + e.getMessage(), e);
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

    @Override
    public long deadLetters() {
      try (Connection connection = postgres.connect();
          ResultSet row =
              connection
                  .createStatement()
                  .executeQuery(
                      "SELECT CASE WHEN to_regclass('event_exporter_dead_letters') IS NULL THEN 0"
                          + " ELSE (SELECT count(*) FROM event_exporter_dead_letters) END")) {
        row.next();
        return row.getLong(1);
      } catch (SQLException e) {
        throw new IllegalStateException("counting dead letters failed: " + e.getMessage(), e);
      }
    }

    @Override
    public void close() {
      try {
        postgres.close();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }
}
