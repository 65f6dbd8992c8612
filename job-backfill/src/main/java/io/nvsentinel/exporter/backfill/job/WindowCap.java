package io.nvsentinel.exporter.backfill.job;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.backfill.window.BackfillWindow;
import io.nvsentinel.exporter.checkpoint.GapWindow;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.metrics.ExporterMetric;
import java.time.Clock;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.batch.core.ExitStatus;
import org.springframework.batch.core.listener.StepExecutionListener;
import org.springframework.batch.core.step.StepExecution;

/**
 * When a window stops at {@code maxEvents} with events left, says so — exit status {@value #CAPPED}
 * with the numbers, a warning, {@code health_events_exporter_backfill_windows_capped_total} — and
 * records the rest as a pending window of kind {@code remainder}, which the next {@code run}
 * exports (capped again). Nothing is silently left behind.
 */
public class WindowCap implements StepExecutionListener {

  private static final Logger log = LoggerFactory.getLogger(WindowCap.class);

  /** The exit code of a window that stopped at maxEvents with events left. */
  public static final String CAPPED = "CAPPED";

  private final WindowItemReader reader;
  private final BackfillWindow window;
  private final GapWindowStore pending;
  private final String client;
  private final Counter capped;
  private final Clock clock;

  WindowCap(
      WindowItemReader reader,
      BackfillWindow window,
      GapWindowStore pending,
      String client,
      MeterRegistry meters,
      Clock clock) {
    this.reader = reader;
    this.window = window;
    this.pending = pending;
    this.client = client;
    this.capped =
        Counter.builder(ExporterMetric.BACKFILL_WINDOWS_CAPPED.meterName())
            .description("Backfill windows cut short by maxEvents; the rest is a pending window")
            .register(meters);
    this.clock = clock;
  }

  @Override
  public ExitStatus afterStep(StepExecution step) {
    if (!ExitStatus.COMPLETED.getExitCode().equals(step.getExitStatus().getExitCode())) {
      return null;
    }
    Instant firstLeftOut = reader.firstLeftOut();
    if (firstLeftOut == null) {
      return null;
    }
    String reason =
        "maxEvents ("
            + window.maxEvents()
            + ") reached in window "
            + window
            + "; events from "
            + firstLeftOut
            + " on were left for the next run";
    GapWindow rest =
        pending.record(
            client, GapWindow.Kind.REMAINDER, firstLeftOut, window.end(), reason, clock.instant());
    capped.increment();
    String description = reason + " (pending window " + rest.id() + ")";
    log.warn("{}", description);
    return new ExitStatus(CAPPED, description);
  }
}
