package io.nvsentinel.exporter.delivery;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Set;
import org.springframework.security.oauth2.core.OAuth2AuthorizationException;

/**
 * Why one delivery attempt failed, and whether trying again can help. This is where retries are
 * decided: I/O errors, timeouts, token-endpoint failures and the statuses 408, 425, 429 and 5xx are
 * worth another attempt; every other answer of the sink is final.
 */
public final class DeliveryFailure extends RuntimeException {

  private static final Set<Integer> RETRYABLE_STATUSES = Set.of(408, 425, 429);

  private final String errorType;
  private final int status;
  private final boolean retryable;
  private final Duration retryAfter;

  private DeliveryFailure(
      String errorType,
      int status,
      boolean retryable,
      Duration retryAfter,
      String message,
      Throwable cause) {
    super(message, cause, false, false);
    this.errorType = errorType;
    this.status = status;
    this.retryable = retryable;
    this.retryAfter = retryAfter;
  }

  /** The sink answered with a status that is not 2xx. */
  static DeliveryFailure status(int status, Duration retryAfter, String body) {
    boolean retryable = status >= 500 || RETRYABLE_STATUSES.contains(status);
    String type = status >= 500 ? "http_5xx" : status == 429 ? "rate_limited" : "http_4xx";
    return new DeliveryFailure(
        type,
        status,
        retryable,
        retryAfter,
        "the sink answered " + status + (body.isEmpty() ? "" : ": " + body),
        null);
  }

  /** The request did not complete: network error or timeout. */
  static DeliveryFailure io(IOException e) {
    boolean timeout =
        causedBy(e, HttpTimeoutException.class) || causedBy(e, SocketTimeoutException.class);
    return new DeliveryFailure(
        timeout ? "timeout" : "network",
        0,
        true,
        null,
        (timeout ? "the sink did not answer in time: " : "cannot reach the sink: ")
            + rootMessage(e),
        e);
  }

  /** No access token could be obtained. */
  static DeliveryFailure token(OAuth2AuthorizationException e, String tokenUrl) {
    return new DeliveryFailure(
        "token",
        0,
        true,
        null,
        "cannot obtain an access token from "
            + tokenUrl
            + ": "
            + e.getError()
            + (e.getCause() == null ? "" : " (" + rootMessage(e) + ")"),
        e);
  }

  /** Anything else: a bug or an unexpected state, not worth repeating. */
  static DeliveryFailure unexpected(RuntimeException e) {
    return new DeliveryFailure("unexpected", 0, false, null, "unexpected failure: " + e, e);
  }

  /** Label for {@code health_events_exporter_publish_errors_total{error_type}}. */
  public String errorType() {
    return errorType;
  }

  /** The HTTP status the sink answered, or 0 when there was no answer. */
  public int status() {
    return status;
  }

  public boolean retryable() {
    return retryable;
  }

  /** The wait the sink asked for with {@code Retry-After}, or {@code null}. */
  public Duration retryAfter() {
    return retryAfter;
  }

  private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return true;
      }
    }
    return false;
  }

  private static String rootMessage(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage();
    return root.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }
}
