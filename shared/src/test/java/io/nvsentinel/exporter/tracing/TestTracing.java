package io.nvsentinel.exporter.tracing;

import io.micrometer.tracing.otel.bridge.OtelCurrentTraceContext;
import io.micrometer.tracing.otel.bridge.OtelPropagator;
import io.micrometer.tracing.otel.bridge.OtelTracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A real OpenTelemetry SDK behind Micrometer Tracing, as Spring Boot wires it, keeping the spans
 * that end in memory instead of exporting them.
 */
public final class TestTracing {

  public final List<SpanData> finished = new CopyOnWriteArrayList<>();
  public final EventTracing tracing;

  public TestTracing() {
    SpanExporter memory =
        new SpanExporter() {
          @Override
          public CompletableResultCode export(Collection<SpanData> spans) {
            finished.addAll(spans);
            return CompletableResultCode.ofSuccess();
          }

          @Override
          public CompletableResultCode flush() {
            return CompletableResultCode.ofSuccess();
          }

          @Override
          public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
          }
        };
    SdkTracerProvider provider =
        SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(memory)).build();
    io.opentelemetry.api.trace.Tracer sdk = provider.get("test");
    ContextPropagators propagators =
        ContextPropagators.create(W3CTraceContextPropagator.getInstance());
    tracing =
        new EventTracing(
            new OtelTracer(sdk, new OtelCurrentTraceContext(), event -> {}),
            new OtelPropagator(propagators, sdk));
  }

  public SpanData named(String name) {
    return finished.stream().filter(s -> s.getName().equals(name)).findFirst().orElseThrow();
  }
}
