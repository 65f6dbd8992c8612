package io.nvsentinel.exporter.store;

import io.nvsentinel.exporter.checkpoint.StreamPosition;
import java.time.Instant;
import org.bson.BsonDocument;

/**
 * One change of the health-event collection, as the change stream (or any other trigger) reports
 * it.
 *
 * @param document the full stored document
 * @param operationType {@code insert}, {@code update}, ...
 * @param position where the stream stands after this change; {@code null} from other triggers
 * @param clusterTime when the database applied the change; {@code null} if unknown
 */
public record ChangeEvent(
    BsonDocument document, String operationType, StreamPosition position, Instant clusterTime) {

  /** A change carrying only the document, as an HTTP trigger posts it. */
  public static ChangeEvent of(BsonDocument document) {
    return new ChangeEvent(document, "insert", null, null);
  }
}
