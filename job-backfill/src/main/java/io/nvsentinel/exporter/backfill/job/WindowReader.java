package io.nvsentinel.exporter.backfill.job;

import java.time.Instant;
import org.bson.BsonDocument;
import org.springframework.batch.infrastructure.item.ItemStreamReader;

/**
 * Reads a window's stored health events in storage order, at most {@code maxEvents}, restartable
 * after its last committed chunk. One per datastore.
 */
interface WindowReader extends ItemStreamReader<BsonDocument> {

  /**
   * When the window stopped at {@code maxEvents}: the storage time of the first event it left
   * unexported. {@code null} when it was not cut short.
   */
  Instant firstLeftOut();
}
