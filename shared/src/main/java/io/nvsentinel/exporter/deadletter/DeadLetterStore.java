package io.nvsentinel.exporter.deadletter;

import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.metrics.ExporterMetric;
import java.time.Instant;
import java.util.List;
import org.bson.BsonDocument;

/**
 * Events set aside with their reason instead of being dropped, in the datastore. One entry per
 * CloudEvent id, so failing the same event again updates its entry; each entry recorded counts
 * {@link #METRIC} by kind.
 */
public interface DeadLetterStore {

  String METRIC = ExporterMetric.DEAD_LETTERS.meterName();

  /** Records an event the sink refused or that ran out of retries. */
  void deliveryFailed(
      OutgoingEvent event, DeadLetter.Kind kind, FailedAttempt last, int attempts, Instant first);

  /**
   * Records a datastore document that holds no usable health event, with the reason, so it can be
   * inspected and fixed.
   */
  void undecodable(BsonDocument document, String reason);

  /** The dead letters, oldest first. */
  List<DeadLetter> list(int limit);

  /** The dead letters of one kind, oldest first. */
  List<DeadLetter> list(int limit, DeadLetter.Kind kind);

  long count();

  long count(DeadLetter.Kind kind);

  /** Removes the entry, after it was delivered on a re-drive. */
  void remove(String id);
}
