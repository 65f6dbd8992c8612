package io.nvsentinel.exporter.delivery;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** Every log line about an event carries its CloudEvent id, in both applications. */
class DeliveryLogContextTest {

  @RegisterExtension
  static WireMockExtension wm =
      WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

  final ListAppender<ILoggingEvent> lines = new ListAppender<>();
  final Logger logger = (Logger) LoggerFactory.getLogger(EventDeliverer.class);
  DeliveryFixture fixture;

  @BeforeEach
  void setUp() {
    lines.start();
    logger.addAppender(lines);
    fixture = new DeliveryFixture();
    fixture.config.sinkEndpoint = wm.baseUrl() + "/api/v1/events";
    fixture.config.tokenUrl = wm.baseUrl() + "/oauth2/token";
    wm.stubFor(
        post(urlEqualTo("/oauth2/token"))
            .willReturn(
                okJson("{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":300}")));
  }

  @AfterEach
  void tearDown() throws Exception {
    logger.detachAppender(lines);
    fixture.close();
  }

  @Test
  void deliveryLogLinesCarryTheEventIdAndTheContextIsClearedAfterwards() {
    wm.stubFor(
        post(urlEqualTo("/api/v1/events"))
            .inScenario("s")
            .whenScenarioStateIs(STARTED)
            .willReturn(aResponse().withStatus(503))
            .willSetStateTo("up"));
    wm.stubFor(
        post(urlEqualTo("/api/v1/events"))
            .inScenario("s")
            .whenScenarioStateIs("up")
            .willReturn(aResponse().withStatus(202)));
    OutgoingEvent event = fixture.event();

    fixture.deliverer().deliver(event);

    assertThat(lines.list).isNotEmpty();
    assertThat(lines.list)
        .allSatisfy(
            line ->
                assertThat(line.getMDCPropertyMap())
                    .containsEntry(EventDeliverer.EVENT_ID, event.id()));
    assertThat(MDC.get(EventDeliverer.EVENT_ID)).isNull();
  }
}
