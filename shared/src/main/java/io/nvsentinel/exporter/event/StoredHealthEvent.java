package io.nvsentinel.exporter.event;

import java.time.Instant;
import java.util.List;
import org.bson.BsonObjectId;
import org.bson.BsonValue;

/**
 * A decoded datastore document: its identity, when it was stored, the event, and what the decoder
 * had to repair on the way.
 *
 * @param createdAt when the platform connector stored it; {@code null} if the document lacks it
 */
public record StoredHealthEvent(
    BsonValue id, Instant createdAt, HealthEvent event, List<DecodeWarning> warnings) {

  public StoredHealthEvent {
    warnings = List.copyOf(warnings);
  }

  /**
   * The best time the document itself holds for this event: when it was generated, else when it was
   * stored, else the creation time inside an ObjectId; {@code null} only when none exists.
   */
  public Instant eventTime() {
    if (event.generatedTimestamp() != null) {
      return event.generatedTimestamp();
    }
    if (createdAt != null) {
      return createdAt;
    }
    if (id instanceof BsonObjectId objectId) {
      return objectId.getValue().getDate().toInstant();
    }
    return null;
  }
}
