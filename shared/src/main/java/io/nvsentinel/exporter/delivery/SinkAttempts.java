package io.nvsentinel.exporter.delivery;

import io.micrometer.tracing.Span;
import io.nvsentinel.exporter.sink.SinkAuthorization;
import io.nvsentinel.exporter.sink.SinkClient;
import io.nvsentinel.exporter.sink.SinkResponse;
import io.nvsentinel.exporter.tracing.EventTracing;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.security.oauth2.core.OAuth2AuthorizationException;

/**
 * One POST to the sink as the delivery loop sees it: with a fresh or cached token, in a span of its
 * own whose context the sink receives as {@code traceparent}, timed and counted, and recorded while
 * it waits for the sink so that liveness can tell a stuck attempt. Every failure to get an answer
 * becomes a {@link DeliveryFailure}. Safe to call from many threads.
 */
final class SinkAttempts {

  private static final Logger log = LoggerFactory.getLogger(SinkAttempts.class);

  /** The attempts of one delivery; touched by one thread at a time. */
  static final class Attempts {
    final Span span;
    int count;
    long previousStartNanos = System.nanoTime();
    long lastStartNanos = previousStartNanos;

    /**
     * @param span the delivery's span, parent of every attempt's
     */
    Attempts(Span span) {
      this.span = span;
    }

    void started() {
      count++;
      previousStartNanos = lastStartNanos;
      lastStartNanos = System.nanoTime();
    }
  }

  private final SinkClient sink;
  private final SinkAuthorization authorization;
  private final SinkAvailability availability;
  private final DeliveryMetrics metrics;
  private final EventTracing tracing;
  private final Map<Thread, Long> inProgress = new ConcurrentHashMap<>();

  SinkAttempts(
      SinkClient sink,
      SinkAuthorization authorization,
      SinkAvailability availability,
      DeliveryMetrics metrics,
      EventTracing tracing) {
    this.sink = sink;
    this.authorization = authorization;
    this.availability = availability;
    this.metrics = metrics;
    this.tracing = tracing;
  }

  /** How long the oldest attempt still waiting for the sink has been running; zero when none is. */
  Duration longestInProgress() {
    long now = System.nanoTime();
    long longest = 0;
    for (long started : inProgress.values()) {
      longest = Math.max(longest, now - started);
    }
    return Duration.ofNanos(longest);
  }

  /**
   * One attempt: a POST, plus one immediate re-send on a new connection if the one it went out on
   * broke without an answer, and one with a fresh token if the sink answered 401. Returns the
   * accepting status (and reports the acceptance to {@link SinkAvailability}).
   *
   * <p>A kept-alive connection the sink or a proxy closed while it was idle breaks the next request
   * sent on it, whatever the sink's state. Waiting out the back-off for that would hold the event,
   * and the live stream behind it (its read-ahead is bounded), for nothing.
   *
   * @throws DeliveryFailure when the sink did not accept it, or no answer came
   */
  int send(Parcel parcel, Attempts attempts) {
    SinkResponse response;
    try {
      response = post(parcel, attempts);
    } catch (DeliveryFailure failure) {
      if (!failure.connectionBroke()) {
        throw failure;
      }
      log.info(
          "event {}: the connection broke without an answer ({}); sending again at once on a new"
              + " one",
          parcel.id(),
          failure.getMessage());
      response = post(parcel, attempts);
    }
    if (response.status() == 401) {
      metrics.requestFailed("unauthorized");
      log.info(
          "event {}: the sink refused the token (401); retrying once with a fresh token",
          parcel.id());
      authorization.invalidate();
      response = post(parcel, attempts);
    }
    if (response.accepted()) {
      availability.accepted(attempts.lastStartNanos, parcel);
      return response.status();
    }
    DeliveryFailure failure =
        DeliveryFailure.status(
            response.status(), response.retryAfter(), response.body(), parcel.batch());
    metrics.requestFailed(failure.errorType());
    throw failure;
  }

  /**
   * POSTs {@code parcel} once; returns whatever the sink answered.
   *
   * @throws DeliveryFailure when no answer came (network, TLS, timeout, token)
   * @throws DeliveryInterruptedException when the thread is interrupted
   */
  SinkResponse post(Parcel parcel, Attempts attempts) {
    attempts.started();
    long start = attempts.lastStartNanos;
    Thread self = Thread.currentThread();
    inProgress.put(self, start);
    Span span = tracing.startClient(attempts.span, EventTracing.PUBLISH);
    span.tag(EventTracing.ATTEMPT, attempts.count);
    try {
      SinkResponse response =
          sink.post(
              parcel.body(),
              parcel.contentType(),
              authorization.accessToken(),
              header -> tracing.inject(span, header));
      span.tag(EventTracing.HTTP_STATUS, response.status());
      return response;
    } catch (IOException e) {
      throw counted(DeliveryFailure.io(e), span);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      span.error(e);
      throw new DeliveryInterruptedException(parcel.id(), e);
    } catch (OAuth2AuthorizationException e) {
      throw counted(DeliveryFailure.token(e, authorization.tokenUrl()), span);
    } catch (RuntimeException e) {
      throw counted(DeliveryFailure.unexpected(e), span);
    } finally {
      span.end();
      inProgress.remove(self);
      metrics.request(Duration.ofNanos(System.nanoTime() - start));
    }
  }

  private DeliveryFailure counted(DeliveryFailure failure, Span span) {
    metrics.requestFailed(failure.errorType());
    span.error(failure);
    return failure;
  }

  /**
   * Gets an access token before any event needs one, as a standby does, so that it delivers at once
   * when it takes over (the token is cached). A failure is counted as any token failure and not
   * thrown: the first delivery tries again.
   */
  void warmUp() {
    try {
      authorization.accessToken();
    } catch (RuntimeException e) {
      // counted by the authorization
    }
  }
}
