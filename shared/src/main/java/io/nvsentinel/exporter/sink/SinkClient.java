package io.nvsentinel.exporter.sink;

import io.nvsentinel.exporter.cloudevent.CloudEventMapper;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.sink.ExchangeWatchdog.Exchange;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * POSTs CloudEvents to {@code exporter.sink.endpoint}: one structured-mode event per request, or a
 * batch in the JSON batch format. Thread-safe; connections are pooled.
 *
 * <p>This is the hot path, so it calls the JDK client directly: Spring's RestClient over the same
 * client measured 2.5 times slower per request at concurrency 1 (see bench/README.md). The token
 * still comes from Spring Security's authorized-client manager.
 */
public final class SinkClient {

  private static final int BODY_SNIPPET = 512;

  private static final ExchangeWatchdog watchdog = new ExchangeWatchdog();

  private final HttpClient client;
  private final URI endpoint;
  private final Duration timeout;
  private final Clock clock;

  public SinkClient(ExporterProperties.Sink sink, Clock clock) {
    this.endpoint = URI.create(sink.endpoint());
    this.timeout = sink.timeout();
    this.clock = clock;
    this.client =
        HttpTransport.client(
            "exporter.sink",
            sink.endpoint(),
            sink.timeout(),
            sink.insecureSkipVerify(),
            sink.caFile());
  }

  /**
   * Sends {@code body}, of {@code contentType} ({@link CloudEventMapper#CONTENT_TYPE} or {@link
   * CloudEventMapper#BATCH_CONTENT_TYPE}), with the bearer token and the headers {@code
   * traceHeaders} writes; returns whatever status the sink answered.
   *
   * @throws IOException when no answer came (network, TLS, timeout)
   */
  public SinkResponse post(
      byte[] body,
      String contentType,
      String accessToken,
      Consumer<BiConsumer<String, String>> traceHeaders)
      throws IOException, InterruptedException {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(endpoint)
            .timeout(timeout)
            .header("Content-Type", contentType)
            .header("Authorization", "Bearer " + accessToken);
    traceHeaders.accept(builder::header);
    HttpRequest request = builder.POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    // The request timeout covers the wait for the response headers only; a sink that stalls in
    // its body would hold the attempt forever. The watchdog bounds the whole exchange. (The
    // asynchronous API would bound it too, but hands every response to another thread: a third of
    // the throughput at concurrency 8, bench/README.md.)
    Exchange exchange = watchdog.watch(timeout);
    HttpResponse<byte[]> response;
    try {
      response =
          client.send(
              request,
              info ->
                  info.statusCode() >= 200 && info.statusCode() < 300
                      ? HttpResponse.BodySubscribers.replacing(new byte[0])
                      : HttpResponse.BodySubscribers.ofByteArray());
    } catch (InterruptedException e) {
      if (exchange.end()) {
        throw new HttpTimeoutException(
            "the sink did not complete its answer within " + timeout + " (exporter.sink.timeout)");
      }
      throw e;
    } finally {
      exchange.end();
    }
    return new SinkResponse(
        response.statusCode(), retryAfter(response.headers()), snippet(response.body()));
  }

  /** The longest {@code Retry-After} taken as it is; longer ones, however many digits, are this. */
  static final Duration LONGEST_RETRY_AFTER = Duration.ofDays(366);

  private Duration retryAfter(HttpHeaders headers) {
    String value = headers.firstValue("Retry-After").orElse("").strip();
    if (value.isEmpty()) {
      return null;
    }
    if (value.matches("\\d+")) {
      // any number of digits: a wait beyond a year is clamped (the schedule caps it further)
      return value.length() > 9
          ? LONGEST_RETRY_AFTER
          : Duration.ofSeconds(Math.min(Long.parseLong(value), LONGEST_RETRY_AFTER.toSeconds()));
    }
    try {
      ZonedDateTime at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME);
      Duration wait = Duration.between(clock.instant(), at.toInstant());
      return wait.isNegative()
          ? Duration.ZERO
          : wait.compareTo(LONGEST_RETRY_AFTER) > 0 ? LONGEST_RETRY_AFTER : wait;
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static String snippet(byte[] body) {
    int length = Math.min(body.length, BODY_SNIPPET);
    return new String(body, 0, length, StandardCharsets.UTF_8).strip();
  }
}
