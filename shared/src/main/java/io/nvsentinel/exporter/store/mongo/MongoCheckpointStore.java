package io.nvsentinel.exporter.store.mongo;

import static com.mongodb.client.model.Filters.eq;
import static com.mongodb.client.model.Filters.or;

import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.Updates;
import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.Lease;
import io.nvsentinel.exporter.checkpoint.LeaseLostException;
import io.nvsentinel.exporter.checkpoint.ReplacedExporterPosition;
import io.nvsentinel.exporter.config.ExporterProperties;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonNull;
import org.bson.BsonTimestamp;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.codecs.DecoderContext;
import org.bson.conversions.Bson;

/**
 * Checkpoints in {@code resumeToken.database}/{@code resumeToken.collection} — by default the
 * datastore's token collection, where NVSentinel's components keep their change-stream positions.
 * The backfill job reads the cutoff from here.
 *
 * <p>One document per client, shared with the replaced (Go) exporter: it finds its position by
 * {@code clientName} and reads {@code resumeToken}; this exporter writes both, so a roll-back to it
 * continues where this one stopped, and adds its own fields beside them. A document with only the
 * replaced exporter's fields is that exporter's position, offered for a takeover.
 *
 * <p>The lease of the live exporters ({@code leaseHolder}, {@code leaseEpoch}, {@code
 * leaseExpiresAt}) is kept in the same document, so that a checkpoint written under a lease is one
 * atomic write conditional on its epoch: MongoDB makes single-document writes atomic, and nothing
 * more is needed.
 */
public final class MongoCheckpointStore implements CheckpointStore {

  /** The replaced exporter's key and token fields. */
  static final String CLIENT_NAME = "clientName";

  static final String TOKEN = "resumeToken";

  /** Written by this exporter only: its presence tells its checkpoints from the replaced one's. */
  static final String UPDATED_AT = "updatedAt";

  /** The lease of the live exporters of a client, in the document whose writes it fences. */
  static final String LEASE_HOLDER = "leaseHolder";

  static final String LEASE_EPOCH = "leaseEpoch";
  static final String LEASE_EXPIRES_AT = "leaseExpiresAt";

  /** The server's answer to an insert of an {@code _id} that another insert made first. */
  private static final int DUPLICATE_KEY = 11000;

  private final MongoCollection<BsonDocument> collection;
  private final String location;

  public MongoCheckpointStore(MongoClient client, ExporterProperties.ResumeToken settings) {
    this.collection =
        client
            .getDatabase(settings.database())
            .getCollection(settings.collection(), BsonDocument.class);
    this.location = settings.database() + "." + settings.collection();
  }

  @Override
  public String location() {
    return location;
  }

  @Override
  public Optional<Checkpoint> load(String client) {
    BsonDocument doc = find(client);
    if (doc == null || !doc.containsKey(UPDATED_AT)) {
      return Optional.empty();
    }
    BsonValue startAt = doc.get("startAtOperationTime");
    return Optional.of(
        new Checkpoint(
            client,
            token(doc.get(TOKEN)).position(),
            startAt != null && startAt.isTimestamp()
                ? Instant.ofEpochSecond(startAt.asTimestamp().getTime())
                : null,
            instant(doc.get("backfillCutoff")),
            instant(doc.get("lastEventTime")),
            instant(doc.get(UPDATED_AT)),
            instant(doc.get("takenOverAt"))));
  }

  @Override
  public Optional<ReplacedExporterPosition> replacedExporterPosition(String client) {
    BsonDocument doc = find(client);
    if (doc == null || doc.containsKey(UPDATED_AT)) {
      return Optional.empty();
    }
    if (!doc.containsKey(TOKEN) && doc.containsKey(LEASE_EPOCH)) {
      // only a lease so far: this exporter's document, before its first checkpoint
      return Optional.empty();
    }
    StoredToken stored = token(doc.get(TOKEN));
    return Optional.of(new ReplacedExporterPosition(client, stored.position(), stored.problem()));
  }

  @Override
  public void save(Checkpoint checkpoint) {
    collection.updateOne(
        filter(checkpoint.client()), update(checkpoint), new UpdateOptions().upsert(true));
  }

  @Override
  public void save(Checkpoint checkpoint, Lease lease) {
    // one document: the position and the Go exporter's token move only with the current epoch
    if (collection.updateOne(held(lease), update(checkpoint)).getMatchedCount() == 0) {
      throw new LeaseLostException(lease, "writing the checkpoint");
    }
  }

