package io.nvsentinel.exporter.checkpoint;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The live exporter's durable position in the change stream, and the hand-off point to the
 * backfill.
 *
 * @param client the exporter instance this belongs to
 * @param position where the stream stands after the last event that is delivered or dead-lettered,
 *     together with every event before it; {@code null} until the first one
 * @param startAt where the stream starts while there is no position yet (whole seconds)
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
    StreamPosition position,
    Instant startAt,
    Instant backfillCutoff,
    Instant lastEventTime,
    Instant updatedAt,
    Instant takenOverAt) {

  public Checkpoint {
    // a stream starts at a whole second: MongoDB's operation time has no finer unit
    startAt = startAt == null ? null : startAt.truncatedTo(ChronoUnit.SECONDS);
  }

  /**
   * A first start of this exporter: the stream from {@code startAt}, the backfill before cutoff.
   */
  public static Checkpoint firstStart(
      String client, Instant startAt, Instant backfillCutoff, Instant now) {
    return new Checkpoint(client, null, startAt, backfillCutoff, null, now, null);
  }

  /** The same checkpoint advanced past an event. */
  public Checkpoint advancedTo(StreamPosition after, Instant eventTime, Instant now) {
    return new Checkpoint(
        client,
        after,
        startAt,
        backfillCutoff,
        eventTime == null ? lastEventTime : eventTime,
        now,
        takenOverAt);
  }

  /** The same checkpoint restarting from {@code startAt}, forgetting an unusable position. */
  public Checkpoint restartingAt(Instant startAt, Instant now) {
    return new Checkpoint(client, null, startAt, backfillCutoff, lastEventTime, now, takenOverAt);
  }
}
