package io.nvsentinel.exporter.live.stream;

import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.live.config.LiveProperties;
import io.nvsentinel.exporter.live.metrics.LiveMetrics;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checkpoint policy of the live exporter: where a first start begins (and the backfill cutoff
 * it stores), and when the committed position is written — after {@code tokenFlushEvents} committed
 * events, every {@code tokenFlushInterval}, and on shutdown.
 */
final class Checkpointing implements LiveMetrics.StreamState {

  private static final Logger log = LoggerFactory.getLogger(Checkpointing.class);

  private final CheckpointStore store;
  private final Takeover takeover;
  private final String client;
  private final LiveProperties live;
  private final Clock clock;
  private final Supplier<Instant> serverTime;
  private final AtomicInteger unflushed = new AtomicInteger();
  private Checkpoint checkpoint;
  private Position lastWritten;
  private volatile CommitWindow<Position> window;
  private volatile long lastWriteEpochMillis;

  /**
   * @param serverTime the datastore's clock, where a first start begins: the change stream is read
   *     by the server's time, which a pod's clock running ahead would otherwise skip
   */
  Checkpointing(
      CheckpointStore store,
      Takeover takeover,
      String client,
      LiveProperties live,
      Clock clock,
      Supplier<Instant> serverTime) {
    this.store = store;
    this.takeover = takeover;
    this.client = client;
    this.live = live;
    this.clock = clock;
    this.serverTime = serverTime;
    this.window = new CommitWindow<>(live.maxInFlight());
  }

  /** The events in flight of the stream being read. */
  CommitWindow<Position> window() {
    return window;
  }

  /**
   * The stored checkpoint, unless the replaced exporter's position lies past it; else the replaced
   * exporter's position taken over; else, on a first start, a new one with the backfill cutoff.
   */
  synchronized Checkpoint load() {
    checkpoint =
        store.load(client).map(takeover::laterOf).or(takeover::attempt).orElseGet(this::firstStart);
    return checkpoint;
  }

  private Checkpoint firstStart() {
    Instant now = serverTime.get();
    Checkpoint first = Checkpoint.firstStart(client, now.minus(live.startOverlap()), now, now);
    store.save(first);
    log.info(
        "no checkpoint for client '{}': streaming from {} on; the backfill covers events stored"
            + " before {}",
        client,
        now.minus(live.startOverlap()),
        now);
    return first;
  }

  synchronized Checkpoint current() {
    return checkpoint;
  }

  /**
   * Counts events the commit of {@code owner} moved over; true when enough are unwritten to write
   * now. A window given up after an unusable token counts for nothing.
   */
  boolean committed(CommitWindow<Position> owner, int events) {
    return owner == window && unflushed.addAndGet(events) >= live.tokenFlushEvents();
  }

  /** Writes the committed position, if it moved since the last write. */
  synchronized void write() {
    Position committed = window.committed();
    if (committed == null || committed == lastWritten) {
      return;
    }
    unflushed.set(0);
    Instant now = clock.instant();
    checkpoint = checkpoint.advancedTo(committed.position(), committed.clusterTime(), now);
    store.save(checkpoint);
    lastWritten = committed;
    lastWriteEpochMillis = now.toEpochMilli();
  }

  /** Forgets the unusable position and its stream: the next stream starts at {@code startAt}. */
  synchronized void restartAt(Instant startAt, Instant now) {
    Checkpoint restarted = checkpoint.restartingAt(startAt, now);
    store.save(restarted);
    checkpoint = restarted;
    lastWritten = null;
    unflushed.set(0);
    window = new CommitWindow<>(live.maxInFlight());
  }

  @Override
  public long lastWriteEpochMillis() {
    return lastWriteEpochMillis;
  }

  @Override
  public int inFlight() {
    return window.inFlight();
  }

  @Override
  public Instant committedTime() {
    Position committed = window.committed();
    return committed == null ? null : committed.clusterTime();
  }
}
