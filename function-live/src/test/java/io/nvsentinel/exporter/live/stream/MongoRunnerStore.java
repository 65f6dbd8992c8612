package io.nvsentinel.exporter.live.stream;

import static org.assertj.core.api.Assertions.assertThat;

import com.mongodb.MongoSocketReadException;
import com.mongodb.ServerAddress;
import com.mongodb.client.MongoChangeStreamCursor;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.changestream.ChangeStreamDocument;
import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.config.TestProperties;
import io.nvsentinel.exporter.store.Datastore;
import io.nvsentinel.exporter.store.DatastoreUnavailableException;
import io.nvsentinel.exporter.store.mongo.MongoDatastore;
import io.nvsentinel.exporter.store.mongo.ResumeToken;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.bson.BsonDocument;
import org.bson.BsonObjectId;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.BsonValue;

/**
 * A MongoDB with change streams, a database of its own for each test. An independent change stream,
 * opened before the first insert, learns each insert's resume token, so a checkpoint's token can be
 * placed among the inserts.
 */
final class MongoRunnerStore implements RunnerStore {

  final MongoClient client;
  private final String uri;
  private final String database =
      "live" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  private final List<BsonValue> inserted = new ArrayList<>();

  /** Each insert seen by the observer, in stream order: its token and its document's _id. */
  private final List<BsonDocument> tokens = new ArrayList<>();

  private final List<BsonValue> tokenIds = new ArrayList<>();
  private MongoChangeStreamCursor<ChangeStreamDocument<BsonDocument>> observer;

  MongoRunnerStore(String uri) {
    this.uri = uri;
    this.client = MongoClients.create(uri);
  }

  @Override
  public void configure(TestProperties config) {
    config.mongoUri = uri;
    config.database = database;
  }

  MongoCollection<BsonDocument> events() {
    return client.getDatabase(database).getCollection("HealthEvents", BsonDocument.class);
  }

  @Override
  public Datastore datastore(ExporterProperties properties, MeterRegistry meters) {
    return new MongoDatastore(client, properties, meters, Clock.systemUTC());
  }

  @Override
  public synchronized void insert(List<BsonDocument> docs) {
    if (observer == null) {
      observer =
          events()
              .watch(BsonDocument.class)
              .startAtOperationTime(
                  new BsonTimestamp((int) Instant.now().minusSeconds(1).getEpochSecond(), 0))
              .cursor();
    }
    for (int from = 0; from < docs.size(); from += 100) {
      List<BsonDocument> batch = docs.subList(from, Math.min(docs.size(), from + 100));
      events().insertMany(batch);
      batch.forEach(doc -> inserted.add(doc.get("_id")));
    }
  }

  @Override
  public BsonValue storedId(BsonValue documentId) {
    return documentId;
  }

  @Override
  public synchronized Set<BsonValue> accountedFor(Checkpoint checkpoint) {
    if (checkpoint.position() == null) {
      return Set.of();
    }
    observeEveryInsert();
    int at = tokens.indexOf(((ResumeToken) checkpoint.position()).token());
    assertThat(at).as("the checkpoint names a token of this stream").isNotNegative();
    return new LinkedHashSet<>(tokenIds.subList(0, at + 1));
  }

  /** Reads the observing stream until it has seen every insert so far. */
  private void observeEveryInsert() {
    Set<BsonValue> wanted = new HashSet<>(inserted);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!new HashSet<>(tokenIds).containsAll(wanted) && System.nanoTime() < deadline) {
      ChangeStreamDocument<BsonDocument> change = observer.tryNext();
      if (change != null && change.getDocumentKey() != null) {
        tokens.add(change.getResumeToken());
        tokenIds.add(change.getDocumentKey().get("_id"));
      }
    }
  }

  @Override
  public RuntimeException connectionBroken() {
    return new DatastoreUnavailableException(
        "reading the MongoDB change stream failed",
        new MongoSocketReadException("connection reset", new ServerAddress()));
  }

  @Override
  public synchronized void replacedExporterStoredPositionAfter(String client, BsonDocument doc) {
    observeEveryInsert();
    storeReplacedExporterPosition(client, tokens.get(tokenIds.indexOf(doc.get("_id"))));
  }

  /** The replaced exporter's position as it stores it: {clientName, resumeToken}. */
  void storeReplacedExporterPosition(String clientName, BsonValue token) {
    tokenCollection()
        .insertOne(
            new BsonDocument("_id", new BsonObjectId())
                .append("clientName", new BsonString(clientName))
                .append("resumeToken", token));
  }

  private MongoCollection<BsonDocument> tokenCollection() {
    return client.getDatabase(database).getCollection("ResumeTokens", BsonDocument.class);
  }

  @Override
  public void assertReplacedExporterContinuesFrom(String clientName, Checkpoint checkpoint) {
    // one document, still readable by the Go exporter, at the position this exporter reached
    assertThat(tokenCollection().countDocuments()).isEqualTo(1);
    BsonDocument shared = tokenCollection().find().first();
    assertThat(shared.getString("clientName").getValue()).isEqualTo(clientName);
    assertThat(shared.getDocument("resumeToken"))
        .isEqualTo(((ResumeToken) checkpoint.position()).token());
  }

  @Override
  public void close() {
    if (observer != null) {
      observer.close();
    }
    client.close();
  }
}
