package io.nvsentinel.exporter.live.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.metrics.ExporterMetric;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code health_events_exporter_gap_windows_pending}: the intervals the stream lost that no
 * backfill has exported yet, so the live pod's metrics show whether the backfill keeps up. Read
 * from the gap window store at most every {@code maxAge}, off the scrape's thread: a scrape never
 * waits for the datastore, and while the datastore is out the last count stays.
 */
public final class PendingGapWindows implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PendingGapWindows.class);

  private final GapWindowStore gaps;
  private final Clock clock;
  private final Duration maxAge;
  private final AtomicLong pending = new AtomicLong();
  private final AtomicLong readAt = new AtomicLong();
  private final AtomicBoolean reading = new AtomicBoolean();
  private final ExecutorService reader =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread thread = new Thread(r, "gap-windows-gauge");
            thread.setDaemon(true);
            return thread;
          });

  public PendingGapWindows(
      GapWindowStore gaps, MeterRegistry meters, Clock clock, Duration maxAge) {
    this.gaps = gaps;
    this.clock = clock;
    this.maxAge = maxAge;
    Gauge.builder(ExporterMetric.GAP_WINDOWS_PENDING.meterName(), this, PendingGapWindows::value)
        .description("Lost intervals recorded for the backfill and not exported yet")
        .register(meters);
  }

  double value() {
    long now = clock.millis();
    if (now - readAt.get() >= maxAge.toMillis() && reading.compareAndSet(false, true)) {
      reader.execute(
          () -> {
            try {
              pending.set(gaps.pending().size());
              readAt.set(clock.millis());
            } catch (RuntimeException e) {
              log.debug("could not count the pending gap windows: {}", e.toString());
            } finally {
              reading.set(false);
            }
          });
    }
    return pending.get();
  }

  @Override
  public void close() {
    reader.shutdownNow();
  }
}
