package io.nvsentinel.exporter.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.nvsentinel.exporter.cloudevent.CloudEventMapper;
import io.nvsentinel.exporter.cloudevent.Conversion;
import io.nvsentinel.exporter.cloudevent.EventConverter;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import io.nvsentinel.exporter.event.Samples;
import io.nvsentinel.exporter.filter.EventFilter;
import io.nvsentinel.exporter.tracing.EventTracing;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bson.BsonDocument;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Delivery against a real authorization server (Spring Authorization Server) and a sink that
 * verifies each token's signature through the issuer's JWKS, its issuer, expiry and scope.
 */
class RealTokenIssuerDeliveryTest {

  static TokenIssuer issuer;
  static TokenIssuer shortLivedIssuer;
  ReferenceSink sink;
  DeliveryFixture fixture;
  PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  @BeforeAll
  static void startIssuers() {
    issuer = TokenIssuer.start(TokenIssuer.Settings.defaults());
    shortLivedIssuer =
        TokenIssuer.start(TokenIssuer.Settings.defaults().withTokenLifetime(Duration.ofSeconds(1)));
  }

  @AfterAll
  static void stopIssuers() {
    issuer.close();
    shortLivedIssuer.close();
  }

  @BeforeEach
  void setUp() {
    fixture = new DeliveryFixture(prometheus);
  }

  @AfterEach
  void tearDown() throws Exception {
    sink.close();
    fixture.close();
  }

  private void use(TokenIssuer tokens) throws Exception {
    sink = ReferenceSink.start(0, tokens, "events:write");
    fixture.config.tokenUrl = tokens.tokenUrl();
    fixture.config.sinkEndpoint = sink.endpoint();
  }

  @Test
  void everySampleEventReachesAVerifyingSinkWithOneCachedToken() throws Exception {
    use(issuer);
    int tokensBefore = issuer.tokenRequests();
    EventDeliverer deliverer = fixture.deliverer();
    List<OutgoingEvent> events = fixture.events();
    for (OutgoingEvent event : events) {
      assertThat(deliverer.deliver(event)).isInstanceOf(DeliveryOutcome.Delivered.class);
    }
    assertThat(sink.distinct())
        .extracting(ReferenceSink.Received::id)
        .containsExactlyInAnyOrderElementsOf(events.stream().map(OutgoingEvent::id).toList());
    assertThat(sink.duplicates()).isZero();
    assertThat(sink.answered(401)).isZero();
    assertThat(issuer.tokenRequests() - tokensBefore).isEqualTo(1);
  }

  @Test
  void aTokenThatExpiresAfterOneSecondIsReplaced() throws Exception {
    use(shortLivedIssuer);
    int tokensBefore = shortLivedIssuer.tokenRequests();
    EventDeliverer deliverer = fixture.deliverer();
    for (OutgoingEvent event : fixture.events().subList(0, 3)) {
      assertThat(deliverer.deliver(event)).isInstanceOf(DeliveryOutcome.Delivered.class);
    }
    assertThat(shortLivedIssuer.tokenRequests() - tokensBefore).isEqualTo(3);
    assertThat(sink.answered(401)).isZero();
  }

  @Test
  void aWrongClientSecretIsRefusedByTheIssuerAndCounted() throws Exception {
    use(issuer);
    fixture.config.maxRetries = 1;
    Files.writeString(fixture.config.secretFile, "wrong-secret");
    assertThatThrownBy(() -> fixture.deliverer().deliver(fixture.event(), WhenSinkUnavailable.FAIL))
        .isInstanceOf(DeliveryExhaustedException.class)
        .hasMessageContaining("invalid_client")
        .hasMessageContaining("check exporter.oidc.clientId");
    // a wrong secret is a setting: asked once, not retried
    assertThat(fixture.count("health_events_exporter_token_refresh_errors")).isEqualTo(1);
    assertThat(sink.accepted()).isEmpty();
  }

