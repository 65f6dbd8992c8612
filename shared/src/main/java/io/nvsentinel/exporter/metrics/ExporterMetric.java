package io.nvsentinel.exporter.metrics;

import java.util.List;

/**
 * Every meter the exporter registers, in one place: the names and labels are a compatibility
 * contract with the dashboards and alerts of the exporter we replace — a name it uses carries its
 * meaning there (NVSentinel's {@code event-exporter/pkg/metrics/metrics.go} and {@code
 * exporter.go}), and what it does not measure has a name of its own — and README's metrics table
 * lists exactly these (a test holds the two together).
 */
public enum ExporterMetric {
  EVENTS_PUBLISHED("health_events_exporter_events_published", Type.COUNTER, "status"),
  PUBLISH_DURATION("health_events_exporter_publish_duration", Type.TIMER),
  PUBLISH_ERRORS("health_events_exporter_publish_errors", Type.COUNTER, "error_type"),
  SINK_REQUEST_DURATION("health_events_exporter_sink_request_duration", Type.TIMER),
  SINK_REQUEST_ERRORS("health_events_exporter_sink_request_errors", Type.COUNTER, "error_type"),
  SINK_BATCH_SPLITS("health_events_exporter_sink_batch_splits", Type.COUNTER),
  TOKEN_REFRESH_ERRORS("health_events_exporter_token_refresh_errors", Type.COUNTER),
  TRANSFORM_ERRORS("health_events_exporter_transform_errors", Type.COUNTER),
  DECODE_REPAIRS("health_events_exporter_decode_repairs", Type.COUNTER, "field"),
  EVENTS_FILTERED("health_events_exporter_events_filtered", Type.COUNTER),
  FILTER_ERRORS("health_events_exporter_filter_errors", Type.COUNTER),
  DEAD_LETTERS("health_events_exporter_dead_letters", Type.COUNTER, "kind"),
  EVENTS_RECEIVED("health_events_exporter_events_received", Type.COUNTER),
  CHECKPOINT_WRITTEN("health_events_exporter_resume_token_update_timestamp", Type.GAUGE),
  EXPORT_LAG("health_events_exporter_export_lag_seconds", Type.GAUGE),
  EVENTS_IN_FLIGHT("health_events_exporter_events_in_flight", Type.GAUGE),
  READING_PAUSED("health_events_exporter_reading_paused", Type.GAUGE),
  RESUME_TOKEN_RECOVERIES("change_stream_resume_token_recoveries", Type.COUNTER, "client", "phase"),
  CHANGE_STREAM_LAG("change_stream_lag_seconds", Type.GAUGE, "client"),
  CHANGE_STREAM_LAG_KNOWN("change_stream_lag_known", Type.GAUGE, "client"),
  FEATURE_FLAG("nvsentinel_feature_flag_enabled", Type.GAUGE, "service", "flag"),
  GAP_WINDOWS("health_events_exporter_gap_windows", Type.COUNTER),
  LEADER("health_events_exporter_leader", Type.GAUGE, "client"),
  LEASE_ACQUISITIONS("health_events_exporter_lease_acquisitions", Type.COUNTER, "client"),
  GAP_WINDOWS_PENDING("health_events_exporter_gap_windows_pending", Type.GAUGE),
  BACKFILL_IN_PROGRESS("health_events_exporter_backfill_in_progress", Type.GAUGE),
  BACKFILL_EVENTS_PROCESSED("health_events_exporter_backfill_events_processed", Type.COUNTER),
  BACKFILL_EVENTS_READ("health_events_exporter_backfill_events_read", Type.COUNTER),
  BACKFILL_DURATION("health_events_exporter_backfill_duration", Type.TIMER),
  BACKFILL_WINDOWS_CAPPED("health_events_exporter_backfill_windows_capped", Type.COUNTER),
  BACKFILL_WINDOWS_UNFINISHED("health_events_exporter_backfill_windows_unfinished", Type.GAUGE);

  /** How the meter is registered, which decides its Prometheus suffix. */
  public enum Type {
    COUNTER,
    GAUGE,
    TIMER
  }

  private final String meterName;
  private final Type type;
  private final List<String> labels;

  ExporterMetric(String meterName, Type type, String... labels) {
    this.meterName = meterName;
    this.type = type;
    this.labels = List.of(labels);
  }

  /** The name to register with Micrometer. */
  public String meterName() {
    return meterName;
  }

  /** The name Prometheus scrapes: counters end in {@code _total}, timers in {@code _seconds}. */
  public String prometheusName() {
    return switch (type) {
      case COUNTER -> meterName + "_total";
      case TIMER -> meterName + "_seconds";
      case GAUGE -> meterName;
    };
  }

  public List<String> labels() {
    return labels;
  }
}
