package io.nvsentinel.exporter.delivery;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.nvsentinel.exporter.metrics.ExporterMetric;
import java.time.Duration;

/**
 * The delivery metrics. Under the replaced exporter's names, with its meaning ({@code
 * event-exporter/pkg/exporter/exporter.go}, {@code publishWithRetry}): an event is counted {@code
 * success} once delivered, with the time from its first attempt to that success (back-offs
 * included) in the same buckets; and {@code failure}, with one {@code
 * publish_errors_total{error_type="max_retries_exceeded"}}, once when its retries end without
 * success. Every single POST and every failed one are counted under names of their own.
 */
final class DeliveryMetrics {

  static final String PUBLISHED = ExporterMetric.EVENTS_PUBLISHED.meterName();
  static final String DURATION = ExporterMetric.PUBLISH_DURATION.meterName();
  static final String ERRORS = ExporterMetric.PUBLISH_ERRORS.meterName();
  static final String REQUEST_DURATION = ExporterMetric.SINK_REQUEST_DURATION.meterName();
  static final String REQUEST_ERRORS = ExporterMetric.SINK_REQUEST_ERRORS.meterName();

  /** The Go exporter's only {@code error_type}. */
  static final String MAX_RETRIES_EXCEEDED = "max_retries_exceeded";

  /** The Go exporter's histogram buckets, so that dashboards computing quantiles agree. */
  private static final Duration[] PUBLISH_BUCKETS = {
    Duration.ofMillis(1),
    Duration.ofMillis(5),
    Duration.ofMillis(10),
    Duration.ofMillis(25),
    Duration.ofMillis(50),
    Duration.ofMillis(100),
    Duration.ofMillis(250),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofMillis(2500),
    Duration.ofSeconds(5)
  };

  private final MeterRegistry meters;
  private final Counter delivered;
  private final Counter givenUp;
  private final Counter maxRetriesExceeded;
  private final Timer published;
  private final Timer request;
  private final Counter batchSplits;

  DeliveryMetrics(MeterRegistry meters) {
    this.meters = meters;
    this.delivered = published("success");
    this.givenUp = published("failure");
    this.maxRetriesExceeded =
        Counter.builder(ERRORS)
            .description("Events whose retries ended without success")
            .tag("error_type", MAX_RETRIES_EXCEEDED)
            .register(meters);
    this.published =
        Timer.builder(DURATION)
            .description("From an event's first attempt to its acceptance, back-offs included")
            .serviceLevelObjectives(PUBLISH_BUCKETS)
            .register(meters);
    this.request =
        Timer.builder(REQUEST_DURATION)
            .description("One POST to the sink, token included")
            .publishPercentileHistogram()
            .register(meters);
    this.batchSplits =
        Counter.builder(ExporterMetric.SINK_BATCH_SPLITS.meterName())
            .description("Batches the sink refused, sent again in halves")
            .register(meters);
  }

  private Counter published(String status) {
    return Counter.builder(PUBLISHED)
        .description("Events delivered (success) or whose retries ended without success (failure)")
        .tag("status", status)
        .register(meters);
  }

  /** One POST took this long, whatever its answer. */
  void request(Duration took) {
    request.record(took);
  }

  /** One POST failed, for this reason. */
  void requestFailed(String errorType) {
    meters.counter(REQUEST_ERRORS, "error_type", errorType).increment();
  }

  /** The sink took the event, {@code sinceFirstAttempt} after its first attempt began. */
  void delivered(Duration sinceFirstAttempt) {
    delivered.increment();
    published.record(sinceFirstAttempt);
  }

  /**
   * The retries of {@code events} events (one, or a batch) ended without success: the moment the Go
   * exporter gives an event up.
   */
  void givenUp(int events) {
    givenUp.increment(events);
    maxRetriesExceeded.increment(events);
  }

  /** The sink refused a batch, which is sent again in halves. */
  void batchSplit() {
    batchSplits.increment();
  }
}
