package io.nvsentinel.exporter.tracing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TracingEnvironmentTest {

  @Test
  void withoutAnEndpointTracingIsOff() {
    Map<String, Object> settings = TracingEnvironment.settings(Map.<String, String>of()::get);

    assertThat(settings).containsEntry(TracingEnvironment.EXPORT_ENABLED, "false");
    assertThat(settings).doesNotContainKey(TracingEnvironment.ENDPOINT);
    assertThat(TracingEnvironment.settings(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "  ")::get))
        .containsEntry(TracingEnvironment.EXPORT_ENABLED, "false");
  }

  @ParameterizedTest(name = "{0} insecure={1} protocol={2}")
  @CsvSource(
      delimiter = '|',
      nullValues = "-",
      value = {
        // the umbrella chart's form: a bare host:port, the Go exporter's gRPC
        "otel-collector.monitoring:4317 | true  | -             | grpc | http://otel-collector.monitoring:4317",
        "otel-collector.monitoring:4317 | false | -             | grpc | https://otel-collector.monitoring:4317",
        "otel-collector.monitoring:4317 | -     | grpc          | grpc | https://otel-collector.monitoring:4317",
        "http://collector:4318          | -     | http/protobuf | http | http://collector:4318/v1/traces",
        "http://collector:4318/         | -     | http/protobuf | http | http://collector:4318/v1/traces",
        "collector:4318                 | true  | http/protobuf | http | http://collector:4318/v1/traces",
      })
  void anEndpointTurnsTracingOnWithTheTransportAndUrlSpringBootWants(
      String endpoint, String insecure, String protocol, String transport, String url) {
    Map<String, String> env = new java.util.HashMap<>();
    env.put("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint);
    env.put("OTEL_EXPORTER_OTLP_INSECURE", insecure);
    env.put("OTEL_EXPORTER_OTLP_PROTOCOL", protocol);

    Map<String, Object> settings = TracingEnvironment.settings(env::get);

    assertThat(settings)
        .containsEntry(TracingEnvironment.EXPORT_ENABLED, "true")
        .containsEntry(TracingEnvironment.TRANSPORT, transport)
        .containsEntry(TracingEnvironment.ENDPOINT, url)
        .containsEntry(TracingEnvironment.SAMPLING, "1.0");
  }

  @Test
  void theTracesOwnEndpointAndProtocolWinAndTheEndpointIsTakenAsItIs() {
    Map<String, Object> settings =
        TracingEnvironment.settings(
            Map.of(
                    "OTEL_EXPORTER_OTLP_ENDPOINT", "general:4317",
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://traces.example/otlp/traces",
                    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")
                ::get);

    assertThat(settings)
        .containsEntry(TracingEnvironment.ENDPOINT, "https://traces.example/otlp/traces")
        .containsEntry(TracingEnvironment.TRANSPORT, "http");
  }

  @Test
  void aMalformedEndpointIsRefusedNamingItself() {
    assertThatThrownBy(
            () ->
                TracingEnvironment.settings(
                    Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://bad host:4317")::get))
        .hasMessageContaining("OTEL_EXPORTER_OTLP_ENDPOINT")
        .hasMessageContaining("bad host");
  }

  @Test
  void theServiceIsNVSentinelsExportersUnlessTheEnvironmentNamesAnother() {
    assertThat(
            TracingEnvironment.settings(
                Map.of(
                        "OTEL_EXPORTER_OTLP_ENDPOINT",
                        "collector:4317",
                        "spring.application.name",
                        "event-exporter-live")
                    ::get))
        .containsEntry(TracingEnvironment.RESOURCE + "[service.name]", "event-exporter")
        .containsEntry(
            TracingEnvironment.RESOURCE + "[event_exporter.application]", "event-exporter-live");
    for (Map<String, String> named :
        List.of(
            Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317", "OTEL_SERVICE_NAME", "mine"),
            Map.of(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "collector:4317",
                "OTEL_RESOURCE_ATTRIBUTES",
                "team=gpu,service.name=mine"))) {
      assertThat(TracingEnvironment.settings(named::get))
          .doesNotContainKey(TracingEnvironment.RESOURCE + "[service.name]");
    }
  }
}
