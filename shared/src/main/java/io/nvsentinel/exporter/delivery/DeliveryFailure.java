package io.nvsentinel.exporter.delivery;

import io.nvsentinel.exporter.deadletter.FailedAttempt;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.Set;
import javax.net.ssl.SSLException;
import org.springframework.security.oauth2.core.OAuth2AuthorizationException;
import org.springframework.web.client.HttpClientErrorException;

/**
 * Why one delivery attempt failed, and whose problem it is. This is where retries are decided:
 *
 * <ul>
 *   <li>{@link Kind#TRANSIENT}: I/O errors, timeouts, token-endpoint outages and the statuses 408,
 *       425, 429 and 5xx — worth another attempt;
 *   <li>{@link Kind#MISCONFIGURED}: answers that every event would get because a setting is wrong —
 *       the token endpoint refusing the client (4xx), the sink answering 401 to a fresh token, 403,
 *       404 or 405. No event is to blame, so none is dead-lettered; the message names the setting
 *       to check;
 *   <li>{@link Kind#REFUSED}: every other answer of the sink — final for this event.
 * </ul>
 */
public final class DeliveryFailure extends RuntimeException {

  /** Whose problem a failure is. */
  public enum Kind {
    /** Worth trying again: the sink or the identity provider is overloaded or out of reach. */
    TRANSIENT,
    /** A setting of the exporter (or of the sink's view of it) is wrong; every event would fail. */
    MISCONFIGURED,
    /** The sink refuses this event. */
    REFUSED
  }

  private static final Set<Integer> RETRYABLE_STATUSES = Set.of(408, 425, 429);

  /** OAuth 2.0 error codes (RFC 6749 5.2) that no retry can fix. */
  private static final Set<String> CLIENT_ERRORS =
      Set.of(
          "invalid_request",
          "invalid_client",
          "invalid_grant",
          "unauthorized_client",
          "unsupported_grant_type",
          "invalid_scope",
          "access_denied");

  private final String errorType;
  private final int status;
  private final Kind kind;
  private final Duration retryAfter;

  private DeliveryFailure(
      String errorType,
      int status,
      Kind kind,
      Duration retryAfter,
      String message,
      Throwable cause) {
    super(message, cause, false, false);
    this.errorType = errorType;
    this.status = status;
    this.kind = kind;
    this.retryAfter = retryAfter;
  }

  /** The sink answered with a status that is not 2xx. */
  static DeliveryFailure status(int status, Duration retryAfter, String body) {
    return status(status, retryAfter, body, false);
  }

  /**
   * The sink answered a request with a status that is not 2xx; {@code batch} when the request was
   * in the batch format, which a 415 then says the sink does not take.
   */
  static DeliveryFailure status(int status, Duration retryAfter, String body, boolean batch) {
    String answered = "the sink answered " + status + (body.isEmpty() ? "" : ": " + body);
    if (status >= 500 || RETRYABLE_STATUSES.contains(status)) {
      return new DeliveryFailure(
          status >= 500 ? "http_5xx" : status == 429 ? "rate_limited" : "http_4xx",
          status,
          Kind.TRANSIENT,
          retryAfter,
          answered,
          null);
    }
    String setting =
        switch (status) {
          case 401 ->
              "; it refuses even a freshly issued token: check exporter.oidc.tokenUrl,"
                  + " exporter.oidc.clientId and exporter.oidc.scope against what the sink accepts";
          case 403 ->
              "; the exporter's client may not post events: check exporter.oidc.scope and the"
                  + " client's permissions at the sink";
          case 404, 405 -> "; check exporter.sink.endpoint";
          case 415 ->
              batch
                  ? "; the sink does not take the CloudEvents batch format: set"
                      + " exporter.sink.batch.enabled=false"
                  : null;
          default -> null;
        };
    if (setting != null) {
      return new DeliveryFailure(
          status == 401 ? "unauthorized" : "http_4xx",
          status,
          Kind.MISCONFIGURED,
          null,
          answered + setting,
          null);
    }
    return new DeliveryFailure("http_4xx", status, Kind.REFUSED, null, answered, null);
  }

