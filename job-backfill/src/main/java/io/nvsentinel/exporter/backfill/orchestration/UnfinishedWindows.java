package io.nvsentinel.exporter.backfill.orchestration;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.metrics.ExporterMetric;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code health_events_exporter_backfill_windows_unfinished}: the windows still to export after a
 * command ran — failed, stopped or abandoned runs and pending gap windows — counted from the job
 * repository when the command ends, so the metrics the job pushes as it exits say whether work is
 * left (0: every known window is complete).
 */
public final class UnfinishedWindows {

  private final WindowListing listing;
  private final AtomicLong unfinished = new AtomicLong();

  public UnfinishedWindows(WindowListing listing, MeterRegistry meters) {
    this.listing = listing;
    Gauge.builder(
            ExporterMetric.BACKFILL_WINDOWS_UNFINISHED.meterName(), unfinished, AtomicLong::get)
        .description("Backfill windows failed, stopped, abandoned or pending when the job ended")
        .register(meters);
  }

  /** Counts them, from the job repository and the gap windows. */
  public void update() {
    unfinished.set(
        listing.list().stream()
            .filter(w -> w.status() == null || BackfillRuns.unfinished(w.status()))
            .count());
  }
}
