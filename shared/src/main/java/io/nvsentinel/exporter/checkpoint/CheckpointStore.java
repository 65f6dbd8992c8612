package io.nvsentinel.exporter.checkpoint;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;
import io.nvsentinel.exporter.config.ExporterProperties;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonNull;
import org.bson.BsonString;
import org.bson.BsonValue;

/**
 * Checkpoints in {@code resumeToken.database}/{@code resumeToken.collection}, one document per
 * exporter client. The backfill job reads the cutoff from here.
 */
public final class CheckpointStore {

  private final MongoCollection<BsonDocument> collection;

  public CheckpointStore(MongoClient client, ExporterProperties.ResumeToken settings) {
    this.collection =
        client
            .getDatabase(settings.database())
            .getCollection(settings.collection(), BsonDocument.class);
  }

  public Optional<Checkpoint> load(String client) {
    BsonDocument doc = collection.find(Filters.eq("_id", client)).first();
    if (doc == null) {
      return Optional.empty();
    }
    BsonValue token = doc.get("resumeToken");
    BsonValue startAt = doc.get("startAtOperationTime");
    return Optional.of(
        new Checkpoint(
            client,
            token != null && token.isDocument() ? token.asDocument() : null,
            startAt != null && startAt.isTimestamp() ? startAt.asTimestamp() : null,
            instant(doc.get("backfillCutoff")),
            instant(doc.get("lastEventTime")),
            instant(doc.get("updatedAt"))));
  }

  public void save(Checkpoint checkpoint) {
    BsonDocument doc =
        new BsonDocument("_id", new BsonString(checkpoint.client()))
            .append("resumeToken", orNull(checkpoint.resumeToken()))
            .append("startAtOperationTime", orNull(checkpoint.startAtOperationTime()))
            .append("backfillCutoff", date(checkpoint.backfillCutoff()))
            .append("lastEventTime", date(checkpoint.lastEventTime()))
            .append("updatedAt", date(checkpoint.updatedAt()));
    collection.replaceOne(
        Filters.eq("_id", checkpoint.client()), doc, new ReplaceOptions().upsert(true));
  }

  /** Where the backfill of {@code client} must end, once its live exporter has started. */
  public Optional<Instant> backfillCutoff(String client) {
    return load(client).map(Checkpoint::backfillCutoff);
  }

  private static BsonValue orNull(BsonValue value) {
    return value == null ? BsonNull.VALUE : value;
  }

  private static BsonValue date(Instant instant) {
    return instant == null ? BsonNull.VALUE : new BsonDateTime(Date.from(instant).getTime());
  }

  private static Instant instant(BsonValue value) {
    return value != null && value.isDateTime()
        ? Instant.ofEpochMilli(value.asDateTime().getValue())
        : null;
  }
}
