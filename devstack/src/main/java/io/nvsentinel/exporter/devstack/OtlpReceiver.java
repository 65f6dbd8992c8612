package io.nvsentinel.exporter.devstack;

import com.google.protobuf.ByteString;
import com.sun.net.httpserver.HttpServer;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * An OpenTelemetry collector's receiving end, in process: OTLP over gRPC (the protocol of
 * NVSentinel's Go exporter) and over HTTP/protobuf ({@code POST /v1/traces}), both on loopback. It
 * keeps every span it is sent, decoded, for tests to look at.
 */
public final class OtlpReceiver implements AutoCloseable {

  private static final String SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService";

  /**
   * One span as the collector received it; ids in lower-case hex, the parent id empty for a root.
   */
  /**
   * @param resource the attributes of the resource that sent it ({@code service.name}, ...)
   * @param links the spans it links to, each as {@code traceId-spanId}
   */
  public record ReceivedSpan(
      String service,
      String name,
      String kind,
      String traceId,
      String spanId,
      String parentSpanId,
      Map<String, String> attributes,
      boolean error,
      Map<String, String> resource,
      List<String> links) {

    public String attribute(String key) {
      return attributes.get(key);
    }
  }

  // appended to from the receivers' threads; a copy-on-write list would copy itself per span
  private final List<ReceivedSpan> spans = Collections.synchronizedList(new ArrayList<>());
  private final Server grpc;
  private final HttpServer http;

  private OtlpReceiver() throws IOException {
    MethodDescriptor<ExportTraceServiceRequest, ExportTraceServiceResponse> export =
        MethodDescriptor.<ExportTraceServiceRequest, ExportTraceServiceResponse>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Export"))
            .setRequestMarshaller(
                ProtoUtils.marshaller(ExportTraceServiceRequest.getDefaultInstance()))
            .setResponseMarshaller(
                ProtoUtils.marshaller(ExportTraceServiceResponse.getDefaultInstance()))
            .build();
    ServerServiceDefinition service =
        ServerServiceDefinition.builder(SERVICE)
            .addMethod(
                export,
                ServerCalls.asyncUnaryCall(
                    (request, response) -> {
                      keep(request);
                      response.onNext(ExportTraceServiceResponse.getDefaultInstance());
                      response.onCompleted();
                    }))
            .build();
    grpc =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(service)
            .build()
            .start();
    http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    http.createContext(
        "/v1/traces",
        exchange -> {
          try (InputStream body = exchange.getRequestBody()) {
            keep(ExportTraceServiceRequest.parseFrom(body));
            byte[] answer = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
            exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
            exchange.sendResponseHeaders(200, answer.length);
            exchange.getResponseBody().write(answer);
          } finally {
            exchange.close();
          }
        });
    http.start();
  }

  public static OtlpReceiver start() {
    try {
      return new OtlpReceiver();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code host:port} of the gRPC receiver, as NVSentinel's umbrella chart writes an endpoint. */
  public String grpcEndpoint() {
    return "127.0.0.1:" + grpc.getPort();
  }

  /** The base URL of the HTTP receiver; spans go to {@code /v1/traces} below it. */
  public String httpEndpoint() {
    return "http://127.0.0.1:" + http.getAddress().getPort();
  }

  /** Every span received so far, in the order received. */
  public List<ReceivedSpan> spans() {
    synchronized (spans) {
      return List.copyOf(spans);
    }
  }

  /** How many spans were received so far. */
  public int count() {
    return spans.size();
  }

  private void keep(ExportTraceServiceRequest request) {
    for (ResourceSpans resource : request.getResourceSpansList()) {
      Map<String, String> sender = new LinkedHashMap<>();
      resource
          .getResource()
          .getAttributesList()
          .forEach(a -> sender.put(a.getKey(), text(a.getValue())));
      String service = sender.getOrDefault("service.name", "");
      for (ScopeSpans scope : resource.getScopeSpansList()) {
        for (var span : scope.getSpansList()) {
          Map<String, String> attributes = new LinkedHashMap<>();
          span.getAttributesList().forEach(a -> attributes.put(a.getKey(), text(a.getValue())));
          spans.add(
              new ReceivedSpan(
                  service,
                  span.getName(),
                  span.getKind().name().replace("SPAN_KIND_", ""),
                  hex(span.getTraceId()),
                  hex(span.getSpanId()),
                  hex(span.getParentSpanId()),
                  Map.copyOf(attributes),
                  span.getStatus().getCodeValue() == 2,
                  Map.copyOf(sender),
                  span.getLinksList().stream()
                      .map(l -> hex(l.getTraceId()) + "-" + hex(l.getSpanId()))
                      .toList()));
        }
      }
    }
  }

  private static String text(AnyValue value) {
    return switch (value.getValueCase()) {
      case STRING_VALUE -> value.getStringValue();
      case INT_VALUE -> Long.toString(value.getIntValue());
      case BOOL_VALUE -> Boolean.toString(value.getBoolValue());
      case DOUBLE_VALUE -> Double.toString(value.getDoubleValue());
      default -> value.toString().strip();
    };
  }

  private static String hex(ByteString bytes) {
    return HexFormat.of().formatHex(bytes.toByteArray());
  }

  @Override
  public void close() {
    http.stop(0);
    grpc.shutdownNow();
    try {
      grpc.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
