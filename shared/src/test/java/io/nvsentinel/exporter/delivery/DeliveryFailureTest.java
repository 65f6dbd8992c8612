package io.nvsentinel.exporter.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DeliveryFailureTest {

  @ParameterizedTest(name = "{0} is retried")
  @ValueSource(ints = {408, 425, 429, 500, 502, 503, 504, 599})
  void transientStatusesAreRetried(int status) {
    assertThat(DeliveryFailure.status(status, null, "").retryable()).isTrue();
  }

  @ParameterizedTest(name = "{0} is final for the event")
  @ValueSource(ints = {400, 409, 410, 413, 415, 422})
  void otherClientErrorsAreFinal(int status) {
    DeliveryFailure failure = DeliveryFailure.status(status, null, "{\"error\":\"no\"}");
    assertThat(failure.retryable()).isFalse();
    assertThat(failure.kind()).isEqualTo(DeliveryFailure.Kind.REFUSED);
    assertThat(failure.errorType()).isEqualTo("http_4xx");
    assertThat(failure.getMessage())
        .isEqualTo("the sink answered " + status + ": {\"error\":\"no\"}");
  }

  @ParameterizedTest(name = "{0} is a misconfiguration, not the event's fault")
  @ValueSource(ints = {401, 403, 404, 405})
  void answersEveryEventWouldGetAreMisconfigurations(int status) {
    DeliveryFailure failure = DeliveryFailure.status(status, null, "");
    assertThat(failure.kind()).isEqualTo(DeliveryFailure.Kind.MISCONFIGURED);
    assertThat(failure.retryable()).isFalse();
    assertThat(failure.getMessage()).contains("check exporter.");
  }

  @ParameterizedTest(name = "I/O failure is retried")
  @ValueSource(strings = {"timeout", "network"})
  void ioFailuresAreRetriedAndTyped(String kind) {
    IOException cause =
        kind.equals("timeout")
            ? new HttpTimeoutException("request timed out")
            : new IOException("Connection refused");
    DeliveryFailure failure = DeliveryFailure.io(cause);
    assertThat(failure.retryable()).isTrue();
    assertThat(failure.errorType()).isEqualTo(kind);
  }

  @Test
  void onlyAConnectionThatBrokeWithoutAnAnswerIsReplacedAtOnce() {
    assertThat(DeliveryFailure.io(new java.io.IOException("Data received while in pool")))
        .matches(DeliveryFailure::connectionBroke, "a pooled connection the server wrote on");
    assertThat(DeliveryFailure.io(new java.net.SocketException("Connection reset")))
        .matches(DeliveryFailure::connectionBroke, "a reset");
    assertThat(DeliveryFailure.io(new java.io.EOFException("EOF reached while reading")))
        .matches(DeliveryFailure::connectionBroke, "a connection closed without an answer");

    assertThat(DeliveryFailure.io(new java.net.ConnectException("Connection refused")))
        .matches(f -> !f.connectionBroke(), "no connection at all: the sink is not there");
    assertThat(
            DeliveryFailure.io(
                new java.io.IOException(
                    "wrapped", new java.net.UnknownHostException("sink.example"))))
        .matches(f -> !f.connectionBroke(), "an unknown host");
    assertThat(DeliveryFailure.io(new java.net.http.HttpTimeoutException("request timed out")))
        .matches(f -> !f.connectionBroke(), "a timeout: the sink is slow, not the connection");
    assertThat(
            DeliveryFailure.io(
                new java.io.IOException(
                    "handshake", new javax.net.ssl.SSLHandshakeException("untrusted"))))
        .matches(f -> !f.connectionBroke(), "TLS: a setting");
    assertThat(DeliveryFailure.status(503, null, ""))
        .matches(f -> !f.connectionBroke(), "an answer");
  }
}