  private static Bson update(Checkpoint checkpoint) {
    String client = checkpoint.client();
    BsonDocument resumeToken = ResumeToken.of(checkpoint.position());
    Bson token = resumeToken == null ? Updates.unset(TOKEN) : Updates.set(TOKEN, resumeToken);
    return Updates.combine(
        Updates.setOnInsert("_id", client),
        Updates.set(CLIENT_NAME, client),
        token,
        Updates.set("startAtOperationTime", timestamp(checkpoint.startAt())),
        Updates.set("backfillCutoff", date(checkpoint.backfillCutoff())),
        Updates.set("lastEventTime", date(checkpoint.lastEventTime())),
        Updates.set(UPDATED_AT, date(checkpoint.updatedAt())),
        Updates.set("takenOverAt", date(checkpoint.takenOverAt())));
  }

  @Override
  public Optional<Lease> acquireLease(
      String client, String holder, Duration duration, Instant now) {
    try {
      collection.updateOne(
          filter(client),
          Updates.combine(
              Updates.setOnInsert("_id", client), Updates.setOnInsert(CLIENT_NAME, client)),
          new UpdateOptions().upsert(true));
    } catch (MongoWriteException e) {
      if (e.getError().getCode() != DUPLICATE_KEY) {
        throw e;
      }
      // another exporter created the document at the same moment: it is there now
    }
    Instant expiresAt = now.plus(duration);
    BsonDocument taken =
        collection.findOneAndUpdate(
            Filters.and(
                filter(client),
                Filters.or(
                    Filters.exists(LEASE_HOLDER, false),
                    Filters.lt(LEASE_EXPIRES_AT, date(now)),
                    Filters.eq(LEASE_HOLDER, holder))),
            Updates.combine(
                Updates.set(LEASE_HOLDER, holder),
                Updates.set(LEASE_EXPIRES_AT, date(expiresAt)),
                Updates.inc(LEASE_EPOCH, 1L)),
            new FindOneAndUpdateOptions().returnDocument(ReturnDocument.AFTER));
    return taken == null
        ? Optional.empty()
        : Optional.of(
            new Lease(client, holder, taken.getNumber(LEASE_EPOCH).longValue(), expiresAt));
  }

  @Override
  public Optional<Lease> renewLease(Lease lease, Duration duration, Instant now) {
    Instant expiresAt = now.plus(duration);
    return collection
                .updateOne(held(lease), Updates.set(LEASE_EXPIRES_AT, date(expiresAt)))
                .getMatchedCount()
            == 0
        ? Optional.empty()
        : Optional.of(lease.renewedUntil(expiresAt));
  }

  @Override
  public void releaseLease(Lease lease) {
    collection.updateOne(held(lease), Updates.set(LEASE_EXPIRES_AT, date(Instant.EPOCH)));
  }

  /** The client's document while {@code lease} is its current term. */
  private static Bson held(Lease lease) {
    return Filters.and(filter(lease.client()), Filters.eq(LEASE_EPOCH, lease.epoch()));
  }

  private BsonDocument find(String client) {
    return collection.find(filter(client)).first();
  }

  /** The replaced exporter's key; {@code _id} for checkpoints written before it was shared. */
  private static Bson filter(String client) {
    return or(eq(CLIENT_NAME, client), eq("_id", client));
  }

  /**
   * A stored token: the change-stream token document, as the Go driver writes a {@code bson.Raw}
   * token, or binary data holding one, as it writes the token bytes of an event.
   */
  private static StoredToken token(BsonValue value) {
    if (value == null || value.isNull()) {
      return new StoredToken(null, "no resumeToken is stored");
    }
    if (value.isDocument() && !value.asDocument().isEmpty()) {
      return new StoredToken(value.asDocument(), null);
    }
    if (value.isBinary()) {
      try {
        BsonDocument decoded =
            new BsonDocumentCodec()
                .decode(
                    new RawBsonDocument(value.asBinary().getData()).asBsonReader(),
                    DecoderContext.builder().build());
        if (!decoded.isEmpty()) {
          return new StoredToken(decoded, null);
        }
      } catch (RuntimeException e) {
        // not a BSON document: reported below
      }
      return new StoredToken(null, "resumeToken is binary data that is not a change-stream token");
    }
    return new StoredToken(
        null,
        "resumeToken is "
            + (value.isDocument() ? "an empty document" : "a " + value.getBsonType())
            + ", not a change-stream token");
  }

  private record StoredToken(BsonDocument token, String problem) {
    ResumeToken position() {
      return token == null ? null : new ResumeToken(token);
    }
  }

  private static BsonValue timestamp(Instant instant) {
    return instant == null ? BsonNull.VALUE : new BsonTimestamp((int) instant.getEpochSecond(), 0);
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
