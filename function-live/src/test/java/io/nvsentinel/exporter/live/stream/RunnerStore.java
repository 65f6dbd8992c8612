package io.nvsentinel.exporter.live.stream;

import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.config.TestProperties;
import io.nvsentinel.exporter.store.Datastore;
import java.util.List;
import java.util.Set;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * One datastore the runner contract runs against, fresh for each test: where the health events are
 * stored, the change stream over them, and the exporter's own checkpoints, gap windows and dead
 * letters. Documents are given as MongoDB documents; a store that keeps JSON stores their JSON.
 */
interface RunnerStore extends AutoCloseable {

  /** Points the exporter's configuration at this store. */
  void configure(TestProperties config);

  /** The store as the exporter sees it, for the configuration {@link #configure} made. */
  Datastore datastore(ExporterProperties properties, MeterRegistry meters);

  /** Stores the documents, in this order. */
  void insert(List<BsonDocument> docs);

  /** Whether this store can hold the document at all. */
  default boolean holds(BsonDocument doc) {
    return true;
  }

  /** The {@code _id} the exported event names, for a document stored with {@code documentId}. */
  BsonValue storedId(BsonValue documentId);

  /** The {@code _id}s of the stored documents that {@code checkpoint} says were accounted for. */
  Set<BsonValue> accountedFor(Checkpoint checkpoint);

  /** What the source's cursor throws when its connection breaks. */
  RuntimeException connectionBroken();

  /** Stores the replaced (Go) exporter's position, in its own form, right after {@code doc}. */
  void replacedExporterStoredPositionAfter(String client, BsonDocument doc);

  /** Fails unless the replaced exporter, rolled back to, would continue from {@code checkpoint}. */
  void assertReplacedExporterContinuesFrom(String client, Checkpoint checkpoint);

  @Override
  void close() throws Exception;
}
