package io.nvsentinel.exporter.backfill;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import io.nvsentinel.exporter.store.StreamPosition;
import io.nvsentinel.exporter.store.mongo.MongoCheckpointStore;
import io.nvsentinel.exporter.store.mongo.MongoGapWindowStore;
import io.nvsentinel.exporter.store.mongo.ResumeToken;
import java.util.List;
import java.util.Map;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.BsonValue;

/** An embedded MongoDB with NVSentinel's database and collection names. */
public final class MongoBackfillStore implements BackfillStore {

  static final ExporterProperties.ResumeToken TOKENS =
      new ExporterProperties.ResumeToken(
          "HealthEventsDatabase", "ResumeTokens", "exportergaps", "event-exporter");

  private final EmbeddedMongo mongo = EmbeddedMongo.start();
  private final MongoClient client = MongoClients.create(mongo.connectionString());

  @Override
  public Map<String, String> settings() {
    return Map.of("exporter.datastore.uri", mongo.connectionString());
  }

  @Override
  public void insert(List<BsonDocument> docs) {
    var events =
        client
            .getDatabase("HealthEventsDatabase")
            .getCollection("HealthEvents", BsonDocument.class);
    for (int from = 0; from < docs.size(); from += 500) {
      events.insertMany(docs.subList(from, Math.min(docs.size(), from + 500)));
    }
  }

  @Override
  public String eventId(BsonValue documentId) {
    return EventIds.of("HealthEventsDatabase", "HealthEvents", documentId);
  }

  @Override
  public CheckpointStore checkpoints() {
    return new MongoCheckpointStore(client, TOKENS);
  }

  @Override
  public GapWindowStore gaps() {
    return new MongoGapWindowStore(client, TOKENS);
  }

  @Override
  public long deadLetters() {
    return client
        .getDatabase("HealthEventsDatabase")
        .getCollection("exporterdeadletters")
        .countDocuments();
  }

  @Override
  public StreamPosition aTakenOverPosition() {
    return new ResumeToken(new BsonDocument("_data", new BsonString("82")));
  }

  @Override
  public void close() {
    client.close();
    mongo.close();
  }
}
