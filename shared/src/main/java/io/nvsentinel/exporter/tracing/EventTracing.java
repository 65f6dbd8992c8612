package io.nvsentinel.exporter.tracing;

import io.micrometer.tracing.Link;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.TraceContext;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * The spans of one event's export, through Micrometer Tracing (OpenTelemetry underneath, exported
 * over OTLP when {@code OTEL_EXPORTER_OTLP_ENDPOINT} is set; see {@link TracingEnvironment}).
 *
 * <p>Each event gets {@value #PROCESS_EVENT}, in the trace NVSentinel's platform connector started
 * for it (its trace id in {@code healthevent.metadata.trace_id}) and linked to that connector's
 * span (its id in {@code healtheventstatus.spanids.platform-connector}) rather than below it, as
 * NVSentinel's own modules join across the change stream ({@code
 * StartSpanWithLinkFromTraceContext}, ADR-031), with the conversion, the filter and every delivery
 * attempt below it. Parents are passed explicitly, never through a thread-local, because the
 * backfill converts on one thread and delivers on another. With tracing off every span is the no-op
 * span and nothing about the document is read.
 */
public final class EventTracing {

  /** Span names, those of the replaced exporter where it has the same step. */
  public static final String PROCESS_EVENT = "event_exporter.process_event";

  public static final String TRANSFORM = "event_exporter.transform";
  public static final String FILTER = "event_exporter.filter";
  public static final String PUBLISH_WITH_RETRY = "event_exporter.publish_with_retry";
  public static final String PUBLISH = "event_exporter.publish";

  /** Span attributes. */
  public static final String EVENT_ID = "cloudevents.event_id";

  public static final String DOCUMENT_ID = "event_exporter.document_id";
  public static final String OUTCOME = "event_exporter.outcome";
  public static final String ATTEMPT = "event_exporter.attempt";
  public static final String HTTP_STATUS = "http.response.status_code";

  /** Where the platform connector leaves its trace in the stored document. */
  static final String TRACE_ID_KEY = "trace_id";

  static final String PARENT_SERVICE = "platform-connector";

  private static final Pattern TRACE_ID = Pattern.compile("[0-9a-f]{32}");
  private static final Pattern SPAN_ID = Pattern.compile("[0-9a-f]{16}");

  /** Tracing off: no spans, no headers. */
  public static final EventTracing OFF = new EventTracing(Tracer.NOOP, Propagator.NOOP);

  private final Tracer tracer;
  private final Propagator propagator;
  private final boolean enabled;

  public EventTracing(Tracer tracer, Propagator propagator) {
    this.tracer = tracer;
    this.propagator = propagator;
    this.enabled = tracer != Tracer.NOOP;
  }

  public boolean enabled() {
    return enabled;
  }

  /** The span of one event's export, in the trace the stored document names, if it names one. */
  public Span startEvent(BsonDocument document) {
    if (!enabled) {
      return Span.NOOP;
    }
    Span.Builder builder = tracer.spanBuilder().name(PROCESS_EVENT).kind(Span.Kind.CONSUMER);
    String traceId = traceId(document);
    if (traceId != null) {
      builder.setParent(context(traceId, rootOf(traceId)));
      String connector = text(path(document, "healtheventstatus", "spanids"), PARENT_SERVICE);
      if (connector != null && SPAN_ID.matcher(connector).matches() && !zero(connector)) {
        builder.addLink(new Link(context(traceId, connector)));
      }
    } else {
      builder.setNoParent();
    }
    Span span = builder.start();
    BsonValue id = document.get("_id");
    if (id != null) {
      span.tag(
          DOCUMENT_ID, id.isObjectId() ? id.asObjectId().getValue().toHexString() : id.toString());
    }
    return span;
  }

  /** A step of the export below {@code parent}; a root span when there is none. */
  public Span startChild(Span parent, String name) {
    return startChild(parent, name, null);
  }

  /** A call to another system (the sink) below {@code parent}. */
  public Span startClient(Span parent, String name) {
    return startChild(parent, name, Span.Kind.CLIENT);
  }

  /** {@code kind} null for a step inside the exporter. */
  private Span startChild(Span parent, String name, Span.Kind kind) {
    if (!enabled) {
      return Span.NOOP;
    }
    Span.Builder builder = tracer.spanBuilder().name(name);
    if (kind != null) {
      builder.kind(kind);
    }
    if (parent != null && !parent.isNoop()) {
      builder.setParent(parent.context());
    } else {
      builder.setNoParent();
    }
    return builder.start();
  }

  /** Ends {@code span} saying how the event's export ended. */
  public static void finish(Span span, String outcome) {
    span.tag(OUTCOME, outcome).end();
  }

  /** Writes {@code span}'s context as W3C trace-context headers ({@code traceparent}, ...). */
  public void inject(Span span, BiConsumer<String, String> header) {
    if (enabled && !span.isNoop()) {
      propagator.inject(span.context(), header, BiConsumer::accept);
    }
  }

  /** {@code span}'s context as the headers {@link #inject} writes; empty with tracing off. */
  public Map<String, String> headers(Span span) {
    Map<String, String> headers = new LinkedHashMap<>();
    inject(span, headers::put);
    return headers;
  }

  /** The platform connector's trace id, if the document holds a usable one. */
  private static String traceId(BsonDocument document) {
    String traceId = text(path(document, "healthevent", "metadata"), TRACE_ID_KEY);
    return traceId == null || !TRACE_ID.matcher(traceId).matches() || zero(traceId)
        ? null
        : traceId;
  }

  /**
   * OpenTelemetry places a span in an existing trace only below a parent span id, where Go's can
   * start a root in it: the parent named is one derived from the trace id that no span has, so
   * viewers show this span as a root of the trace, beside the connector's, as NVSentinel's are.
   */
  private static String rootOf(String traceId) {
    String spanId = traceId.substring(16);
    return zero(spanId) ? traceId.substring(0, 16) : spanId;
  }

  private TraceContext context(String traceId, String spanId) {
    return tracer.traceContextBuilder().traceId(traceId).spanId(spanId).sampled(true).build();
  }

  private static BsonDocument path(BsonDocument document, String first, String second) {
    BsonValue outer = document.get(first);
    if (outer == null || !outer.isDocument()) {
      return null;
    }
    BsonValue inner = outer.asDocument().get(second);
    return inner != null && inner.isDocument() ? inner.asDocument() : null;
  }

  private static String text(BsonDocument document, String key) {
    if (document == null) {
      return null;
    }
    BsonValue value = document.get(key);
    return value != null && value.isString()
        ? value.asString().getValue().strip().toLowerCase(Locale.ROOT)
        : null;
  }

  private static boolean zero(String hex) {
    return hex.chars().allMatch(c -> c == '0');
  }
}
