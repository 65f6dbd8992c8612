package io.nvsentinel.exporter.live.stream;

import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.checkpoint.GapWindow;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.live.metrics.LiveMetrics;
import io.nvsentinel.exporter.store.ChangeHistoryLostException;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What to do when the stream cannot continue from the stored position ({@link
 * ChangeHistoryLostException}: MongoDB's oplog rolled past the resume token, PostgreSQL's change
 * log was pruned past the position): record the lost interval as a gap window for the backfill, and
 * only then restart the stream from now.
 *
 * <p>The interval runs from the last committed event's cluster time to now, each end widened by
 * {@code startOverlap} so clock skew between the exporter and the database cannot open a hole;
 * events in the overlaps are sent twice, with the same ids. An interval that comes out empty or
 * inverted (a clock far off) is clamped to the overlap before now rather than stored backwards.
 * Recording is idempotent, so when it or the checkpoint write fails, the caller pauses and the
 * whole recovery is tried again: the unusable token is still stored, so nothing is lost.
 */
final class TokenRecovery {

  private static final Logger log = LoggerFactory.getLogger(TokenRecovery.class);

  private final GapWindowStore gaps;
  private final Checkpointing checkpointing;
  private final String client;
  private final Duration overlap;
  private final Supplier<Instant> serverTime;
  private final LiveMetrics metrics;

  TokenRecovery(
      GapWindowStore gaps,
      Checkpointing checkpointing,
      String client,
      Duration overlap,
      Supplier<Instant> serverTime,
      LiveMetrics metrics) {
    this.gaps = gaps;
    this.checkpointing = checkpointing;
    this.client = client;
    this.overlap = overlap;
    this.serverTime = serverTime;
    this.metrics = metrics;
  }

  /**
   * Records the gap, then restarts the checkpoint and its window from now.
   *
   * @param phase {@link LiveMetrics#INITIALIZATION} or {@link LiveMetrics#RUNTIME}, for the meter
   * @throws RuntimeException when either write fails; nothing was restarted then
   */
  GapWindow recover(ChangeHistoryLostException lost, String phase) {
    Position lastCommitted = checkpointing.window().committed();
    Instant now = serverTime.get();
    Checkpoint checkpoint = checkpointing.current();
    Instant lostFrom =
        lastCommitted != null && lastCommitted.clusterTime() != null
            ? lastCommitted.clusterTime()
            : checkpoint.lastEventTime() != null
                ? checkpoint.lastEventTime()
                : checkpoint.updatedAt();
    Instant restartAt = now.minus(overlap);
    Instant start = lostFrom.minus(overlap);
    if (!start.isBefore(now)) {
      log.warn(
          "the lost interval would start at {}, not before now ({}): clocks disagree; clamped to"
              + " start at {}",
          start,
          now,
          restartAt);
      start = now.equals(restartAt) ? now.minusSeconds(1) : restartAt;
    }
    GapWindow gap = gaps.record(client, start, now, lost.getMessage(), now);
    checkpointing.restartAt(restartAt, now);
    metrics.recovered(phase);
    log.warn(
        "the stream cannot continue from its stored position ({}); restarted it from {} and"
            + " recorded the lost interval {} .. {} as gap window {} for the backfill",
        lost.getMessage(),
        restartAt,
        gap.start(),
        gap.end(),
        gap.id());
    return gap;
  }
}
