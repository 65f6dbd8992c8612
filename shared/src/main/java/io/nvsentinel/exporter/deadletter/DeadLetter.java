package io.nvsentinel.exporter.deadletter;

import java.time.Instant;
import org.bson.BsonValue;

/**
 * An event that could not be delivered, kept with everything needed to understand and re-send it.
 *
 * @param id the CloudEvent id, or {@code undecodable:<_id>} for a document that never became one
 * @param kind why it was set aside
 * @param lastStatus the sink's last HTTP status, 0 when it never answered
 * @param cloudEvent the CloudEvent JSON as it was sent; {@code null} for undecodable documents
 */
public record DeadLetter(
    String id,
    BsonValue documentId,
    Kind kind,
    String reason,
    int lastStatus,
    int attempts,
    Instant firstAttemptAt,
    Instant lastAttemptAt,
    String cloudEvent) {

  /** Why an event was set aside; the label is what the store and the metrics say. */
  public enum Kind {
    /** The sink refused the event (a final 4xx). */
    REJECTED("rejected"),
    /** Retries ran out while the sink took other events. */
    EXHAUSTED("exhausted"),
    /** The document holds no usable health event. */
    UNDECODABLE("undecodable");

    private final String label;

    Kind(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }

    /** The kind with this label; {@code null} for none. */
    public static Kind of(String label) {
      for (Kind kind : values()) {
        if (kind.label.equals(label)) {
          return kind;
        }
      }
      return null;
    }
  }
}
