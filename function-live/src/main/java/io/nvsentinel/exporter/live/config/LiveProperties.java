package io.nvsentinel.exporter.live.config;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotEmpty;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Settings of the live exporter ({@code exporter.live.*}), beyond the shared contract.
 *
 * @param workers deliveries in flight at once
 * @param maxInFlight events read ahead of the oldest undelivered one; bounds re-deliveries after a
 *     crash
 * @param operationTypes change-stream operation types exported
 * @param tokenFlushEvents write the checkpoint at the latest after this many committed events
 * @param tokenFlushInterval ... or after this long
 * @param shutdownTimeout how long in-flight deliveries may finish on shutdown
 * @param startOverlap on a fresh start the stream begins this long before the backfill cutoff, so
 *     clock skew between exporter and database cannot open a gap (events in the overlap are sent by
 *     both, with the same id)
 * @param stuckAfter liveness fails when the reader has made no progress for this long
 * @param httpTrigger expose the export function at {@code POST /export}
 * @param httpTriggerPort the port of {@code POST /export}, apart from the metrics and probes
 * @param httpTriggerTokenFile file holding the bearer token callers of {@code POST /export}
 *     present; required when the trigger is on
 * @param metricsPort where {@code /metrics} and {@code /healthz} listen for NVSentinel's umbrella
 *     chart (its {@code global.metricsPort}), and the probes {@code /readyz} and {@code /livez}; 0
 *     picks a free port
 */
@Validated
@ConfigurationProperties("exporter.live")
public record LiveProperties(
    @Min(value = 1, message = "must be at least 1, got ${validatedValue}") @DefaultValue("10")
        int workers,
    @Min(value = 1, message = "must be at least 1, got ${validatedValue}") @DefaultValue("64")
        int maxInFlight,
    @NotEmpty @DefaultValue("insert") List<String> operationTypes,
    @Min(value = 1, message = "must be at least 1, got ${validatedValue}") @DefaultValue("100")
        int tokenFlushEvents,
    @DurationMin(millis = 1, message = POSITIVE) @DefaultValue("1s") Duration tokenFlushInterval,
    @DurationMin(millis = 0, message = NOT_NEGATIVE) @DefaultValue("20s") Duration shutdownTimeout,
    @DurationMin(millis = 0, message = NOT_NEGATIVE) @DefaultValue("5s") Duration startOverlap,
    @DurationMin(seconds = 1, message = AT_LEAST_A_SECOND) @DefaultValue("2m") Duration stuckAfter,
    @DefaultValue("false") boolean httpTrigger,
    @DefaultValue("8081") int httpTriggerPort,
    Path httpTriggerTokenFile,
    @Min(value = 0, message = PORT) @Max(value = 65535, message = PORT) @DefaultValue("2112")
        int metricsPort) {

  /**
   * These settings with the read-ahead of batched delivery: at least a full batch for every worker.
   */
  public LiveProperties forBatches(int maxEvents) {
    int readAhead = Math.max(maxInFlight, Math.multiplyExact(workers, maxEvents));
    return new LiveProperties(
        workers,
        readAhead,
        operationTypes,
        tokenFlushEvents,
        tokenFlushInterval,
        shutdownTimeout,
        startOverlap,
        stuckAfter,
        httpTrigger,
        httpTriggerPort,
        httpTriggerTokenFile,
        metricsPort);
  }

  static final String PORT =
      "must be a port from 1 to 65535 (or 0 for any free one), got ${validatedValue}";

  static final String POSITIVE = "must be a positive duration such as 1s, got ${validatedValue}";
  static final String NOT_NEGATIVE = "must not be negative, got ${validatedValue}";
  static final String AT_LEAST_A_SECOND =
      "must be at least 1s (the probes look once a second), got ${validatedValue}";
}
