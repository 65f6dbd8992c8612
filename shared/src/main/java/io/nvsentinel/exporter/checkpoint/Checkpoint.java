package io.nvsentinel.exporter.checkpoint;

import java.time.Instant;
import org.bson.BsonDocument;
import org.bson.BsonTimestamp;

/**
 * The live exporter's durable position in the change stream, and the hand-off point to the
 * backfill.
 *
 * @param client the exporter instance this belongs to
 * @param resumeToken the token after the last event that is delivered or dead-lettered, together
 *     with every event before it; {@code null} until the first one
 * @param startAtOperationTime where the stream starts while there is no token yet
 * @param backfillCutoff events stored before this instant are the backfill's, from it on the
 *     stream's; set once, on the first start
 * @param lastEventTime cluster time of the event the token points after; {@code null} until one
 */
public record Checkpoint(
    String client,
    BsonDocument resumeToken,
    BsonTimestamp startAtOperationTime,
    Instant backfillCutoff,
    Instant lastEventTime,
    Instant updatedAt) {

  /** The same checkpoint advanced past an event. */
  public Checkpoint advancedTo(BsonDocument token, Instant eventTime, Instant now) {
    return new Checkpoint(
        client,
        token,
        startAtOperationTime,
        backfillCutoff,
        eventTime == null ? lastEventTime : eventTime,
        now);
  }

  /** The same checkpoint restarting from {@code startAt}, forgetting an unusable token. */
  public Checkpoint restartingAt(BsonTimestamp startAt, Instant now) {
    return new Checkpoint(client, null, startAt, backfillCutoff, lastEventTime, now);
  }
}
