package io.nvsentinel.exporter.delivery;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.nvsentinel.exporter.metrics.ExporterMetric;
import java.time.Duration;

/** The delivery metrics, under the names of the exporter we replace so dashboards keep working. */
final class DeliveryMetrics {

  static final String PUBLISHED = ExporterMetric.EVENTS_PUBLISHED.meterName();
  static final String DURATION = ExporterMetric.PUBLISH_DURATION.meterName();
  static final String ERRORS = ExporterMetric.PUBLISH_ERRORS.meterName();

  private final MeterRegistry meters;
  private final Counter delivered;
  private final Counter failed;
  private final Timer duration;

  DeliveryMetrics(MeterRegistry meters) {
    this.meters = meters;
    this.delivered = published("success");
    this.failed = published("failure");
    this.duration =
        Timer.builder(DURATION)
            .description("Time of one POST to the sink, token included")
            .publishPercentileHistogram()
            .register(meters);
  }

  private Counter published(String status) {
    return Counter.builder(PUBLISHED)
        .description("Events that ended delivered (success) or dead-lettered (failure)")
        .tag("status", status)
        .register(meters);
  }

  void attempt(Duration took) {
    duration.record(took);
  }

  void error(String errorType) {
    meters.counter(ERRORS, "error_type", errorType).increment();
  }

  void delivered() {
    delivered.increment();
  }

  void failed() {
    failed.increment();
  }
}
