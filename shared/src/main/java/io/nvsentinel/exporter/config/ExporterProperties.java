package io.nvsentinel.exporter.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
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
    @Valid @DefaultValue Filter filter,
    @Min(
            value = 0,
            message =
                "must be 0 (no limit) or a positive number of characters, got ${validatedValue}")
        @DefaultValue("65536")
        int maxMessageLength) {

  public ExporterProperties {
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    resumeToken = resumeToken.within(datastore);
    deadLetter = deadLetter.within(datastore);
  }

  /**
   * A warning when the checkpoint is kept apart from the datastore's token collection, where
   * NVSentinel's components and the replaced exporter keep their positions: a takeover reads, and a
   * roll-back finds, only what is there.
   */
  public Optional<String> checkpointApartFromContract() {
    String kept = resumeToken.database() + "." + resumeToken.collection();
    String contract = datastore.database() + "." + datastore.tokenCollection();
    if (kept.equals(contract)) {
      return Optional.empty();
    }
    return Optional.of(
        "exporter.resumeToken keeps the checkpoint in "
            + kept
            + ", apart from the datastore's token collection "
            + contract
            + " where the replaced exporter keeps its position: a takeover from it and a roll-back"
            + " to it look there only; unset exporter.resumeToken.database and"
            + " exporter.resumeToken.collection to keep both in one place");
  }

  /** The cluster name that becomes the CloudEvent {@code source}. */
  public String cluster() {
    return metadata.get("cluster");
  }

  /**
   * Where CloudEvents are POSTed, and what they carry beyond the replaced exporter's attributes.
   *
   * @param subject the node name as the CloudEvent {@code subject}; off for a sink that refuses
   *     attributes it does not know
   * @param traceContextExtension the CloudEvents distributed-tracing extension ({@code
   *     traceparent}, {@code tracestate}) in every event, while tracing is on
   * @param batch several events per request, for a sink that takes the JSON batch format
   */
  public record Sink(
      String endpoint,
      @DefaultValue("30s") Duration timeout,
      @DefaultValue("false") boolean insecureSkipVerify,
      Path caFile,
      @DefaultValue("true") boolean subject,
      @DefaultValue("false") boolean traceContextExtension,
      @Valid @DefaultValue Batch batch) {}

  /**
   * Batched delivery: up to {@code maxEvents} CloudEvents in one request, in the CloudEvents JSON
   * batch format ({@code application/cloudevents-batch+json}), each keeping its own id. Off by
   * default: NVSentinel's sinks take one event per request.
   *
   * @param maxEvents the most events in one request
   * @param maxWait the live exporter sends a batch that is not full once its first event waited
   *     this long
   */
  public record Batch(
      @DefaultValue("false") boolean enabled,
      @Min(value = 1, message = "must be from 1 to 1000 events, got ${validatedValue}")
          @Max(value = 1000, message = "must be from 1 to 1000 events, got ${validatedValue}")
          @DefaultValue("100")
          int maxEvents,
      @DefaultValue("100ms") Duration maxWait) {

    public static final Batch OFF = new Batch(false, 100, Duration.ofMillis(100));
  }

  /**
   * Which events are exported: a CEL expression over {@code event} (the replaced exporter's
   * language and variables); empty exports everything.
   */
  public record Filter(@DefaultValue("") String expression) {}

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
   * not stream (to be backfilled). The position lives where NVSentinel's components keep theirs —
   * the datastore's database and token collection — unless database or collection are set here.
   */
  public record ResumeToken(
      String database,
      String collection,
      @NotBlank(message = "must name a collection") @DefaultValue("exportergaps")
          String gapCollection,
      @NotBlank(message = "must name the live exporter whose checkpoint this is")
          @DefaultValue("event-exporter")
          String clientName) {

    /** With what is not set taken from the datastore contract. */
    ResumeToken within(Datastore datastore) {
      return new ResumeToken(
          blank(database) ? datastore.database() : database,
          blank(collection) ? datastore.tokenCollection() : collection,
          gapCollection,
          clientName);
    }
  }

  /**
   * The NVSentinel datastore holding the health events, named as NVSentinel names it. Its
   * environment contract ({@code MONGODB_URI}, {@code MONGODB_DATABASE_NAME}, {@code
   * MONGODB_COLLECTION_NAME}, {@code MONGODB_TOKEN_COLLECTION_NAME}, the certificate files, {@code
   * APP_NAME}, {@code MONGODB_TLS_ENABLED}) arrives as these settings, below any key set here.
   *
   * @param appName the name the MongoDB server sees the connections under, unless the URI gives one
   * @param tls whether to connect to MongoDB over TLS; {@code null}: as the URI and the certificate
   *     files say
   */
  public record Datastore(
      @NotBlank(message = "must be a MongoDB connection string")
          @DefaultValue("mongodb://localhost:27017")
          String uri,
      @NotBlank(message = "must name a database") @DefaultValue("HealthEventsDatabase")
          String database,
      @NotBlank(message = "must name a collection") @DefaultValue("HealthEvents") String collection,
      @NotBlank(message = "must name a collection") @DefaultValue("ResumeTokens")
          String tokenCollection,
      Path caFile,
      Path certFile,
      Path keyFile,
      @DefaultValue("mongodb") Provider provider,
      @Valid @DefaultValue Postgresql postgresql,
      @DefaultValue("event-exporter") String appName,
      Boolean tls) {

    public Datastore {
      provider = provider == null ? Provider.MONGODB : provider;
      postgresql =
          postgresql == null
              ? new Postgresql(
                  "localhost", 5432, "nvsentinel", null, null, "require", null, null, null)
              : postgresql;
    }

    /** The database named in CloudEvent ids: the one the health events are read from. */
    public String eventDatabase() {
      return provider == Provider.POSTGRESQL ? postgresql.database() : database;
    }

    /** The collection, or table, named in CloudEvent ids. */
    public String eventCollection() {
      return provider == Provider.POSTGRESQL ? POSTGRESQL_EVENTS_TABLE : collection;
    }
  }

  /** The table NVSentinel's PostgreSQL store keeps health events in. */
  public static final String POSTGRESQL_EVENTS_TABLE = "health_events";

  /** Which store NVSentinel keeps its health events in ({@code global.datastore.provider}). */
  public enum Provider {
    MONGODB,
    POSTGRESQL
  }

  /**
   * NVSentinel's PostgreSQL store, as its {@code DATASTORE_*} environment describes it.
   *
   * @param sslmode libpq's {@code sslmode}; {@code require} as NVSentinel's chart sets it
   */
  public record Postgresql(
      @DefaultValue("localhost") String host,
      @DefaultValue("5432") int port,
      @DefaultValue("nvsentinel") String database,
      String username,
      String password,
      @DefaultValue("require") String sslmode,
      Path sslcert,
      Path sslkey,
      Path sslrootcert) {

    /** The JDBC address, without user or password. */
    public String jdbcUrl() {
      StringBuilder url =
          new StringBuilder("jdbc:postgresql://")
              .append(host)
              .append(':')
              .append(port)
              .append('/')
              .append(database)
              .append("?sslmode=")
              .append(sslmode);
      if (sslcert != null) {
        url.append("&sslcert=").append(sslcert);
      }
      if (sslkey != null) {
        url.append("&sslkey=").append(sslkey);
      }
      if (sslrootcert != null) {
        url.append("&sslrootcert=").append(sslrootcert);
      }
      return url.toString();
    }

    @Override
    public String toString() {
      return "Postgresql[" + jdbcUrl() + ", username=" + username + ", password=(not shown)]";
    }
  }

  /** Where events that could not be delivered are set aside, with their reason. */
  public record DeadLetter(
      String database,
      @NotBlank(message = "must name a collection") @DefaultValue("exporterdeadletters")
          String collection) {

    /** In the datastore's database unless a database is set here. */
    DeadLetter within(Datastore datastore) {
      return new DeadLetter(blank(database) ? datastore.database() : database, collection);
    }
  }

  private static boolean blank(String value) {
    return value == null || value.isBlank();
  }
}
