package io.nvsentinel.exporter.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
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
    assertThatThrownBy(
            () ->
                fixture
                    .deliverer()
                    .deliver(fixture.event(), EventDeliverer.WhenSinkUnavailable.FAIL))
        .isInstanceOf(DeliveryExhaustedException.class)
        .hasMessageContaining("invalid_client")
        .hasMessageContaining("check exporter.oidc.clientId");
    // a wrong secret is a setting: asked once, not retried
    assertThat(fixture.count("health_events_exporter_token_refresh_errors")).isEqualTo(1);
    assertThat(sink.accepted()).isEmpty();
  }

  @Test
  void metricsKeepThePrometheusNamesOfTheExporterWeReplace() throws Exception {
    use(issuer);
    EventDeliverer deliverer = fixture.deliverer();
    deliverer.deliver(fixture.event());
    sink.failNext(1, 400);
    deliverer.deliver(fixture.eventWithId("refused"));

    String scrape = prometheus.scrape();
    assertThat(scrape)
        .contains("health_events_exporter_events_published_total{status=\"success\"} 1.0")
        .contains("health_events_exporter_events_published_total{status=\"failure\"} 1.0")
        .contains("health_events_exporter_publish_duration_seconds_bucket")
        .contains("health_events_exporter_publish_duration_seconds_count 2")
        .contains("health_events_exporter_publish_errors_total{error_type=\"http_4xx\"} 1.0")
        .contains("health_events_exporter_token_refresh_errors_total 0.0")
        .contains("health_events_exporter_dead_letters_total{kind=\"rejected\"} 1.0");
  }
}
