package io.nvsentinel.exporter.config;

import io.nvsentinel.exporter.filter.EventFilter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Function;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.Environment;
import org.springframework.validation.Errors;
import org.springframework.validation.Validator;

/**
 * Rules that need more than one field or a look at the file system. Each problem is reported
 * against its own key, with the value and the fix, so one start-up lists every mistake at once.
 */
final class ExporterPropertiesValidator implements Validator {

  private static final ExporterKeys KEYS = new ExporterKeys();

  private final Function<String, String> environment;
  private final Environment settings;

  /**
   * @param environment the process environment, for the variables some rules look at
   * @param settings every source of settings, to find keys no application reads; {@code null}
   *     checks the bound values only
   */
  ExporterPropertiesValidator(Function<String, String> environment, Environment settings) {
    this.environment = environment;
    this.settings = settings;
  }

  @Override
  public boolean supports(Class<?> type) {
    return ExporterProperties.class.isAssignableFrom(type);
  }

  @Override
  public void validate(Object target, Errors errors) {
    ExporterProperties p = (ExporterProperties) target;
    if (settings instanceof ConfigurableEnvironment configurable) {
      KEYS.unknown(configurable).forEach(problem -> errors.reject("unknown", problem));
    }
    String cluster = p.cluster();
    if (cluster == null || cluster.isBlank()) {
      errors.rejectValue(
          "metadata",
          "required",
          "exporter.metadata.cluster is required: it names this cluster in every CloudEvent source"
              + " (nvsentinel://<cluster>/healthevents); set e.g. exporter.metadata.cluster=prod-us-west-2");
    }
    requireHttpUrl(errors, "sink.endpoint", p.sink().endpoint());
    positive(errors, "sink.timeout", p.sink().timeout());
    readableIfSet(errors, "sink.caFile", p.sink().caFile());
    positive(errors, "sink.batch.maxWait", p.sink().batch().maxWait());

    ExporterProperties.Oidc oidc = p.oidc();
    requireHttpUrl(errors, "oidc.tokenUrl", oidc.tokenUrl());
    required(errors, "oidc.clientId", oidc.clientId(), "e.g. nvsentinel-exporter");
    required(errors, "oidc.scope", oidc.scope(), "e.g. events:write");
    readableIfSet(errors, "oidc.caFile", oidc.caFile());
    validateSecretSource(errors, oidc);

    positive(errors, "backfill.maxAge", p.backfill().maxAge());
    EventFilter.problem(p.filter().expression())
        .ifPresent(problem -> errors.rejectValue("filter.expression", "cel", problem));
    validateDatastore(errors, p.datastore());

    ExporterProperties.FailureHandling retry = p.failureHandling();
    positive(errors, "failureHandling.initialBackoff", retry.initialBackoff());
    positive(errors, "failureHandling.maxBackoff", retry.maxBackoff());
    if (retry.initialBackoff() != null
        && retry.maxBackoff() != null
        && retry.maxBackoff().compareTo(retry.initialBackoff()) < 0) {
      errors.rejectValue(
          "failureHandling.maxBackoff",
          "range",
          "exporter.failureHandling.maxBackoff ("
              + GoDuration.format(retry.maxBackoff())
              + ") must not be shorter than exporter.failureHandling.initialBackoff ("
              + GoDuration.format(retry.initialBackoff())
              + "): raise maxBackoff or lower initialBackoff");
    }
  }

