package io.nvsentinel.exporter.live.stream;

import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindow;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.checkpoint.ReplacedExporterPosition;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Taking over from the replaced (Go) exporter on a first start: where this exporter has no
 * checkpoint but that exporter stored a position for the same client, the stream continues from
 * exactly that token and no backfill cutoff is stored — that exporter exported the history before
 * it. A stored value that is no token cannot be continued from: the history it may not cover, the
 * default backfill window up to now, becomes a gap window, and the stream starts now.
 *
 * <p>A token the server no longer knows is handled like any other unusable token ({@link
 * TokenRecovery}); the gap it records starts at the token's cluster time, or where that cannot be
 * read, at the start of the default backfill window.
 */
final class Takeover {

  private static final Logger log = LoggerFactory.getLogger(Takeover.class);

  private final CheckpointStore store;
  private final GapWindowStore gaps;
  private final String client;
  private final Duration maxAge;
  private final Duration overlap;
  private final Clock clock;

  Takeover(
      CheckpointStore store,
      GapWindowStore gaps,
      String client,
      Duration maxAge,
      Duration overlap,
      Clock clock) {
    this.store = store;
    this.gaps = gaps;
    this.client = client;
    this.maxAge = maxAge;
    this.overlap = overlap;
    this.clock = clock;
  }

  /** The checkpoint continuing the replaced exporter's position, stored; empty when it has none. */
  Optional<Checkpoint> attempt() {
    return store.replacedExporterPosition(client).map(p -> continueFrom(p, null));
  }

  /**
   * {@code ours}, or where the replaced exporter's position lies past it (it ran on after a
   * roll-back), the checkpoint continuing from that position instead; the log says which.
   */
  Checkpoint laterOf(Checkpoint ours) {
    Optional<ReplacedExporterPosition> theirs = store.replacedExporterPositionPast(ours);
    if (theirs.isEmpty()) {
      log.info(
          "continuing from this exporter's checkpoint for client '{}' (events up to {})",
          client,
          ours.lastEventTime());
      return ours;
    }
    log.warn(
        "the replaced exporter's position for client '{}' in {} lies past this exporter's"
            + " checkpoint (events up to {}): it ran on after a roll-back, so its position wins and"
            + " what it exported is not sent again",
        client,
        store.location(),
        ours.lastEventTime());
    return continueFrom(theirs.get(), ours.backfillCutoff());
  }

  private Checkpoint continueFrom(ReplacedExporterPosition position, Instant backfillCutoff) {
    Instant now = clock.instant();
    Checkpoint checkpoint;
    if (position.position() != null) {
      Optional<Instant> tokenTime = position.position().time();
      checkpoint =
          new Checkpoint(
              client,
              position.position(),
              null,
              backfillCutoff,
              tokenTime.orElse(now.minus(maxAge)),
              now,
              now);
      store.save(checkpoint);
      log.info(
          "taking over from the replaced exporter: continuing the change stream from the position"
              + " it stored for client '{}' in {} (events up to {}); no backfill cutoff is stored,"
              + " that exporter exported the history before it",
          client,
          store.location(),
          tokenTime.map(Instant::toString).orElse("an unreadable time"));
    } else {
      Instant startAt = now.minus(overlap);
      GapWindow gap =
          gaps.record(
              client,
              now.minus(maxAge),
              now,
              "the replaced exporter's position could not be continued: " + position.problem(),
              now);
      checkpoint = new Checkpoint(client, null, startAt, null, null, now, now);
      store.save(checkpoint);
      log.warn(
          "the replaced exporter stored a position for client '{}' in {}, but {}; streaming from {}"
              + " on and recorded {} .. {} as gap window {} for the backfill",
          client,
          store.location(),
          position.problem(),
          startAt,
          gap.start(),
          gap.end(),
          gap.id());
    }
    return checkpoint;
  }
}
