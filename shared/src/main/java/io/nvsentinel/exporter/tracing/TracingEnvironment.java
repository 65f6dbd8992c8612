package io.nvsentinel.exporter.tracing;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * OpenTelemetry's standard variables, as NVSentinel's umbrella chart sets them from {@code
 * global.tracing.*}, read as Spring Boot's tracing settings. Tracing is on exactly when an endpoint
 * is given; without one no span is recorded and nothing is exported.
 *
 * <ul>
 *   <li>{@code OTEL_EXPORTER_OTLP_TRACES_ENDPOINT} or {@code OTEL_EXPORTER_OTLP_ENDPOINT}: the
 *       collector. Like the replaced exporter's, the endpoint may be a bare {@code host:port}.
 *   <li>{@code OTEL_EXPORTER_OTLP_PROTOCOL} (or {@code ..._TRACES_PROTOCOL}): {@code grpc}, the
 *       replaced exporter's only one and so the default, or {@code http/protobuf}.
 *   <li>{@code OTEL_EXPORTER_OTLP_INSECURE}: {@code true} sends a bare {@code host:port} over plain
 *       text; otherwise it is reached over TLS.
 * </ul>
 *
 * Every span is sampled, as the replaced exporter samples them; {@code
 * management.tracing.sampling.probability} lowers that. Spans are those of service {@code
 * event-exporter}, as the replaced exporter's ({@code OTEL_SERVICE_NAME} or a {@code service.name}
 * in {@code OTEL_RESOURCE_ATTRIBUTES} says otherwise), with the application ({@code
 * event-exporter-live} or {@code -backfill}) in {@code event_exporter.application}.
 */
public final class TracingEnvironment {

  /** Whether traces are exported; the exporter records spans only then. */
  public static final String EXPORT_ENABLED = "management.tracing.export.enabled";

  static final String ENDPOINT = "management.opentelemetry.tracing.export.otlp.endpoint";
  static final String TRANSPORT = "management.opentelemetry.tracing.export.otlp.transport";
  static final String SAMPLING = "management.tracing.sampling.probability";
  static final String RESOURCE = "management.opentelemetry.resource-attributes";

  /** The {@code service.name} of NVSentinel's exporter, both applications' unless set otherwise. */
  public static final String SERVICE_NAME = "event-exporter";

  private TracingEnvironment() {}

  public static Map<String, Object> settings(Function<String, String> env) {
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put(SAMPLING, "1.0");
    String tracesEndpoint = value(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    String endpoint =
        tracesEndpoint != null ? tracesEndpoint : value(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
    if (endpoint == null) {
      settings.put(EXPORT_ENABLED, "false");
      return settings;
    }
    String protocol = value(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
    if (protocol == null) {
      protocol = value(env, "OTEL_EXPORTER_OTLP_PROTOCOL");
    }
    boolean http = protocol != null && protocol.toLowerCase(Locale.ROOT).startsWith("http");
    boolean insecure = "true".equalsIgnoreCase(value(env, "OTEL_EXPORTER_OTLP_INSECURE"));
    String url =
        endpoint.contains("://") ? endpoint : (insecure ? "http://" : "https://") + endpoint;
    if (http && tracesEndpoint == null) {
      // the general endpoint is a base; the signal's own endpoint is used as it is
      url = url.replaceAll("/+$", "") + "/v1/traces";
    }
    try {
      URI.create(url);
    } catch (IllegalArgumentException e) {
      // here, naming the variable, rather than deep in the span exporter
      throw new IllegalArgumentException(
          (tracesEndpoint != null
                  ? "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
                  : "OTEL_EXPORTER_OTLP_ENDPOINT")
              + " is not a usable endpoint: '"
              + endpoint
              + "' ("
              + e.getMessage()
              + "); give host:port or a URL such as http://otel-collector:4317",
          e);
    }
    settings.put(EXPORT_ENABLED, "true");
    settings.put(ENDPOINT, url);
    settings.put(TRANSPORT, http ? "http" : "grpc");
    String resource = value(env, "OTEL_RESOURCE_ATTRIBUTES");
    if (value(env, "OTEL_SERVICE_NAME") == null
        && (resource == null || !resource.contains("service.name="))) {
      // NVSentinel's exporter's service; which application of the two it was says an attribute
      settings.put(RESOURCE + "[service.name]", SERVICE_NAME);
    }
    String application = value(env, "spring.application.name");
    if (application != null) {
      settings.put(RESOURCE + "[event_exporter.application]", application);
    }
    return settings;
  }

  private static String value(Function<String, String> env, String name) {
    String value = env.apply(name);
    return value == null || value.isBlank() ? null : value.strip();
  }
}
