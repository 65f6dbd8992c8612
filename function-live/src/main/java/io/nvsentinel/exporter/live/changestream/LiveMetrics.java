package io.nvsentinel.exporter.live.changestream;

import static io.nvsentinel.exporter.metrics.ExporterMetric.CHECKPOINT_WRITTEN;
import static io.nvsentinel.exporter.metrics.ExporterMetric.EVENTS_IN_FLIGHT;
import static io.nvsentinel.exporter.metrics.ExporterMetric.EVENTS_RECEIVED;
import static io.nvsentinel.exporter.metrics.ExporterMetric.EXPORT_LAG;
import static io.nvsentinel.exporter.metrics.ExporterMetric.READING_PAUSED;
import static io.nvsentinel.exporter.metrics.ExporterMetric.RESUME_TOKEN_RECOVERIES;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.metrics.ExporterMetric;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/** The live exporter's meters, under the names dashboards of the replaced exporter know. */
final class LiveMetrics {

  private final Counter received;
  private final Counter recoveries;
  private final Counter gapWindows;

  LiveMetrics(
      MeterRegistry meters, Checkpointing checkpointing, Supplier<Boolean> paused, Clock clock) {
    this.received =
        Counter.builder(EVENTS_RECEIVED.meterName())
            .description("Changes read from the change stream")
            .register(meters);
    this.recoveries =
        Counter.builder(RESUME_TOKEN_RECOVERIES.meterName())
            .description("Restarts from now after the stored resume token became unusable")
            .register(meters);
    this.gapWindows =
        Counter.builder(ExporterMetric.GAP_WINDOWS.meterName())
            .description("Intervals the stream lost, recorded for the backfill")
            .register(meters);
    gauge(
        meters,
        CHECKPOINT_WRITTEN.meterName(),
        "When the checkpoint was last written (seconds since the epoch)",
        c -> c.lastWriteEpochMillis() / 1000.0,
        checkpointing);
    gauge(
        meters,
        EVENTS_IN_FLIGHT.meterName(),
        "Events read and not yet delivered or dead-lettered",
        c -> c.window().inFlight(),
        checkpointing);
    gauge(
        meters,
        EXPORT_LAG.meterName(),
        "Now minus the cluster time of the last committed event",
        c -> lagSeconds(c.window().committed(), clock),
        checkpointing);
    gauge(
        meters,
        READING_PAUSED.meterName(),
        "1 while reading is paused because the sink can take no event",
        p -> p.get() ? 1 : 0,
        paused);
  }

  private static <T> void gauge(
      MeterRegistry meters, String name, String description, ToDoubleFunction<T> f, T source) {
    Gauge.builder(name, source, f).description(description).register(meters);
  }

  private static double lagSeconds(Position position, Clock clock) {
    if (position == null || position.clusterTime() == null) {
      return 0;
    }
    return Math.max(
        0, Duration.between(position.clusterTime(), clock.instant()).toMillis() / 1000.0);
  }

  void received() {
    received.increment();
  }

  void recovered() {
    recoveries.increment();
    gapWindows.increment();
  }
}
