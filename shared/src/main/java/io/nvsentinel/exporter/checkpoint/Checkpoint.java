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
 *     stream's; set once, on the first start — never when the position was taken over from the
 *     replaced exporter, which exported that history itself
 * @param lastEventTime cluster time of the event the token points after; {@code null} until one.
 *     For a position taken over whose time cannot be read from the token, the start of the default
 *     backfill window, so that a gap recorded from it covers whatever that exporter left
 * @param updatedAt when this was last written
 * @param takenOverAt when this exporter continued from the replaced exporter's position; {@code
 *     null} when it started on its own
 */
public record Checkpoint(
    String client,
    BsonDocument resumeToken,
    BsonTimestamp startAtOperationTime,
    Instant backfillCutoff,
    Instant lastEventTime,
    Instant updatedAt,
    Instant takenOverAt) {

  /**
   * A first start of this exporter: the stream from {@code startAt}, the backfill before cutoff.
   */
  public static Checkpoint firstStart(
      String client, BsonTimestamp startAt, Instant backfillCutoff, Instant now) {
    return new Checkpoint(client, null, startAt, backfillCutoff, null, now, null);
  }

  /** The same checkpoint advanced past an event. */
  public Checkpoint advancedTo(BsonDocument token, Instant eventTime, Instant now) {
    return new Checkpoint(
        client,
        token,
        startAtOperationTime,
        backfillCutoff,
        eventTime == null ? lastEventTime : eventTime,
        now,
        takenOverAt);
  }

  /** The same checkpoint restarting from {@code startAt}, forgetting an unusable token. */
  public Checkpoint restartingAt(BsonTimestamp startAt, Instant now) {
    return new Checkpoint(client, null, startAt, backfillCutoff, lastEventTime, now, takenOverAt);
  }
}
