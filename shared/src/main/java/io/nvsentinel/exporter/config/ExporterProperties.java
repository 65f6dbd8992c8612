package io.nvsentinel.exporter.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The whole configuration contract, bound from {@code exporter.*}. Keys and defaults are those of
 * the operator documentation of the exporter we replace; everything else is an addition with a
 * default that keeps the old behaviour or a safer one.
 *
 * <p>Single-field rules are constraints here; rules that relate fields live in {@link
 * ExporterPropertiesValidator}. Both report the key, the rejected value and what is allowed.
 */
@Validated
@ConfigurationProperties("exporter")
public record ExporterProperties(
    Map<String, String> metadata,
    @Valid @DefaultValue Sink sink,
    @Valid @DefaultValue Oidc oidc,
    @Valid @DefaultValue Backfill backfill,
    @Valid @DefaultValue FailureHandling failureHandling,
    @Valid @DefaultValue ResumeToken resumeToken,
    @Valid @DefaultValue Datastore datastore,
    @Valid @DefaultValue DeadLetter deadLetter,
    @Min(
            value = 0,
            message =
                "must be 0 (no limit) or a positive number of characters, got ${validatedValue}")
        @DefaultValue("65536")
        int maxMessageLength) {

  public ExporterProperties {
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
  }

  /** The cluster name that becomes the CloudEvent {@code source}. */
  public String cluster() {
    return metadata.get("cluster");
  }

  /** Where CloudEvents are POSTed. */
  public record Sink(
      String endpoint,
      @DefaultValue("30s") Duration timeout,
      @DefaultValue("false") boolean insecureSkipVerify,
      Path caFile) {}

  /** OAuth 2.0 client-credentials settings; the secret itself is never a property value. */
  public record Oidc(
      String tokenUrl,
      String clientId,
      String scope,
      @DefaultValue("false") boolean insecureSkipVerify,
      @DefaultValue("/var/secrets/oidc-client-secret") Path clientSecretFile,
      @DefaultValue("OIDC_CLIENT_SECRET") String clientSecretEnv,
      Path caFile) {}

  /** Historical export. */
  public record Backfill(
      @DefaultValue("true") boolean enabled,
      @DefaultValue("720h") Duration maxAge,
      @Min(value = 1, message = "must be at least 1, got ${validatedValue}")
          @DefaultValue("1000000")
          long maxEvents,
      @Min(value = 1, message = "must be at least 1 event per chunk, got ${validatedValue}")
          @DefaultValue("500")
          int batchSize,
      @Min(
              value = 0,
              message =
                  "must be 0 (unlimited) or a positive number of events per second, got ${validatedValue}")
          @DefaultValue("1000")
          int rateLimit) {}

  /** Retry schedule for deliveries. */
  public record FailureHandling(
      @Min(value = 0, message = "must be 0 (no retry) or more, got ${validatedValue}")
          @DefaultValue("17")
          int maxRetries,
      @DefaultValue("1s") Duration initialBackoff,
      @DefaultValue("5m") Duration maxBackoff,
      @DecimalMin(
              value = "1.0",
              message =
                  "must be at least 1.0 (1.0 keeps the delay constant), got ${validatedValue}")
          @DefaultValue("2.0")
          double backoffMultiplier) {}

  /**
   * Where the live exporter keeps its change-stream position, and the windows of history it could
   * not stream (to be backfilled).
   */
  public record ResumeToken(
      @NotBlank(message = "must name a database") @DefaultValue("nvsentinel") String database,
      @NotBlank(message = "must name a collection") @DefaultValue("resumetokens") String collection,
      @NotBlank(message = "must name a collection") @DefaultValue("exportergaps")
          String gapCollection,
      @NotBlank(message = "must name the live exporter whose checkpoint this is")
          @DefaultValue("event-exporter")
          String clientName) {}

  /**
   * The NVSentinel datastore holding the health events. The TLS files default to the environment
   * variables the Helm chart of the exporter we replace sets: {@code MONGODB_CA_CERT_PATH}, {@code
   * MONGODB_CLIENT_CERT_PATH}, {@code MONGODB_CLIENT_KEY_PATH}.
   */
  public record Datastore(
      @NotBlank(message = "must be a MongoDB connection string")
          @DefaultValue("mongodb://localhost:27017")
          String uri,
      @NotBlank(message = "must name a database") @DefaultValue("nvsentinel") String database,
      @NotBlank(message = "must name a collection") @DefaultValue("HealthEvents") String collection,
      Path caFile,
      Path certFile,
      Path keyFile) {}

  /** Where events that could not be delivered are set aside, with their reason. */
  public record DeadLetter(
      @NotBlank(message = "must name a database") @DefaultValue("nvsentinel") String database,
      @NotBlank(message = "must name a collection") @DefaultValue("exporterdeadletters")
          String collection) {}
}