  /**
   * The request did not complete: network error or timeout, transient; or a TLS handshake the
   * exporter refused (an untrusted certificate, a wrong host name), which is a setting.
   */
  static DeliveryFailure io(IOException e) {
    if (causedBy(e, SSLException.class) || causedBy(e, CertificateException.class)) {
      return new DeliveryFailure(
          "network",
          0,
          Kind.MISCONFIGURED,
          null,
          "cannot reach the sink over TLS: "
              + rootMessage(e)
              + "; check exporter.sink.endpoint and exporter.sink.caFile (the CA bundle that"
              + " signed the sink's certificate)",
          e);
    }
    boolean timeout =
        causedBy(e, HttpTimeoutException.class) || causedBy(e, SocketTimeoutException.class);
    return new DeliveryFailure(
        timeout ? "timeout" : "network",
        0,
        Kind.TRANSIENT,
        null,
        (timeout ? "the sink did not answer in time: " : "cannot reach the sink: ")
            + rootMessage(e),
        e);
  }

  /**
   * A connection broke without an answer — reset, closed, or found unusable when the client took it
   * from its pool, as a kept-alive connection the sink or a proxy closed while idle is — as opposed
   * to no connection at all (refused, no route, an unknown host), a timeout or a TLS failure.
   */
  boolean connectionBroke() {
    return kind == Kind.TRANSIENT
        && "network".equals(errorType)
        && getCause() instanceof IOException e
        && !causedBy(e, ConnectException.class)
        && !causedBy(e, NoRouteToHostException.class)
        && !causedBy(e, UnknownHostException.class)
        && !causedBy(e, UnresolvedAddressException.class);
  }

  /**
   * No access token could be obtained. A 4xx answer of the token endpoint, or an OAuth error code
   * that says the client or its request is wrong, is a misconfiguration; anything else (no answer,
   * 5xx, a body that is no token response) is transient.
   */
  static DeliveryFailure token(OAuth2AuthorizationException e, String tokenUrl) {
    String code = e.getError().getErrorCode();
    HttpClientErrorException clientError = cause(e, HttpClientErrorException.class);
    boolean tls = causedBy(e, SSLException.class) || causedBy(e, CertificateException.class);
    boolean misconfigured = CLIENT_ERRORS.contains(code) || clientError != null || tls;
    String detail =
        clientError != null
            ? "it answered "
                + clientError.getStatusCode().value()
                + snippet(clientError.getResponseBodyAsString())
            : code + (e.getCause() == null ? "" : " (" + rootMessage(e) + ")");
    String message = "cannot obtain an access token from " + tokenUrl + ": " + detail;
    if (tls) {
      message += "; check exporter.oidc.tokenUrl and exporter.oidc.caFile";
    } else if (misconfigured) {
      message +=
          "invalid_scope".equals(code)
              ? "; check exporter.oidc.scope"
              : "; check exporter.oidc.clientId, the client secret (exporter.oidc.clientSecretFile"
                  + " or the environment variable named by exporter.oidc.clientSecretEnv) and"
                  + " exporter.oidc.scope";
    }
    return new DeliveryFailure(
        "token", 0, misconfigured ? Kind.MISCONFIGURED : Kind.TRANSIENT, null, message, e);
  }

  /** Anything else: a bug or an unexpected state, not worth repeating. */
  static DeliveryFailure unexpected(RuntimeException e) {
    return new DeliveryFailure("unexpected", 0, Kind.REFUSED, null, "unexpected failure: " + e, e);
  }

  /** Label for {@code health_events_exporter_publish_errors_total{error_type}}. */
  public String errorType() {
    return errorType;
  }

  /** The HTTP status the sink answered, or 0 when there was no answer. */
  public int status() {
    return status;
  }

  public Kind kind() {
    return kind;
  }

  /** Whether another attempt can help. */
  public boolean retryable() {
    return kind == Kind.TRANSIENT;
  }

  /** The wait the sink asked for with {@code Retry-After}, or {@code null}. */
  public Duration retryAfter() {
    return retryAfter;
  }

  private static String snippet(String body) {
    String text = body == null ? "" : body.strip();
    return text.isEmpty() ? "" : " " + (text.length() > 200 ? text.substring(0, 200) : text);
  }

  private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
    return cause(t, type) != null;
  }

  private static <T extends Throwable> T cause(Throwable t, Class<T> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return type.cast(c);
      }
    }
    return null;
  }

  private static String rootMessage(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage();
    return root.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  /** This failure as the last attempt a dead letter records. */
  public FailedAttempt asAttempt() {
    return new FailedAttempt(getMessage(), errorType(), status());
  }
}
