package io.nvsentinel.exporter.backfill;

import com.mongodb.client.MongoClients;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.checkpoint.StreamPosition;
import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.config.TestProperties;
import io.nvsentinel.exporter.devstack.DevStore;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import io.nvsentinel.exporter.devstack.EmbeddedPostgresStore;
import io.nvsentinel.exporter.store.Datastore;
import io.nvsentinel.exporter.store.mongo.MongoDatastore;
import io.nvsentinel.exporter.store.mongo.ResumeToken;
import io.nvsentinel.exporter.store.postgres.ChangelogPosition;
import io.nvsentinel.exporter.store.postgres.PostgresConnections;
import io.nvsentinel.exporter.store.postgres.PostgresDatastore;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.bson.BsonDocument;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.BsonValue;

/**
 * The datastore a backfill test runs against: the local stack's store with the events in it, and
 * the same store through the exporter's seam for the live exporter's checkpoint and gap windows,
 * which the job reads.
 */
public final class BackfillStore implements AutoCloseable {

  final DevStore dev;
  private final Datastore datastore;
  private final StreamPosition takenOver;

  private BackfillStore(DevStore dev, Datastore datastore, StreamPosition takenOver) {
    this.dev = dev;
    this.datastore = datastore;
    this.takenOver = takenOver;
  }

  /** An embedded MongoDB with NVSentinel's database and collection names. */
  public static BackfillStore mongo() {
    EmbeddedMongo mongo = EmbeddedMongo.start();
    TestProperties config = new TestProperties();
    config.mongoUri = mongo.connectionString();
    return new BackfillStore(
        new DevStore.Mongo(mongo),
        new MongoDatastore(
            MongoClients.create(mongo.connectionString()),
            config.build(),
            new SimpleMeterRegistry(),
            Clock.systemUTC()),
        new ResumeToken(new BsonDocument("_data", new BsonString("82"))));
  }

  /** NVSentinel's PostgreSQL store in a new database of its own on {@code server}. */
  public static BackfillStore postgres(EmbeddedPostgresStore server) throws Exception {
    EmbeddedPostgresStore db =
        server.newDatabase("backfill_" + UUID.randomUUID().toString().replace("-", ""));
    return new BackfillStore(
        new DevStore.Postgres(db),
        new PostgresDatastore(
            new PostgresConnections(TestProperties.postgresqlOf(db)),
            new SimpleMeterRegistry(),
            Clock.systemUTC()),
        new ChangelogPosition(
            new BsonDocument("afterChangedAtMicros", new BsonInt64(1))
                .append("afterId", new BsonInt64(1))));
  }

  /** The job's settings for this store. */
  Map<String, String> settings() {
    return dev.settings();
  }

  /** Stores the documents. */
  void insert(List<BsonDocument> docs) {
    dev.insert(docs);
  }

  /** Whether this store can hold the document at all. */
  boolean holds(BsonDocument doc) {
    return dev.holds(doc);
  }

  /** The CloudEvent id of the document stored with {@code documentId}. */
  String eventId(BsonValue documentId) {
    return EventIds.of(dev.database(), dev.collection(), dev.storedId(documentId));
  }

  CheckpointStore checkpoints() {
    return datastore.checkpoints();
  }

  GapWindowStore gaps() {
    return datastore.gapWindows();
  }

  long deadLetters() {
    return dev.deadLetters();
  }

  /** A position of this store's own making, as a checkpoint taken over from the Go exporter. */
  StreamPosition aTakenOverPosition() {
    return takenOver;
  }

  @Override
  public void close() {
    dev.close();
  }
}
