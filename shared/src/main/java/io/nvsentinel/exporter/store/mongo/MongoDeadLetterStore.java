package io.nvsentinel.exporter.store.mongo;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.Sorts;
import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.deadletter.DeadLetter;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import io.nvsentinel.exporter.deadletter.FailedAttempt;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.Document;
import org.bson.RawBsonDocument;
import org.bson.codecs.DocumentCodec;
import org.bson.conversions.Bson;
import org.bson.json.JsonMode;
import org.bson.json.JsonWriterSettings;

/** The dead letters as a MongoDB collection, one document per entry. */
public final class MongoDeadLetterStore implements DeadLetterStore {

  /** Below MongoDB's 16 MiB document limit, with room for the entry's other fields. */
  static final int MAX_ENTRY_BYTES = 15 * 1024 * 1024;

  static final int PREFIX_CHARS = 1024 * 1024;

  private static final JsonWriterSettings EXTENDED =
      JsonWriterSettings.builder().outputMode(JsonMode.EXTENDED).build();

  private final MongoCollection<Document> collection;
  private final MeterRegistry meters;
  private final Clock clock;

  public MongoDeadLetterStore(
      MongoClient client,
      ExporterProperties.DeadLetter settings,
      MeterRegistry meters,
      Clock clock) {
    this.collection = client.getDatabase(settings.database()).getCollection(settings.collection());
    this.meters = meters;
    this.clock = clock;
  }

  @Override
  public void deliveryFailed(
      OutgoingEvent event, DeadLetter.Kind kind, FailedAttempt last, int attempts, Instant first) {
    Document entry =
        new Document("_id", event.id())
            .append("documentId", event.documentId())
            .append("kind", kind.label())
            .append("reason", last.reason())
            .append("errorType", last.errorType())
            .append("lastStatus", last.status())
            .append("attempts", attempts)
            .append("firstAttemptAt", Date.from(first))
            .append("lastAttemptAt", Date.from(clock.instant()))
            .append("cloudEvent", new String(event.json(), StandardCharsets.UTF_8));
    save(entry, kind);
  }

  @Override
  public void undecodable(BsonDocument document, String reason) {
    BsonValue documentId = document.get("_id");
    // MongoDB gives every stored document an _id; a document handed over without one is keyed
    // by its content instead.
    BsonValue identity = documentId != null ? documentId : document;
    String key = "undecodable:" + new BsonDocument("_id", identity).toJson(EXTENDED);
    Instant now = clock.instant();
    Document entry =
        new Document("_id", key)
            .append("documentId", documentId)
            .append("kind", DeadLetter.Kind.UNDECODABLE.label())
            .append("reason", reason)
            .append("errorType", "undecodable")
            .append("lastStatus", 0)
            .append("attempts", 0)
            .append("firstAttemptAt", Date.from(now))
            .append("lastAttemptAt", Date.from(now))
            .append("document", document);
    save(entry, DeadLetter.Kind.UNDECODABLE);
  }

  private void save(Document entry, DeadLetter.Kind kind) {
    collection.replaceOne(
        Filters.eq("_id", entry.get("_id")),
        withinSizeLimit(entry),
        new ReplaceOptions().upsert(true));
    meters.counter(METRIC, "kind", kind.label()).increment();
  }

  /**
   * The entry, or, when it would not fit in one MongoDB document, the entry with its CloudEvent or
   * document cut to a prefix of their JSON and the cut recorded ({@code truncated}, with the
   * original size). A truncated CloudEvent cannot be re-driven; the prefix still shows what it was.
   */
  static Document withinSizeLimit(Document entry) {
    int size = bsonSize(entry);
    if (size <= MAX_ENTRY_BYTES) {
      return entry;
    }
    Document cut = new Document(entry);
    for (String field : new String[] {"cloudEvent", "document"}) {
      Object value = cut.get(field);
      if (value == null) {
        continue;
      }
      String json = value instanceof String text ? text : ((BsonDocument) value).toJson(EXTENDED);
      cut.remove(field);
      cut.append(field + "Prefix", json.substring(0, Math.min(json.length(), PREFIX_CHARS)));
      cut.append("truncated", new Document("field", field).append("originalBytes", size));
    }
    return cut;
  }

  private static int bsonSize(Document entry) {
    return new RawBsonDocument(entry, new DocumentCodec()).getByteBuffer().remaining();
  }

  @Override
  public List<DeadLetter> list(int limit) {
    return list(limit, Filters.empty());
  }

  @Override
  public List<DeadLetter> list(int limit, DeadLetter.Kind kind) {
    return list(limit, Filters.eq("kind", kind.label()));
  }

  private List<DeadLetter> list(int limit, Bson filter) {
    List<DeadLetter> letters = new ArrayList<>();
    for (Document d : collection.find(filter).sort(Sorts.ascending("lastAttemptAt")).limit(limit)) {
      BsonDocument raw = d.toBsonDocument();
      letters.add(
          new DeadLetter(
              d.getString("_id"),
              raw.get("documentId"),
              DeadLetter.Kind.of(d.getString("kind")),
              d.getString("reason"),
              d.getInteger("lastStatus", 0),
              d.getInteger("attempts", 0),
              d.getDate("firstAttemptAt").toInstant(),
              d.getDate("lastAttemptAt").toInstant(),
              d.getString("cloudEvent")));
    }
    return letters;
  }

  @Override
  public long count() {
    return collection.countDocuments();
  }

  @Override
  public long count(DeadLetter.Kind kind) {
    return collection.countDocuments(Filters.eq("kind", kind.label()));
  }

  @Override
  public void remove(String id) {
    collection.deleteOne(Filters.eq("_id", id));
  }
}
