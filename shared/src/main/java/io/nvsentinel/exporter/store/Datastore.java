package io.nvsentinel.exporter.store;

import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * Everything the exporter reads from and keeps in NVSentinel's datastore, one implementation per
 * store ({@code store.mongo}, {@code store.postgres}), each registered by an auto-configuration
 * active for its {@link StoreProvider#PROPERTY provider}. Driver types and driver failures stay
 * behind it: what comes out is documents, positions of the store's own making, and the exceptions
 * of this package.
 */
public interface Datastore {

  /** Where the health events are, for log lines; never credentials. */
  String location();

  CheckpointStore checkpoints();

  GapWindowStore gapWindows();

  DeadLetterStore deadLetters();

  /** The change stream of the health events, of these operation types. */
  ChangeSource changeSource(List<String> operationTypes);

  /** The events stored in {@code [start, end)}, at most {@code maxEvents}, a page at a time. */
  WindowReader windowReader(Instant start, Instant end, long maxEvents, int pageSize);

  /** How many events are stored in {@code [start, end)}. */
  long count(Instant start, Instant end);

  /** The stored event with this id, as the decoder reads it. */
  Optional<BsonDocument> find(BsonValue id);
}
