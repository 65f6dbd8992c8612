package io.nvsentinel.exporter.store.mongo;

import com.mongodb.MongoException;
import com.mongodb.client.ChangeStreamIterable;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCursor;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.changestream.FullDocument;
import io.nvsentinel.exporter.checkpoint.StreamPosition;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.store.ChangeEvent;
import io.nvsentinel.exporter.store.ChangeSource;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonTimestamp;
import org.bson.BsonValue;

/**
 * The change stream of the health-event collection, through the MongoDB sync driver. A read waits
 * on the server for up to the poll wait; a server that answers an empty read at once instead (as
 * the embedded test server and some MongoDB-compatible services do) is asked again only after
 * {@link #EMPTY_READ_PAUSE}, so an idle stream does not spin a core.
 */
public final class MongoChangeSource implements ChangeSource {

  /** The shortest time between two empty reads of the stream. */
  static final Duration EMPTY_READ_PAUSE = Duration.ofMillis(10);

  private final MongoClient client;
  private final ExporterProperties.Datastore datastore;
  private final List<String> operationTypes;
  private final Duration pollWait;

  public MongoChangeSource(
      MongoClient client, ExporterProperties.Datastore datastore, List<String> operationTypes) {
    this(client, datastore, operationTypes, POLL_WAIT);
  }

  MongoChangeSource(
      MongoClient client,
      ExporterProperties.Datastore datastore,
      List<String> operationTypes,
      Duration pollWait) {
    this.client = client;
    this.datastore = datastore;
    this.operationTypes = List.copyOf(operationTypes);
    this.pollWait = pollWait;
  }

  /** {@code localTime} of the server's {@code isMaster} answer. */
  @Override
  public Optional<Instant> serverTime() {
    try {
      BsonDocument answer =
          client
              .getDatabase("admin")
              .runCommand(new BsonDocument("isMaster", new BsonInt32(1)), BsonDocument.class);
      BsonValue localTime = answer.get("localTime");
      return localTime != null && localTime.isDateTime()
          ? Optional.of(Instant.ofEpochMilli(localTime.asDateTime().getValue()))
          : Optional.empty();
    } catch (MongoException e) {
      return Optional.empty();
    }
  }

  @Override
  public Cursor open(StreamPosition after, Instant startAt) {
    try {
      return cursor(ResumeToken.of(after), startAt);
    } catch (MongoException e) {
      throw MongoFailures.translate(e);
    }
  }

  private Cursor cursor(BsonDocument resumeAfter, Instant startAt) {
    ChangeStreamIterable<BsonDocument> stream =
        client
            .getDatabase(datastore.database())
            .getCollection(datastore.collection(), BsonDocument.class)
            .watch(
                List.of(Aggregates.match(Filters.in("operationType", operationTypes))),
                BsonDocument.class)
            .maxAwaitTime(pollWait.toMillis(), TimeUnit.MILLISECONDS);
    if (operationTypes.stream().anyMatch(type -> !type.equals("insert"))) {
      stream = stream.fullDocument(FullDocument.UPDATE_LOOKUP);
    }
    if (resumeAfter != null) {
      stream = stream.resumeAfter(resumeAfter);
    } else if (startAt != null) {
      stream = stream.startAtOperationTime(new BsonTimestamp((int) startAt.getEpochSecond(), 0));
    }
    // each change as the server sends it, a plain document: the driver's ChangeStreamDocument
    // goes through a POJO codec, which cost about a twentieth of the live path (bench/README.md)
    MongoCursor<BsonDocument> cursor = stream.withDocumentClass(BsonDocument.class).cursor();
    return new Cursor() {
      @Override
      public ChangeEvent tryNext() {
        long asked = System.nanoTime();
        BsonDocument change;
        try {
          change = cursor.tryNext();
        } catch (MongoException e) {
          throw MongoFailures.translate(e);
        }
        if (change == null) {
          pauseUnlessTheServerWaited(asked);
          return null;
        }
        BsonValue fullDocument = change.get("fullDocument");
        if (fullDocument == null || !fullDocument.isDocument()) {
          return null;
        }
        BsonValue clusterTime = change.get("clusterTime");
        BsonValue operationType = change.get("operationType");
        return new ChangeEvent(
            fullDocument.asDocument(),
            operationType != null && operationType.isString()
                ? operationType.asString().getValue()
                : null,
            new ResumeToken(change.getDocument("_id")),
            clusterTime != null && clusterTime.isTimestamp()
                ? Instant.ofEpochSecond(clusterTime.asTimestamp().getTime())
                : null);
      }

      private void pauseUnlessTheServerWaited(long asked) {
        long left = EMPTY_READ_PAUSE.toNanos() - (System.nanoTime() - asked);
        if (left > 0) {
          try {
            TimeUnit.NANOSECONDS.sleep(left);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      }

      @Override
      public void close() {
        cursor.close();
      }
    };
  }
}
