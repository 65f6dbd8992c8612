package io.nvsentinel.exporter.live.stream;

import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.delivery.SinkAvailability;
import io.nvsentinel.exporter.live.config.LiveProperties;
import io.nvsentinel.exporter.live.function.BatchExport;
import io.nvsentinel.exporter.live.function.ExportResult;
import io.nvsentinel.exporter.live.metrics.LiveMetrics;
import io.nvsentinel.exporter.store.ChangeEvent;
import io.nvsentinel.exporter.store.ChangeHistoryLostException;
import io.nvsentinel.exporter.store.ChangeSource;
import io.nvsentinel.exporter.store.DatastoreUnavailableException;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Feeds the export function from the change stream: one reader, {@code exporter.live.workers}
 * concurrent deliveries, in-flight events in a {@link CommitWindow}. With batched delivery the
 * reader gathers the changes into batches ({@link Gathering}) and each worker exports a batch.
 * Reading pauses while the sink can take no event. The checkpoint policy, the recovery from an
 * unusable token, the probes and the meters each live in their own class; this one starts, reads,
 * dispatches and stops.
 */
public final class ChangeStreamRunner implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(ChangeStreamRunner.class);

  public static final long POLL_MILLIS = ChangeSource.POLL_WAIT.toMillis();

  static final long MAX_RECONNECT_MILLIS = 30_000;

  private final ChangeSource source;
  private final AccountedExport<ChangeEvent, ExportResult> export;
  private final AccountedExport<List<ChangeEvent>, List<ExportResult>> batchExport;
  private final ExporterProperties.Batch batch;
  private final Checkpointing checkpointing;
  private final TokenRecovery recovery;
  private final LiveProbes probes;
  private final LiveMetrics metrics;
  private final LiveProperties live;
  private final SinkAvailability sink;

  private final Object wakeUp = new Object();
  private volatile boolean running;
  private volatile Position lastRead;

  /** Whether a read succeeded since start; a position unusable before is an initialization's. */
  private boolean readSinceStart;

  private Thread reader;
  private ExecutorService workers;
  private ScheduledExecutorService housekeeping;
  private Gathering gathering;

  ChangeStreamRunner(
      ChangeSource source,
      Function<ChangeEvent, ExportResult> export,
      Checkpointing checkpointing,
      TokenRecovery recovery,
      LiveProbes probes,
      LiveMetrics metrics,
      LiveProperties live,
      SinkAvailability sink,
      ExporterProperties.Datastore datastore,
      BatchExport batchExport,
      ExporterProperties.Batch batch) {
    this.source = source;
    this.export = AccountedExport.ofEvents(export, datastore);
    this.batchExport = batch.enabled() ? AccountedExport.ofBatches(batchExport, datastore) : null;
    this.batch = batch;
    this.checkpointing = checkpointing;
    this.recovery = recovery;
    this.probes = probes;
    this.metrics = metrics;
    this.live = live;
    this.sink = sink;
  }

  @Override
  public synchronized void start() {
    if (running) {
      return;
    }
    checkpointing.load();
    running = true;
    probes.beat();
    workers = Executors.newFixedThreadPool(live.workers(), DaemonThreads.named("export-worker"));
    housekeeping = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("checkpoint"));
    long flushMillis = live.tokenFlushInterval().toMillis();
    housekeeping.scheduleWithFixedDelay(
        this::flushQuietly, flushMillis, flushMillis, TimeUnit.MILLISECONDS);
    housekeeping.scheduleWithFixedDelay(probes::update, 1, 1, TimeUnit.SECONDS);
    if (batchExport != null) {
      gathering = new Gathering(batch, batchExport, workers, this::finished);
    }
    reader = DaemonThreads.named("change-stream-reader").newThread(this::readLoop);
    reader.start();
  }

  private void readLoop() {
    long reconnectMillis = POLL_MILLIS;
    while (running) {
      try (ChangeSource.Cursor cursor = openCursor()) {
        probes.streamOpened();
        reconnectMillis = POLL_MILLIS;
        while (running) {
          probes.beat();
          if (sink.problem() != null) {
            pauseWhileTheSinkIsUnavailable();
            continue;
          }
          ChangeEvent change = cursor.tryNext();
          readSinceStart = true;
          if (change != null) {
            dispatch(change);
          } else {
            metrics.caughtUp();
          }
        }
      } catch (ChangeHistoryLostException lost) {
        reconnectMillis = recoverFromLostHistory(lost, reconnectMillis);
      } catch (DatastoreUnavailableException e) {
        reconnectMillis = pauseBeforeReconnect(e, reconnectMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } finally {
        if (probes.streamOpen()) {
          probes.streamClosed();
        }
      }
    }
  }

  private ChangeSource.Cursor openCursor() {
    Position resumeFrom = lastRead != null ? lastRead : checkpointing.window().committed();
    if (resumeFrom != null) {
      return source.open(resumeFrom.position(), null);
    }
    var checkpoint = checkpointing.current();
    return source.open(checkpoint.position(), checkpoint.startAt());
  }

  /**
   * Holds the stream where it is while no event can be delivered; the events in flight keep trying,
   * and the first that gets through ends the pause.
   */
  private void pauseWhileTheSinkIsUnavailable() throws InterruptedException {
    log.warn("reading paused: the sink can take no event now ({})", sink.problem().reason());
    probes.update();
    while (running && sink.problem() != null) {
      probes.beat();
      synchronized (wakeUp) {
        wakeUp.wait(POLL_MILLIS);
      }
    }
    probes.update();
    log.info("reading resumed");
  }

  private void dispatch(ChangeEvent change) throws InterruptedException {
    metrics.received();
    metrics.read(change.clusterTime());
    Position position = new Position(change.position(), change.clusterTime());
    CommitWindow<Position> current = checkpointing.window();
    long sequence;
    while ((sequence = current.register(position, POLL_MILLIS)) < 0) {
      probes.beat();
      if (!running) {
        return;
      }
    }
    lastRead = position;
    long seq = sequence;
    if (gathering != null) {
      gathering.add(change, current, seq);
    } else {
      workers.execute(() -> process(change, current, seq));
    }
  }

  private void process(ChangeEvent change, CommitWindow<Position> owner, long sequence) {
    if (export.apply(change) == null) {
      return; // not accounted for: stays uncommitted
    }
    finished(owner, sequence);
  }

  private void finished(CommitWindow<Position> owner, long sequence) {
    CommitWindow.Committed<Position> moved = owner.finish(sequence);
    if (moved != null && checkpointing.committed(owner, moved.events())) {
      housekeeping.execute(this::flushQuietly);
    }
  }

  /** Writes the committed position, if it moved since the last write. */
  void flush() {
    checkpointing.write();
  }

  private void flushQuietly() {
    try {
      flush();
    } catch (RuntimeException e) {
      log.warn("could not write the checkpoint, will try again: {}", e.toString());
    }
  }

  private long recoverFromLostHistory(ChangeHistoryLostException e, long reconnectMillis) {
    try {
      recovery.recover(e, readSinceStart ? LiveMetrics.RUNTIME : LiveMetrics.INITIALIZATION);
      lastRead = null;
      return POLL_MILLIS;
    } catch (RuntimeException failed) {
      // the lost position is still the stored one, so the next try finds the same gap
      log.error(
          "could not record the interval lost with the stored position; trying again: {}",
          failed.toString());
      return pauseBeforeReconnect(failed, reconnectMillis);
    }
  }

  private long pauseBeforeReconnect(RuntimeException e, long millis) {
    if (!running) {
      return millis;
    }
    log.warn("change stream failed, reopening in {} ms: {}", millis, e.toString());
    synchronized (wakeUp) {
      try {
        // woken at once by stop(); beats meanwhile: an unreachable datastore is a readiness
        // matter, not a reason to restart the pod
        long deadline = System.currentTimeMillis() + millis;
        for (long left = millis;
            running && left > 0;
            left = deadline - System.currentTimeMillis()) {
          probes.beat();
          wakeUp.wait(Math.min(left, 1_000));
        }
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
        running = false;
      }
    }
    return Math.min(millis * 2, MAX_RECONNECT_MILLIS);
  }

  @Override
  public void stop() {
    synchronized (this) {
      if (!running) {
        return;
      }
      running = false;
    }
    synchronized (wakeUp) {
      wakeUp.notifyAll();
    }
    try {
      reader.join(POLL_MILLIS * 4 + 1_000);
      if (gathering != null) {
        // what was gathered but not yet handed over is delivered within the shutdown timeout too
        gathering.handOverTheRest();
      }
      workers.shutdown();
      if (!workers.awaitTermination(live.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn(
            "{} deliveries still in flight after {}; they stay uncommitted and will be sent again",
            checkpointing.window().inFlight(),
            live.shutdownTimeout());
        workers.shutdownNow();
        workers.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      housekeeping.shutdownNow();
      flushQuietly();
      log.info("change stream stopped; checkpoint written");
    }
  }

  /**
   * Stops at once, as a crash would: nothing finishes and nothing more is written. Returns once the
   * threads are gone.
   */
  void halt() throws InterruptedException {
    running = false;
    housekeeping.shutdownNow();
    if (gathering != null) {
      gathering.halt();
    }
    workers.shutdownNow();
    reader.interrupt();
    housekeeping.awaitTermination(10, TimeUnit.SECONDS);
    workers.awaitTermination(10, TimeUnit.SECONDS);
    reader.join(10_000);
  }

  /** What happens on an {@link Error} in a delivery; tests replace the default, a JVM halt. */
  void onFatalError(Consumer<Error> handler) {
    export.onFatalError(handler);
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  /** Whether the stream is open now (readiness reads the same state from {@link LiveProbes}). */
  boolean streamOpen() {
    return probes.streamOpen();
  }

  /** Start after the metrics port and stop before it, so the probes see both. */
  @Override
  public int getPhase() {
    return Integer.MAX_VALUE - 100;
  }
}
