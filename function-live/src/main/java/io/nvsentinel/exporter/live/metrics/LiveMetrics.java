package io.nvsentinel.exporter.live.metrics;

import static io.nvsentinel.exporter.metrics.ExporterMetric.CHANGE_STREAM_LAG;
import static io.nvsentinel.exporter.metrics.ExporterMetric.CHANGE_STREAM_LAG_KNOWN;
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
import java.time.Instant;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The live exporter's meters, under the names dashboards of the replaced exporter know, with their
 * meaning: the change-stream lag as NVSentinel's store client reports it for every consumer
 * (ADR-054, {@code store-client/pkg/client/lagreporter.go}), the token recoveries by {@code client}
 * and {@code phase} as its watcher counts them.
 */
public final class LiveMetrics {

  /** What the stream engine shows of itself to the meters. */
  public interface StreamState {

    /** When the checkpoint was last written, in milliseconds since the epoch; 0 before that. */
    long lastWriteEpochMillis();

    /** Events read and not yet delivered or dead-lettered. */
    int inFlight();

    /** The cluster time of the last committed event, or {@code null}. */
    Instant committedTime();
  }

  /** {@code phase} of a recovery: the stored position was unusable when the stream first opened. */
  public static final String INITIALIZATION = "initialization";

  /** {@code phase} of a recovery: the stream lost its history while it ran. */
  public static final String RUNTIME = "runtime";

  private final MeterRegistry meters;
  private final String client;
  private final Clock clock;
  private final Counter received;
  private final Counter gapWindows;
  private volatile Instant lastEmptyRead;
  private volatile Instant lastEventRead;
  private volatile boolean lagRegistered;

  public LiveMetrics(
      MeterRegistry meters,
      StreamState stream,
      Supplier<Boolean> paused,
      Clock clock,
      String client) {
    this.meters = meters;
    this.client = client;
    this.clock = clock;
    this.received =
        Counter.builder(EVENTS_RECEIVED.meterName())
            .description("Changes read from the change stream")
            .register(meters);
    for (String phase : new String[] {INITIALIZATION, RUNTIME}) {
      recoveries(phase);
    }
    Gauge.builder(CHANGE_STREAM_LAG_KNOWN.meterName(), this, m -> m.observed() == null ? 0 : 1)
        .description("1 once change_stream_lag_seconds can be computed for this consumer, else 0")
        .tag("client", client)
        .register(meters);
    this.gapWindows =
        Counter.builder(ExporterMetric.GAP_WINDOWS.meterName())
            .description("Intervals the stream lost, recorded for the backfill")
            .register(meters);
    gauge(
        meters,
        CHECKPOINT_WRITTEN.meterName(),
        "When the checkpoint was last written (seconds since the epoch)",
        s -> s.lastWriteEpochMillis() / 1000.0,
        stream);
    gauge(
        meters,
        EVENTS_IN_FLIGHT.meterName(),
        "Events read and not yet delivered or dead-lettered",
        StreamState::inFlight,
        stream);
    gauge(
        meters,
        EXPORT_LAG.meterName(),
        "Now minus the cluster time of the last committed event",
        s -> lagSeconds(s.committedTime(), clock),
        stream);
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

  private static double lagSeconds(Instant committed, Clock clock) {
    if (committed == null) {
      return 0;
    }
    return Math.max(0, Duration.between(committed, clock.instant()).toMillis() / 1000.0);
  }

  public void received() {
    received.increment();
  }

  /** A read of the stream returned nothing: the consumer was caught up just now. */
  public void caughtUp() {
    lastEmptyRead = clock.instant();
    registerLag();
  }

  /** A change was read; {@code serverTime} is its cluster time, when the store gives one. */
  public void read(Instant serverTime) {
    if (serverTime != null) {
      lastEventRead = serverTime;
      registerLag();
    }
  }

  public void recovered(String phase) {
    recoveries(phase).increment();
    gapWindows.increment();
  }

  private Counter recoveries(String phase) {
    return Counter.builder(RESUME_TOKEN_RECOVERIES.meterName())
        .description("Restarts from now after the stored resume token became unusable")
        .tags("client", client, "phase", phase)
        .register(meters);
  }

  /** Absent until the first evidence, as NVSentinel's consumers report it: no lag is no claim. */
  private void registerLag() {
    if (!lagRegistered) {
      lagRegistered = true;
      Gauge.builder(CHANGE_STREAM_LAG.meterName(), this, LiveMetrics::lagSeconds)
          .description(
              "Seconds since this consumer last had evidence it was caught up with its change"
                  + " stream: an empty read, or the server time of the last change it read")
          .tag("client", client)
          .register(meters);
    }
  }

  private Instant observed() {
    Instant empty = lastEmptyRead;
    Instant event = lastEventRead;
    if (empty == null) {
      return event;
    }
    return event == null || empty.isAfter(event) ? empty : event;
  }

  private double lagSeconds() {
    Instant observed = observed();
    // the server's clock against ours: a caught-up consumer may look a little ahead; that is 0
    return observed == null
        ? 0
        : Math.max(0, Duration.between(observed, clock.instant()).toMillis() / 1000.0);
  }
}
