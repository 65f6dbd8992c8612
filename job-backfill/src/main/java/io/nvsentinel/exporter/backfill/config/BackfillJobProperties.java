package io.nvsentinel.exporter.backfill.config;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.nio.file.Path;
import java.time.Duration;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Settings of the backfill job beyond the documented {@code exporter.backfill} keys (which live in
 * the shared contract), under the same prefix.
 *
 * @param concurrency deliveries in flight within a chunk
 * @param waitForCutoff how long to wait for the live exporter's cutoff before failing; 0 means do
 *     not wait and end the window now when there is no cutoff (standalone use)
 * @param abandonedAfter an execution still marked running whose last update is older than this is
 *     taken as abandoned (its process died) and may be resumed
 * @param progressInterval how often progress is logged
 * @param jobRepositoryPath directory of the embedded job repository, when no {@code
 *     spring.datasource.url} is given
 * @param stopTimeout on SIGTERM, how long the running chunk gets to finish
 */
@Validated
@ConfigurationProperties("exporter.backfill")
public record BackfillJobProperties(
    @Min(value = 1, message = "must be at least 1, got ${validatedValue}") @DefaultValue("8")
        int concurrency,
    @DurationMin(millis = 0, message = NOT_NEGATIVE) @DefaultValue("0s") Duration waitForCutoff,
    @DurationMin(seconds = 1, message = AT_LEAST_A_SECOND) @DefaultValue("10m")
        Duration abandonedAfter,
    @DurationMin(millis = 1, message = POSITIVE) @DefaultValue("10s") Duration progressInterval,
    @NotNull @DefaultValue("./backfill-job-repository") Path jobRepositoryPath,
    @DurationMin(millis = 0, message = NOT_NEGATIVE) @DefaultValue("30s") Duration stopTimeout) {

  static final String POSITIVE = "must be a positive duration such as 10s, got ${validatedValue}";
  static final String NOT_NEGATIVE = "must not be negative, got ${validatedValue}";
  static final String AT_LEAST_A_SECOND =
      "must be at least 1s (a running window renews its lease a third of it), got"
          + " ${validatedValue}";
}
