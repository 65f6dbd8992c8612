package io.nvsentinel.exporter.store.mongo;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import io.nvsentinel.exporter.store.ChangeSource;
import io.nvsentinel.exporter.store.Datastore;
import io.nvsentinel.exporter.store.PagedWindowReader;
import io.nvsentinel.exporter.store.WindowReader;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * NVSentinel's MongoDB store: health events in {@code datastore.database}/{@code
 * datastore.collection}, read through its change stream; the exporter's checkpoints and gap windows
 * beside NVSentinel's resume tokens, its dead letters in a collection of their own.
 */
public final class MongoDatastore implements Datastore {

  private final MongoClient client;
  private final ExporterProperties properties;
  private final MongoCollection<BsonDocument> events;
  private final CheckpointStore checkpoints;
  private final GapWindowStore gaps;
  private final DeadLetterStore deadLetters;

  public MongoDatastore(
      MongoClient client, ExporterProperties properties, MeterRegistry meters, Clock clock) {
    this.client = client;
    this.properties = properties;
    ExporterProperties.Datastore datastore = properties.datastore();
    this.events =
        client
            .getDatabase(datastore.database())
            .getCollection(datastore.collection(), BsonDocument.class);
    this.checkpoints = new MongoCheckpointStore(client, properties.resumeToken());
    this.gaps = new MongoGapWindowStore(client, properties.resumeToken());
    this.deadLetters = new MongoDeadLetterStore(client, properties.deadLetter(), meters, clock);
  }

  @Override
  public String location() {
    return "MongoDB " + events.getNamespace().getFullName();
  }

  @Override
  public CheckpointStore checkpoints() {
    return checkpoints;
  }

  @Override
  public GapWindowStore gapWindows() {
    return gaps;
  }

  @Override
  public DeadLetterStore deadLetters() {
    return deadLetters;
  }

  @Override
  public ChangeSource changeSource(List<String> operationTypes) {
    return new MongoChangeSource(client, properties.datastore(), operationTypes);
  }

  @Override
  public WindowReader windowReader(Instant start, Instant end, long maxEvents, int pageSize) {
    return new PagedWindowReader<>(new MongoWindowPages(events, start, end), maxEvents, pageSize);
  }

  @Override
  public long count(Instant start, Instant end) {
    return events.countDocuments(MongoWindowPages.inWindow(start, end));
  }

  @Override
  public Optional<BsonDocument> find(BsonValue id) {
    return Optional.ofNullable(events.find(Filters.eq("_id", id)).first());
  }
}