  /**
   * A scripted run — one event retried then delivered, one whose retries run out, one filtered —
   * read back from a Prometheus scrape, with the meaning NVSentinel's exporter gives the names
   * ({@code event-exporter/pkg/exporter/exporter.go}, {@code publishWithRetry}; {@code
   * pkg/metrics/metrics.go} for the buckets).
   */
  @Test
  void aScrapeAfterAScriptedRunReadsAsNVSentinelsDashboardsReadIt() throws Exception {
    use(issuer);
    fixture.config.maxRetries = 3;
    fixture.config.initialBackoff = Duration.ofMillis(20);
    EventDeliverer deliverer = fixture.deliverer();
    List<OutgoingEvent> events = fixture.events();

    sink.faults().failNext(1, 503);
    assertThat(deliverer.deliver(events.get(0))).isInstanceOf(DeliveryOutcome.Delivered.class);
    // a handler that crashes on this one payload: its retries run out while the sink takes others
    String exhausted = events.get(1).id();
    sink.faults().chokeOn(event -> exhausted.equals(event.path("id").asString()), 500);
    assertThat(deliverer.deliver(events.get(1), WhenSinkUnavailable.FAIL))
        .isInstanceOf(DeliveryOutcome.DeadLettered.class);
    BsonDocument third = Samples.good().get(2);
    EventFilter filter =
        EventFilter.compile(
            "event.nodeName != '"
                + third.getDocument("healthevent").getString("nodeName").getValue()
                + "'",
            prometheus);
    EventConverter converter =
        new EventConverter(
            new HealthEventDecoder(0, prometheus),
            new CloudEventMapper(fixture.config.build(), Clock.systemUTC()),
            filter,
            EventTracing.OFF);
    assertThat(converter.convert(third)).isInstanceOf(Conversion.Filtered.class);

    String scrape = prometheus.scrape();
    assertThat(scrape)
        .contains("health_events_exporter_events_published_total{status=\"success\"} 1.0")
        .contains("health_events_exporter_events_published_total{status=\"failure\"} 1.0")
        .contains(
            "health_events_exporter_publish_errors_total{error_type=\"max_retries_exceeded\"} 1.0")
        .contains("health_events_exporter_publish_duration_seconds_count 1")
        .contains("health_events_exporter_events_filtered_total 1.0")
        .contains("health_events_exporter_sink_request_errors_total{error_type=\"http_5xx\"} 6.0")
        .contains("health_events_exporter_dead_letters_total{kind=\"exhausted\"} 1.0")
        .contains("health_events_exporter_token_refresh_errors_total 0.0");
    assertThat(
            scrape
                .lines()
                .filter(l -> l.startsWith("health_events_exporter_publish_errors_total{")))
        .as("one error_type only, as NVSentinel's exporter has")
        .hasSize(1);
    for (String le :
        List.of(
            "0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0")) {
      assertThat(scrape)
          .contains("health_events_exporter_publish_duration_seconds_bucket{le=\"" + le + "\"}");
    }
    // from the first attempt to the acceptance, the back-off between them included
    double took =
        prometheus
            .get("health_events_exporter_publish_duration")
            .timer()
            .totalTime(TimeUnit.MILLISECONDS);
    assertThat(took).isGreaterThanOrEqualTo(18);
  }

  @Test
  void aRefusedEventIsGivenUpAtOnceAndCountedSo() throws Exception {
    use(issuer);
    sink.faults().failNext(1, 400);
    fixture.deliverer().deliver(fixture.eventWithId("refused"));
    assertThat(prometheus.scrape())
        .contains("health_events_exporter_events_published_total{status=\"failure\"} 1.0")
        .contains(
            "health_events_exporter_publish_errors_total{error_type=\"max_retries_exceeded\"} 1.0")
        .contains("health_events_exporter_sink_request_errors_total{error_type=\"http_4xx\"} 1.0")
        .contains("health_events_exporter_dead_letters_total{kind=\"rejected\"} 1.0");
  }
}
