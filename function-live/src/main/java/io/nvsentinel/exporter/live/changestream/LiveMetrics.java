package io.nvsentinel.exporter.live.changestream;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/** The live exporter's meters, under the names dashboards of the replaced exporter know. */
final class LiveMetrics {

  static final String RECEIVED = "health_events_exporter_events_received";
  static final String RECOVERIES = "change_stream_resume_token_recoveries";
  static final String GAP_WINDOWS = "health_events_exporter_gap_windows";
  static final String CHECKPOINT_WRITTEN = "health_events_exporter_resume_token_update_timestamp";
  static final String IN_FLIGHT = "health_events_exporter_events_in_flight";
  static final String LAG = "health_events_exporter_export_lag_seconds";
  static final String PAUSED = "health_events_exporter_reading_paused";

  private final Counter received;
  private final Counter recoveries;
  private final Counter gapWindows;

  LiveMetrics(
      MeterRegistry meters,
      Checkpointing checkpointing,
      Supplier<CommitWindow<Position>> window,
      Supplier<Boolean> paused,
      Clock clock) {
    this.received =
        Counter.builder(RECEIVED)
            .description("Changes read from the change stream")
            .register(meters);
    this.recoveries =
        Counter.builder(RECOVERIES)
            .description("Restarts from now after the stored resume token became unusable")
            .register(meters);
    this.gapWindows =
        Counter.builder(GAP_WINDOWS)
            .description("Intervals the stream lost, recorded for the backfill")
            .register(meters);
    gauge(
        meters,
        CHECKPOINT_WRITTEN,
        "When the checkpoint was last written (seconds since the epoch)",
        c -> c.lastWriteEpochMillis() / 1000.0,
        checkpointing);
    gauge(
        meters,
        IN_FLIGHT,
        "Events read and not yet delivered or dead-lettered",
        w -> w.get().inFlight(),
        window);
    gauge(
        meters,
        LAG,
        "Now minus the cluster time of the last committed event",
        w -> lagSeconds(w.get().committed(), clock),
        window);
    gauge(
        meters,
        PAUSED,
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
