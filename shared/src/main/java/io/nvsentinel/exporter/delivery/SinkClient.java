package io.nvsentinel.exporter.delivery;

import io.nvsentinel.exporter.cloudevent.CloudEventMapper;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.config.ExporterProperties;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.client.ClientHttpRequestInterceptor;
import org.springframework.web.client.RestClient;

/**
 * POSTs one structured-mode CloudEvent per request to {@code exporter.sink.endpoint}, with the
 * bearer token added by {@link SinkAuthorization}. Thread-safe; connections are pooled.
 */
final class SinkClient {

  private static final MediaType CLOUDEVENTS_JSON =
      MediaType.parseMediaType(CloudEventMapper.CONTENT_TYPE);
  private static final int BODY_SNIPPET = 512;

  private final RestClient client;
  private final String endpoint;
  private final Clock clock;

  SinkClient(
      ExporterProperties.Sink sink, ClientHttpRequestInterceptor authorization, Clock clock) {
    this.endpoint = sink.endpoint();
    this.clock = clock;
    this.client =
        RestClient.builder()
            .requestFactory(
                HttpTransport.create(
                    "exporter.sink",
                    sink.endpoint(),
                    sink.timeout(),
                    sink.insecureSkipVerify(),
                    sink.caFile()))
            .requestInterceptor(authorization)
            .build();
  }

  String endpoint() {
    return endpoint;
  }

  /** Sends the event; never throws for an HTTP status, only when no answer came. */
  SinkResponse post(OutgoingEvent event) {
    return client
        .post()
        .uri(endpoint)
        .contentType(CLOUDEVENTS_JSON)
        .body(event.json())
        .exchange(
            (request, response) ->
                new SinkResponse(
                    response.getStatusCode().value(),
                    retryAfter(response.getHeaders()),
                    snippet(response.getBody())));
  }

  private Duration retryAfter(HttpHeaders headers) {
    String value = headers.getFirst(HttpHeaders.RETRY_AFTER);
    if (value == null || value.isBlank()) {
      return null;
    }
    String text = value.strip();
    if (text.matches("\\d+")) {
      return Duration.ofSeconds(Long.parseLong(text));
    }
    try {
      ZonedDateTime at = ZonedDateTime.parse(text, DateTimeFormatter.RFC_1123_DATE_TIME);
      Duration wait = Duration.between(clock.instant(), at.toInstant());
      return wait.isNegative() ? Duration.ZERO : wait;
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static String snippet(InputStream body) throws IOException {
    if (body == null) {
      return "";
    }
    byte[] bytes = body.readNBytes(BODY_SNIPPET);
    return new String(bytes, StandardCharsets.UTF_8).strip();
  }
}
