package io.nvsentinel.exporter.delivery;

import java.time.Instant;
import org.bson.BsonValue;

/**
 * An event that could not be delivered, kept with everything needed to understand and re-send it.
 *
 * @param id the CloudEvent id, or {@code undecodable:<_id>} for a document that never became one
 * @param kind {@code rejected} (the sink refused it), {@code exhausted} (retries ran out) or {@code
 *     undecodable} (the document holds no usable health event)
 * @param lastStatus the sink's last HTTP status, 0 when it never answered
 * @param cloudEvent the CloudEvent JSON as it was sent; {@code null} for undecodable documents
 */
public record DeadLetter(
    String id,
    BsonValue documentId,
    String kind,
    String reason,
    int lastStatus,
    int attempts,
    Instant firstAttemptAt,
    Instant lastAttemptAt,
    String cloudEvent) {}
