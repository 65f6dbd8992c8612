package io.nvsentinel.exporter.delivery;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.deadletter.DeadLetter;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A sink whose handler crashes on one payload — a 500 to that event every time, a 202 to every
 * other — costs exactly that event, as a dead letter within its retry budget, whether other events
 * flow meanwhile or not; a sink that takes nothing is an outage, held or failed, never dead
 * letters.
 */
class PayloadIsolationTest {

  static final String SINK = "/api/v1/events";

  @RegisterExtension
  static WireMockExtension wm =
      WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

  DeliveryFixture fixture;
  final ExecutorService pool = Executors.newCachedThreadPool();
  OutgoingEvent poison;

  @BeforeEach
  void setUp() {
    fixture = new DeliveryFixture();
    fixture.config.sinkEndpoint = wm.baseUrl() + SINK;
    fixture.config.tokenUrl = wm.baseUrl() + "/oauth2/token";
    fixture.config.maxRetries = 3;
    fixture.config.initialBackoff = Duration.ofMillis(50);
    fixture.config.maxBackoff = Duration.ofMillis(100);
    wm.stubFor(
        post(urlEqualTo("/oauth2/token"))
            .willReturn(
                okJson("{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":300}")));
    poison = fixture.eventWithId("poison");
  }

  @AfterEach
  void tearDown() throws Exception {
    pool.shutdownNow();
    fixture.close();
  }

  /** 202 to everything, 500 to the poison payload. */
  void sinkChokesOnThePoison() {
    wm.stubFor(post(urlEqualTo(SINK)).willReturn(aResponse().withStatus(202)));
    wm.stubFor(
        post(urlEqualTo(SINK))
            .withRequestBody(containing(poison.id()))
            .willReturn(aResponse().withStatus(500)));
  }

  int posted(OutgoingEvent event) {
    return wm.findAll(postRequestedFor(urlEqualTo(SINK)).withRequestBody(containing(event.id())))
        .size();
  }

  @Test
  void onAQuietStreamTheEventAcceptedLastProbesTheSinkAndThePoisonIsDeadLettered() {
    sinkChokesOnThePoison();
    EventDeliverer deliverer = fixture.deliverer();
    OutgoingEvent earlier = fixture.eventWithId("earlier");
    assertThat(deliverer.deliver(earlier)).isInstanceOf(DeliveryOutcome.Delivered.class);

    DeliveryOutcome outcome = deliverer.deliver(poison);

    assertThat(outcome).isInstanceOf(DeliveryOutcome.DeadLettered.class);
    assertThat(((DeliveryOutcome.DeadLettered) outcome).reason()).contains("500");
    assertThat(outcome.attempts()).as("its budget, and the try after the probe").isEqualTo(5);
    assertThat(posted(earlier)).as("sent again once, as the probe (same id)").isEqualTo(2);
    assertThat(deliverer.availability().problem()).as("no outage").isNull();
    assertThat(fixture.deadLetters().list(1).get(0).kind()).isEqualTo(DeadLetter.Kind.EXHAUSTED);
  }

  /** The backfill writer sends its chunk first, then waits: the poison's last interval is quiet. */
  @Test
  void inABackfillChunkThePoisonIsDeadLetteredAndTheChunkNeedNotFail() {
    sinkChokesOnThePoison();
    EventDeliverer deliverer = fixture.deliverer();
    for (OutgoingEvent event : fixture.events().subList(0, 5)) {
      deliverer.deliver(event, WhenSinkUnavailable.FAIL);
    }

    assertThat(deliverer.deliver(poison, WhenSinkUnavailable.FAIL))
        .isInstanceOf(DeliveryOutcome.DeadLettered.class);
    assertThat(fixture.deadLetters().count()).isEqualTo(1);
  }

  @Test
  void withNothingAcceptedYetThePoisonWaitsWithoutPausingAndTheNextEventDecides() throws Exception {
    sinkChokesOnThePoison();
    EventDeliverer deliverer = fixture.deliverer();
    Future<DeliveryOutcome> held = pool.submit(() -> deliverer.deliver(poison));
    await().atMost(Duration.ofSeconds(10)).until(() -> posted(poison) >= 4);
    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(2))
        .until(() -> !held.isDone());
    assertThat(deliverer.availability().problem())
        .as("undecided is no outage: reading goes on")
        .isNull();

    assertThat(deliverer.deliver(fixture.eventWithId("next")))
        .isInstanceOf(DeliveryOutcome.Delivered.class);

    assertThat(held.get(10, TimeUnit.SECONDS)).isInstanceOf(DeliveryOutcome.DeadLettered.class);
    assertThat(fixture.deadLetters().count()).isEqualTo(1);
  }

  @Test
  void aProbeThatFailsTooMakesItAnOutageNeverADeadLetter() {
    wm.stubFor(post(urlEqualTo(SINK)).willReturn(aResponse().withStatus(202)));
    EventDeliverer deliverer = fixture.deliverer();
    OutgoingEvent earlier = fixture.eventWithId("earlier");
    deliverer.deliver(earlier);
    wm.stubFor(post(urlEqualTo(SINK)).willReturn(aResponse().withStatus(503)));

    assertThatThrownBy(() -> deliverer.deliver(poison, WhenSinkUnavailable.FAIL))
        .isInstanceOf(DeliveryExhaustedException.class);

    assertThat(posted(earlier)).as("the probe").isEqualTo(2);
    assertThat(deliverer.availability().problem()).isNotNull();
    assertThat(fixture.deadLetters().count()).isZero();
  }

  @Test
  void twoEventsFailingWithNothingAcceptedAreAnOutage() throws Exception {
    wm.stubFor(post(urlEqualTo(SINK)).willReturn(aResponse().withStatus(503)));
    EventDeliverer deliverer = fixture.deliverer();
    Future<DeliveryOutcome> first = pool.submit(() -> deliverer.deliver(poison));
    await().atMost(Duration.ofSeconds(10)).until(() -> posted(poison) >= 4);
    assertThat(deliverer.availability().problem()).isNull();
    Future<DeliveryOutcome> second = pool.submit(() -> deliverer.deliver(fixture.event()));

    await().atMost(Duration.ofSeconds(10)).until(() -> deliverer.availability().problem() != null);

    wm.stubFor(post(urlEqualTo(SINK)).willReturn(aResponse().withStatus(202)));
    assertThat(first.get(10, TimeUnit.SECONDS)).isInstanceOf(DeliveryOutcome.Delivered.class);
    assertThat(second.get(10, TimeUnit.SECONDS)).isInstanceOf(DeliveryOutcome.Delivered.class);
    assertThat(fixture.deadLetters().count()).isZero();
  }

  /**
   * Held through an outage beside good events: when it ends they go, the poison alone stays out.
   */
  @Test
  void afterAnOutageTheGoodEventsAreDeliveredAndOnlyThePoisonIsDeadLettered() throws Exception {
    wm.stubFor(post(urlEqualTo(SINK)).willReturn(aResponse().withStatus(202)));
    EventDeliverer deliverer = fixture.deliverer();
    deliverer.deliver(fixture.eventWithId("earlier"));
    wm.stubFor(post(urlEqualTo(SINK)).willReturn(aResponse().withStatus(503)));
    OutgoingEvent good = fixture.eventWithId("good");
    Future<DeliveryOutcome> heldPoison = pool.submit(() -> deliverer.deliver(poison));
    Future<DeliveryOutcome> heldGood = pool.submit(() -> deliverer.deliver(good));
    await().atMost(Duration.ofSeconds(10)).until(() -> deliverer.availability().problem() != null);

    sinkChokesOnThePoison();

    assertThat(heldGood.get(10, TimeUnit.SECONDS)).isInstanceOf(DeliveryOutcome.Delivered.class);
    assertThat(heldPoison.get(10, TimeUnit.SECONDS))
        .isInstanceOf(DeliveryOutcome.DeadLettered.class);
    assertThat(deliverer.availability().problem()).isNull();
    assertThat(fixture.deadLetters().count()).isEqualTo(1);
  }
}
