package io.nvsentinel.exporter.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.tracing.Span;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.Map;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonObjectId;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EventTracingTest {

  static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  static final String CONNECTOR = "00f067aa0ba902b7";

  final TestTracing test = new TestTracing();

  static BsonDocument stored(BsonValue traceId, BsonValue connectorSpan) {
    BsonDocument metadata = new BsonDocument();
    if (traceId != null) {
      metadata.put("trace_id", traceId);
    }
    BsonDocument status = new BsonDocument();
    if (connectorSpan != null) {
      status.put("spanids", new BsonDocument("platform-connector", connectorSpan));
    }
    return new BsonDocument("_id", new BsonObjectId())
        .append("healthevent", new BsonDocument("metadata", metadata))
        .append("healtheventstatus", status);
  }

  SpanData ended(Span span) {
    span.end();
    return test.named(EventTracing.PROCESS_EVENT);
  }

  /** As NVSentinel's modules join across the change stream: same trace, a link, not a child. */
  @Test
  void theEventsSpanJoinsThePlatformConnectorsTraceLinkedToItsSpan() {
    SpanData span =
        ended(test.tracing.startEvent(stored(new BsonString(TRACE), new BsonString(CONNECTOR))));

    assertThat(span.getTraceId()).isEqualTo(TRACE);
    assertThat(span.getParentSpanId()).as("not the connector's child").isNotEqualTo(CONNECTOR);
    assertThat(span.getLinks())
        .singleElement()
        .satisfies(
            link -> {
              assertThat(link.getSpanContext().getTraceId()).isEqualTo(TRACE);
              assertThat(link.getSpanContext().getSpanId()).isEqualTo(CONNECTOR);
            });
    assertThat(span.getKind()).isEqualTo(io.opentelemetry.api.trace.SpanKind.CONSUMER);
  }

  @Test
  void aTraceIdWithoutASpanIdStillJoinsThatTrace() {
    SpanData span =
        ended(test.tracing.startEvent(stored(new BsonString(TRACE.toUpperCase()), null)));

    assertThat(span.getTraceId()).isEqualTo(TRACE);
    assertThat(span.getParentSpanId()).isEqualTo(TRACE.substring(16));
    assertThat(span.getLinks()).as("nothing to link to").isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "xyz", "00000000000000000000000000000000", "4bf92f3577b34da6"})
  void anUnusableTraceIdStartsATraceOfItsOwn(String traceId) {
    SpanData span =
        ended(test.tracing.startEvent(stored(new BsonString(traceId), new BsonString(CONNECTOR))));

    assertThat(span.getParentSpanContext().isValid()).isFalse();
    assertThat(span.getTraceId()).isNotEqualTo(traceId);
  }

  @Test
  void dirtyDocumentsNeverBreakTracing() {
    BsonDocument wrongTypes =
        new BsonDocument("_id", new BsonString("x"))
            .append("healthevent", new BsonString("not a document"))
            .append("healtheventstatus", new BsonInt32(3));
    SpanData span = ended(test.tracing.startEvent(wrongTypes));
    assertThat(span.getParentSpanContext().isValid()).isFalse();
    assertThat(test.tracing.startEvent(stored(new BsonInt32(7), null))).isNotNull();
  }

  @Test
  void theHeaderIsTheW3cContextOfTheGivenSpan() {
    Span event = test.tracing.startEvent(stored(new BsonString(TRACE), new BsonString(CONNECTOR)));
    Span attempt = test.tracing.startClient(event, EventTracing.PUBLISH);

    Map<String, String> headers = test.tracing.headers(attempt);

    assertThat(headers)
        .containsEntry("traceparent", "00-" + TRACE + "-" + attempt.context().spanId() + "-01");
    attempt.end();
    assertThat(test.named(EventTracing.PUBLISH).getParentSpanId())
        .isEqualTo(event.context().spanId());
  }

  @Test
  void offRecordsNothingAndWritesNoHeader() {
    Span span =
        EventTracing.OFF.startEvent(stored(new BsonString(TRACE), new BsonString(CONNECTOR)));

    assertThat(span.isNoop()).isTrue();
    assertThat(EventTracing.OFF.startChild(span, EventTracing.TRANSFORM).isNoop()).isTrue();
    assertThat(EventTracing.OFF.headers(span)).isEmpty();
    assertThat(EventTracing.OFF.enabled()).isFalse();
  }
}