  private void validateDatastore(Errors errors, ExporterProperties.Datastore datastore) {
    if (datastore.provider() == ExporterProperties.Provider.POSTGRESQL) {
      validatePostgresql(errors, datastore.postgresql());
      return;
    }
    String uri = datastore.uri() == null ? "" : datastore.uri();
    if (Boolean.FALSE.equals(datastore.tls())) {
      if (uri.toLowerCase(Locale.ROOT).matches(".*[?&](tls|ssl)=true.*")) {
        errors.rejectValue(
            "datastore.tls",
            "conflict",
            "exporter.datastore.tls (MONGODB_TLS_ENABLED) is false but exporter.datastore.uri asks"
                + " for TLS (tls=true): set one of the two to agree (NVSentinel's"
                + " global.datastore.tls.enabled)");
      }
      return; // no certificate file is used
    }
    if (uri.toUpperCase(Locale.ROOT).contains("AUTHMECHANISM=MONGODB-X509")
        && (datastore.certFile() == null || datastore.keyFile() == null)) {
      // the URI itself is not repeated: it may hold credentials
      errors.rejectValue(
          "datastore.certFile",
          "required",
          "exporter.datastore.uri asks for X.509 authentication (authMechanism=MONGODB-X509) but no"
              + " client certificate and key are given: set exporter.datastore.certFile and"
              + " exporter.datastore.keyFile, or MONGODB_CLIENT_CERT_MOUNT_PATH to the directory"
              + " holding tls.crt and tls.key");
    }
    readableIfSet(errors, "datastore.caFile", datastore.caFile());
    readableIfSet(errors, "datastore.certFile", datastore.certFile());
    readableIfSet(errors, "datastore.keyFile", datastore.keyFile());
  }

  private void validateSecretSource(Errors errors, ExporterProperties.Oidc oidc) {
    String envName = oidc.clientSecretEnv();
    if (envName != null && !envName.isBlank()) {
      String fromEnv = environment.apply(envName);
      if (fromEnv != null && !fromEnv.isBlank()) {
        return;
      }
    }
    Path file = oidc.clientSecretFile();
    String problem = ClientSecret.problemReading(file);
    if (problem != null) {
      errors.rejectValue(
          "oidc.clientSecretFile",
          "unreadable",
          "exporter.oidc.clientSecretFile: cannot read the OIDC client secret from '"
              + file
              + "' ("
              + problem
              + "); mount the Kubernetes secret key oidc-client-secret there"
              + (envName == null || envName.isBlank()
                  ? ""
                  : " or set the environment variable " + envName));
    }
  }

  private static void requireHttpUrl(Errors errors, String key, String value) {
    if (value == null || value.isBlank()) {
      errors.rejectValue(key, "required", "exporter." + key + " is required: an http(s) URL");
      return;
    }
    String scheme;
    try {
      URI uri = URI.create(value.strip());
      scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (uri.getHost() == null) {
        scheme = "";
      }
    } catch (IllegalArgumentException e) {
      scheme = "";
    }
    if (!scheme.equals("http") && !scheme.equals("https")) {
      errors.rejectValue(
          key,
          "url",
          "exporter." + key + " must be an http(s) URL with a host, got '" + value + "'");
    }
  }

  private static void required(Errors errors, String key, String value, String example) {
    if (value == null || value.isBlank()) {
      errors.rejectValue(key, "required", "exporter." + key + " is required (" + example + ")");
    }
  }

  private static void positive(Errors errors, String key, Duration value) {
    if (value != null && (value.isZero() || value.isNegative())) {
      errors.rejectValue(
          key,
          "range",
          "exporter."
              + key
              + " must be a positive duration, got '"
              + GoDuration.format(value)
              + "'");
    }
  }

  private static void validatePostgresql(Errors errors, ExporterProperties.Postgresql postgresql) {
    if (postgresql.username() == null || postgresql.username().isBlank()) {
      errors.rejectValue(
          "datastore.postgresql.username",
          "required",
          "exporter.datastore.provider is postgresql but no user is given: set"
              + " exporter.datastore.postgresql.username, or DATASTORE_USERNAME as NVSentinel's"
              + " datastore Secret does");
    }
    readableIfSet(errors, "datastore.postgresql.sslrootcert", postgresql.sslrootcert());
    readableIfSet(errors, "datastore.postgresql.sslcert", postgresql.sslcert());
    readableIfSet(errors, "datastore.postgresql.sslkey", postgresql.sslkey());
  }

  private static void readableIfSet(Errors errors, String key, Path file) {
    if (file == null) {
      return;
    }
    String problem = ClientSecret.problemReading(file);
    if (problem != null) {
      errors.rejectValue(
          key, "unreadable", "exporter." + key + ": cannot read '" + file + "' (" + problem + ")");
    }
  }
}
