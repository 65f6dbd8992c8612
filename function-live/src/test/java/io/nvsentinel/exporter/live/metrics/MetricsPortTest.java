package io.nvsentinel.exporter.live.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.availability.ApplicationAvailabilityBean;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.AvailabilityState;
import org.springframework.boot.availability.LivenessState;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.support.StaticApplicationContext;

/** The probes and the scrape on the one port, read from the application's availability. */
class MetricsPortTest {

  private final HttpClient http = HttpClient.newHttpClient();
  private final ApplicationAvailabilityBean availability = new ApplicationAvailabilityBean();
  private final StaticApplicationContext context = new StaticApplicationContext();
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private MetricsPort port;

  @BeforeEach
  void startThePort() {
    registry.counter("health_events_exporter_events_received").increment();
    port = new MetricsPort(registry, availability, 0);
    port.start();
  }

  @AfterEach
  void stopThePort() {
    port.stop();
    context.close();
  }

  private void becomes(AvailabilityState state) {
    availability.onApplicationEvent(new AvailabilityChangeEvent<>(context, state));
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void readinessIsRefusedUntilTheApplicationAcceptsTrafficAndAfterItStopsTo() throws Exception {
    assertThat(get("/readyz").statusCode()).as("nothing declared yet").isEqualTo(503);
    becomes(ReadinessState.ACCEPTING_TRAFFIC);
    assertThat(get("/readyz").statusCode()).isEqualTo(200);
    becomes(ReadinessState.REFUSING_TRAFFIC);
    HttpResponse<String> refused = get("/readyz");
    assertThat(refused.statusCode()).isEqualTo(503);
    assertThat(refused.body()).isEqualTo("not ready\n");
  }

  @Test
  void livenessIsTheSameOnHealthzAndLivez() throws Exception {
    becomes(LivenessState.CORRECT);
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
    assertThat(get("/livez").statusCode()).isEqualTo(200);
    becomes(LivenessState.BROKEN);
    assertThat(get("/healthz").statusCode()).isEqualTo(503);
    assertThat(get("/livez").statusCode()).isEqualTo(503);
  }

  @Test
  void metricsAreThePrometheusTextAndNothingElseIsServed() throws Exception {
    HttpResponse<String> metrics = get("/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.headers().firstValue("Content-Type")).hasValue(MetricsPort.PROMETHEUS_TEXT);
    assertThat(metrics.body()).contains("health_events_exporter_events_received_total 1.0");
    assertThat(get("/actuator/health").statusCode()).isEqualTo(404);
    assertThat(get("/export").statusCode()).isEqualTo(404);
  }
}
