package io.nvsentinel.exporter.live.changestream;

import com.mongodb.MongoException;
import com.mongodb.MongoServerException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindow;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.delivery.DeliveryInterruptedException;
import io.nvsentinel.exporter.live.LiveProperties;
import io.nvsentinel.exporter.live.function.ChangeEvent;
import io.nvsentinel.exporter.live.function.ExportResult;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.bson.BsonDocument;
import org.bson.BsonTimestamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.LivenessState;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.retry.RetryException;
import org.springframework.core.retry.RetryListener;
import org.springframework.core.retry.RetryPolicy;
import org.springframework.core.retry.RetryState;
import org.springframework.core.retry.RetryTemplate;
import org.springframework.core.retry.Retryable;

/**
 * Feeds the export function from the change stream: one reader, {@code exporter.live.workers}
 * concurrent deliveries, and a checkpoint that only ever moves over events that are delivered or
 * dead-lettered, in stream order.
 */
public final class ChangeStreamRunner implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(ChangeStreamRunner.class);

  /** Server errors that mean the stored token can no longer be resumed from. */
  static final Set<Integer> UNUSABLE_TOKEN_CODES = Set.of(9, 260, 280, 286);

  static final long POLL_MILLIS = 500;

  /** Where the stream is: the token after an event and that event's cluster time. */
  record Position(BsonDocument token, Instant clusterTime) {}

  private final ChangeStreamSource source;
  private final Function<ChangeEvent, ExportResult> export;
  private final CheckpointStore checkpoints;
  private final GapWindowStore gaps;
  private final LiveProperties live;
  private final ExporterProperties.Datastore datastore;
  private final String clientName;
  private final Clock clock;
  private final ApplicationEventPublisher events;

  private final CommitWindow<Position> window;

  /**
   * An export normally ends delivered or dead-lettered. When it can do neither (the dead-letter
   * store is unreachable, say) the event must not be skipped: it is tried again, ever more slowly,
   * and the checkpoint waits for it. Only shutdown ends the wait.
   */
  private final RetryTemplate exportUntilAccountedFor =
      new RetryTemplate(
          RetryPolicy.builder()
              .maxRetries(Long.MAX_VALUE)
              .delay(Duration.ofSeconds(1))
              .multiplier(2)
              .maxDelay(Duration.ofMinutes(1))
              .predicate(e -> !interrupted(e))
              .build());

  {
    exportUntilAccountedFor.setRetryListener(
        new RetryListener() {
          @Override
          public void beforeRetry(RetryPolicy policy, Retryable<?> retryable, RetryState state) {
            log.error(
                "{} could be neither delivered nor set aside (attempt {}), trying again; the"
                    + " checkpoint waits for it: {}",
                retryable.getName(),
                state.getRetryCount() + 1,
                String.valueOf(state.getLastException()));
          }
        });
  }

  private final AtomicReference<Position> committed = new AtomicReference<>();
  private final AtomicInteger unflushed = new AtomicInteger();
  private final AtomicLong heartbeat = new AtomicLong();
  private final AtomicLong lastFlushEpochMillis = new AtomicLong();
  private final Counter received;
  private final Counter recoveries;
  private final Counter gapWindows;

  private final Object stopSignal = new Object();
  private volatile boolean running;
  private volatile boolean streamOpen;
  private volatile Position lastRead;
  private Checkpoint checkpoint;
  private Position lastFlushed;
  private Thread reader;
  private ExecutorService workers;
  private ScheduledExecutorService housekeeping;

  public ChangeStreamRunner(
      ChangeStreamSource source,
      Function<ChangeEvent, ExportResult> export,
      CheckpointStore checkpoints,
      GapWindowStore gaps,
      LiveProperties live,
      ExporterProperties properties,
      MeterRegistry meters,
      Clock clock,
      ApplicationEventPublisher events) {
    this.source = source;
    this.export = export;
    this.checkpoints = checkpoints;
    this.gaps = gaps;
    this.live = live;
    this.datastore = properties.datastore();
    this.clientName = properties.resumeToken().clientName();
    this.clock = clock;
    this.events = events;
    this.window = new CommitWindow<>(live.maxInFlight());
    this.received =
        Counter.builder("health_events_exporter_events_received")
            .description("Changes read from the change stream")
            .register(meters);
    this.recoveries =
        Counter.builder("change_stream_resume_token_recoveries")
            .description("Restarts from now after the stored resume token became unusable")
            .register(meters);
    this.gapWindows =
        Counter.builder("health_events_exporter_gap_windows")
            .description("Intervals the stream lost, recorded for the backfill")
            .register(meters);
    Gauge.builder(
            "health_events_exporter_resume_token_update_timestamp",
            lastFlushEpochMillis,
            v -> v.get() / 1000.0)
        .description("When the checkpoint was last written (seconds since the epoch)")
        .register(meters);
    Gauge.builder("health_events_exporter_events_in_flight", window, CommitWindow::inFlight)
        .description("Events read and not yet delivered or dead-lettered")
        .register(meters);
    Gauge.builder("health_events_exporter_export_lag_seconds", this, ChangeStreamRunner::lagSeconds)
        .description("Now minus the cluster time of the last committed event")
        .register(meters);
  }

  @Override
  public synchronized void start() {
    if (running) {
      return;
    }
    checkpoint = checkpoints.load(clientName).orElseGet(this::firstStart);
    running = true;
    heartbeat.set(clock.millis());
    workers = Executors.newFixedThreadPool(live.workers(), named("export-worker"));
    housekeeping = Executors.newSingleThreadScheduledExecutor(named("checkpoint"));
    long flushMillis = live.tokenFlushInterval().toMillis();
    housekeeping.scheduleWithFixedDelay(
        this::flushQuietly, flushMillis, flushMillis, TimeUnit.MILLISECONDS);
    housekeeping.scheduleWithFixedDelay(this::watchdog, 1, 1, TimeUnit.SECONDS);
    reader = named("change-stream-reader").newThread(this::readLoop);
    reader.start();
  }

  private Checkpoint firstStart() {
    Instant now = clock.instant();
    BsonTimestamp startAt = timestamp(now.minus(live.startOverlap()));
    Checkpoint first = new Checkpoint(clientName, null, startAt, now, null, now);
    checkpoints.save(first);
    log.info(
        "no checkpoint for client '{}': streaming from {} on; the backfill covers events stored before {}",
        clientName,
        now.minus(live.startOverlap()),
        now);
    return first;
  }

  private void readLoop() {
    long reconnectMillis = 500;
    while (running) {
      try (ChangeStreamSource.Cursor cursor = openCursor()) {
        streamOpen = true;
        AvailabilityChangeEvent.publish(events, this, ReadinessState.ACCEPTING_TRAFFIC);
        reconnectMillis = 500;
        while (running) {
          heartbeat.set(clock.millis());
          ChangeEvent change = cursor.tryNext();
          if (change != null) {
            dispatch(change);
          }
        }
      } catch (MongoServerException e) {
        if (UNUSABLE_TOKEN_CODES.contains(e.getCode())) {
          recoverFromUnusableToken(e);
        } else {
          reconnectMillis = pauseBeforeReconnect(e, reconnectMillis);
        }
      } catch (MongoException e) {
        reconnectMillis = pauseBeforeReconnect(e, reconnectMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } finally {
        if (streamOpen) {
          streamOpen = false;
          AvailabilityChangeEvent.publish(events, this, ReadinessState.REFUSING_TRAFFIC);
        }
      }
    }
  }

  private ChangeStreamSource.Cursor openCursor() {
    Position resumeFrom = lastRead != null ? lastRead : committed.get();
    synchronized (this) {
      if (resumeFrom != null) {
        return source.open(resumeFrom.token(), null);
      }
      return source.open(checkpoint.resumeToken(), checkpoint.startAtOperationTime());
    }
  }

  private void dispatch(ChangeEvent change) throws InterruptedException {
    received.increment();
    Position position = new Position(change.resumeToken(), change.clusterTime());
    long sequence;
    while ((sequence = window.register(position, POLL_MILLIS)) < 0) {
      heartbeat.set(clock.millis());
      if (!running) {
        return;
      }
    }
    lastRead = position;
    long seq = sequence;
    workers.execute(() -> process(change, seq));
  }

  private void process(ChangeEvent change, long sequence) {
    Retryable<ExportResult> exportIt =
        new Retryable<>() {
          @Override
          public ExportResult execute() {
            return export.apply(change);
          }

          /** Only logs ask for it, so the id is not computed for every event. */
          @Override
          public String getName() {
            return "event "
                + EventIds.of(
                    datastore.database(), datastore.collection(), change.document().get("_id"));
          }
        };
    try {
      ExportResult result = exportUntilAccountedFor.execute(exportIt);
      if (log.isDebugEnabled()) {
        log.debug(
            "{} {} after {} attempt(s)", exportIt.getName(), result.outcome(), result.attempts());
      }
      CommitWindow.Committed<Position> moved = window.finish(sequence);
      if (moved != null) {
        committed.set(moved.position());
        if (unflushed.addAndGet(moved.events()) >= live.tokenFlushEvents()) {
          housekeeping.execute(this::flushQuietly);
        }
      }
    } catch (RetryException e) {
      // interrupted by shutdown: the event stays uncommitted and is sent again after a restart
      log.info("{} left uncommitted: {}", exportIt.getName(), e.getLastException().toString());
    }
  }

  private static boolean interrupted(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof DeliveryInterruptedException || t instanceof InterruptedException) {
        return true;
      }
    }
    return Thread.currentThread().isInterrupted();
  }

  /** Writes the committed position, if it moved since the last write. */
  synchronized void flush() {
    Position position = committed.get();
    if (position == null || position == lastFlushed) {
      return;
    }
    unflushed.set(0);
    Instant now = clock.instant();
    checkpoint = checkpoint.advancedTo(position.token(), position.clusterTime(), now);
    checkpoints.save(checkpoint);
    lastFlushed = position;
    lastFlushEpochMillis.set(now.toEpochMilli());
  }

  private void flushQuietly() {
    try {
      flush();
    } catch (RuntimeException e) {
      log.warn("could not write the checkpoint, will try again: {}", e.toString());
    }
  }

  private void recoverFromUnusableToken(MongoServerException e) {
    Instant now = clock.instant();
    Instant lostFrom;
    synchronized (this) {
      Position read = lastRead;
      lostFrom =
          read != null && read.clusterTime() != null
              ? read.clusterTime()
              : checkpoint.lastEventTime() != null
                  ? checkpoint.lastEventTime()
                  : checkpoint.updatedAt();
      checkpoint = checkpoint.restartingAt(timestamp(now.minus(live.startOverlap())), now);
      checkpoints.save(checkpoint);
      lastRead = null;
      committed.set(null);
      lastFlushed = null;
    }
    GapWindow gap =
        gaps.record(
            clientName,
            lostFrom,
            now,
            "resume token unusable (server error " + e.getCode() + "): " + e.getMessage(),
            now);
    recoveries.increment();
    gapWindows.increment();
    log.warn(
        "the stored resume token can no longer be used (server error {}: {}); restarted the stream"
            + " from now and recorded the lost interval {} .. {} as gap window {} for the backfill",
        e.getCode(),
        e.getMessage(),
        gap.start(),
        gap.end(),
        gap.id());
  }

  private long pauseBeforeReconnect(MongoException e, long millis) {
    if (!running) {
      return millis;
    }
    log.warn("change stream failed, reopening in {} ms: {}", millis, e.toString());
    synchronized (stopSignal) {
      try {
        // woken at once by stop(), so a shutdown never waits out a reconnect pause
        long deadline = System.currentTimeMillis() + millis;
        for (long left = millis;
            running && left > 0;
            left = deadline - System.currentTimeMillis()) {
          stopSignal.wait(left);
        }
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
        running = false;
      }
    }
    return Math.min(millis * 2, 30_000);
  }

  private void watchdog() {
    boolean stuck = running && clock.millis() - heartbeat.get() > live.stuckAfter().toMillis();
    AvailabilityChangeEvent.publish(
        events, this, stuck ? LivenessState.BROKEN : LivenessState.CORRECT);
  }

  private double lagSeconds() {
    Position position = committed.get();
    if (position == null || position.clusterTime() == null) {
      return 0;
    }
    return Math.max(
        0, Duration.between(position.clusterTime(), clock.instant()).toMillis() / 1000.0);
  }

  @Override
  public void stop() {
    synchronized (this) {
      if (!running) {
        return;
      }
      running = false;
    }
    synchronized (stopSignal) {
      stopSignal.notifyAll();
    }
    try {
      reader.join(POLL_MILLIS * 4 + 1_000);
      workers.shutdown();
      if (!workers.awaitTermination(live.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn(
            "{} deliveries still in flight after {}; they stay uncommitted and will be sent again",
            window.inFlight(),
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
    workers.shutdownNow();
    reader.interrupt();
    housekeeping.awaitTermination(10, TimeUnit.SECONDS);
    workers.awaitTermination(10, TimeUnit.SECONDS);
    reader.join(10_000);
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  /** Whether the stream is open, for readiness. */
  public boolean streamOpen() {
    return streamOpen;
  }

  /** Stop after the web server, so probes see the shutdown; start after everything else. */
  @Override
  public int getPhase() {
    return Integer.MAX_VALUE - 100;
  }

  private static BsonTimestamp timestamp(Instant instant) {
    return new BsonTimestamp((int) instant.getEpochSecond(), 0);
  }

  private static java.util.concurrent.ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, prefix + "-" + n.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}
