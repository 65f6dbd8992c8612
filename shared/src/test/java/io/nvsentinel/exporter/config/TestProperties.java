package io.nvsentinel.exporter.config;

import io.nvsentinel.exporter.devstack.EmbeddedPostgresStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.validation.BeanPropertyBindingResult;
import org.springframework.validation.ObjectError;

/** Builds {@link ExporterProperties} for tests, with tiny back-offs unless told otherwise. */
public final class TestProperties {

  public Map<String, String> metadata = new LinkedHashMap<>(Map.of("cluster", "test-cluster"));
  public String sinkEndpoint = "http://127.0.0.1:1/api/v1/events";
  public Duration sinkTimeout = Duration.ofSeconds(5);
  public boolean sinkInsecure;
  public Path sinkCaFile;
  public String tokenUrl = "http://127.0.0.1:1/oauth2/token";
  public String clientId = "nvsentinel-exporter";
  public String scope = "events:write";
  public boolean oidcInsecure;
  public Path secretFile;
  public int maxRetries = 3;
  public Duration initialBackoff = Duration.ofMillis(1);
  public Duration maxBackoff = Duration.ofMillis(20);
  public double multiplier = 2.0;
  public String mongoUri = "mongodb://127.0.0.1:1";
  public String database = "HealthEventsDatabase";
  public String collection = "HealthEvents";
  public String clientName = "test-client";
  public boolean subject = true;
  public boolean traceContextExtension = false;
  public ExporterProperties.Batch batch = ExporterProperties.Batch.OFF;
  public String filter = "";

  /** NVSentinel's PostgreSQL store instead of MongoDB, when set. */
  public ExporterProperties.Postgresql postgresql;

  /** The settings of a test's PostgreSQL database, without TLS. */
  public static ExporterProperties.Postgresql postgresqlOf(EmbeddedPostgresStore db) {
    return new ExporterProperties.Postgresql(
        "localhost",
        db.port(),
        db.database(),
        EmbeddedPostgresStore.USER,
        null,
        "disable",
        null,
        null,
        null);
  }

  /**
   * A MongoDB datastore under NVSentinel's names, without files; {@code tls} as
   * MONGODB_TLS_ENABLED.
   */
  public static ExporterProperties.Datastore mongoDatastore(String uri, Boolean tls) {
    return mongoDatastore(uri, "HealthEventsDatabase", "HealthEvents", tls);
  }

  /** A MongoDB datastore holding the events in {@code database}.{@code collection}. */
  public static ExporterProperties.Datastore mongoDatastore(
      String uri, String database, String collection, Boolean tls) {
    return new ExporterProperties.Datastore(
        uri,
        database,
        collection,
        "ResumeTokens",
        null,
        null,
        null,
        null,
        null,
        "event-exporter",
        tls);
  }

  /** What the start-up validation says of {@code properties}, one message per problem. */
  public static List<String> problems(ExporterProperties properties) {
    BeanPropertyBindingResult errors = new BeanPropertyBindingResult(properties, "exporter");
    new ExporterPropertiesValidator(name -> null, null).validate(properties, errors);
    return errors.getAllErrors().stream().map(ObjectError::getDefaultMessage).toList();
  }

  public ExporterProperties build() {
    return new ExporterProperties(
        metadata,
        new ExporterProperties.Sink(
            sinkEndpoint,
            sinkTimeout,
            sinkInsecure,
            sinkCaFile,
            subject,
            traceContextExtension,
            batch),
        new ExporterProperties.Oidc(tokenUrl, clientId, scope, oidcInsecure, secretFile, "", null),
        new ExporterProperties.Backfill(true, Duration.ofHours(720), 1_000_000, 500, 0),
        new ExporterProperties.FailureHandling(maxRetries, initialBackoff, maxBackoff, multiplier),
        new ExporterProperties.ResumeToken(database, "ResumeTokens", "exportergaps", clientName),
        new ExporterProperties.Datastore(
            mongoUri,
            database,
            collection,
            "ResumeTokens",
            null,
            null,
            null,
            postgresql == null
                ? ExporterProperties.Provider.MONGODB
                : ExporterProperties.Provider.POSTGRESQL,
            postgresql,
            "event-exporter",
            null),
        new ExporterProperties.DeadLetter(database, "exporterdeadletters"),
        new ExporterProperties.Filter(filter),
        65_536);
  }
}
