package io.nvsentinel.exporter.backfill;

import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.store.StreamPosition;
import java.util.List;
import java.util.Map;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * The datastore a backfill test runs against: where the health events are stored, and the live
 * exporter's checkpoint and gap windows the job reads. Documents are given as MongoDB documents,
 * with {@code createdAt} a date.
 */
public interface BackfillStore extends AutoCloseable {

  /** The job's settings for this store. */
  Map<String, String> settings();

  /** Stores the documents. */
  void insert(List<BsonDocument> docs);

  /** Whether this store can hold the document at all. */
  default boolean holds(BsonDocument doc) {
    return true;
  }

  /** The CloudEvent id of the document stored with {@code documentId}. */
  String eventId(BsonValue documentId);

  CheckpointStore checkpoints();

  GapWindowStore gaps();

  long deadLetters();

  /** A position of this store's own making, as a checkpoint taken over from the Go exporter. */
  StreamPosition aTakenOverPosition();

  @Override
  void close();
}
