package io.nvsentinel.exporter.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * The toggles NVSentinel reports for every component as {@code
 * nvsentinel_feature_flag_enabled{service, flag}} (its {@code commons/pkg/metrics/featureflags.go};
 * for the exporter, {@code backfill_enabled} from {@code exporter.backfill.enabled}), so a fleet
 * dashboard shows this exporter's like the one it replaces.
 */
public final class FeatureFlags implements MeterBinder {

  /** The {@code service} NVSentinel's exporter reports its flags under. */
  public static final String SERVICE = "event-exporter";

  private final boolean backfillEnabled;

  /**
   * @param backfillEnabled {@code exporter.backfill.enabled}
   */
  public FeatureFlags(boolean backfillEnabled) {
    this.backfillEnabled = backfillEnabled;
  }

  @Override
  public void bindTo(MeterRegistry meters) {
    Gauge.builder(ExporterMetric.FEATURE_FLAG.meterName(), () -> backfillEnabled ? 1 : 0)
        .description("Whether a feature flag is enabled (1) or disabled (0)")
        .tags("service", SERVICE, "flag", "backfill_enabled")
        .register(meters);
  }
}
