package io.nvsentinel.exporter.delivery;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.exactly;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.deadletter.DeadLetter;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** Faults a real sink or identity provider cannot produce on demand, played by WireMock. */
class EventDelivererFaultTest {

  static final String SINK = "/api/v1/events";
  static final String TOKEN = "/oauth2/token";

  @RegisterExtension
  static WireMockExtension wm =
      WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

  DeliveryFixture fixture;

  @BeforeEach
  void setUp() {
    fixture = new DeliveryFixture();
    fixture.config.sinkEndpoint = wm.baseUrl() + SINK;
    fixture.config.tokenUrl = wm.baseUrl() + TOKEN;
    tokenEndpointIssues("token-1", 300);
  }

  @AfterEach
  void tearDown() throws Exception {
    fixture.close();
  }

  static void tokenEndpointIssues(String token, int expiresIn) {
    wm.stubFor(
        post(urlEqualTo(TOKEN))
            .willReturn(
                okJson(
                    "{\"access_token\":\""
                        + token
                        + "\",\"token_type\":\"Bearer\",\"expires_in\":"
                        + expiresIn
                        + "}")));
  }

  /** The token endpoint answers every request with {@code status} and the OAuth {@code error}. */
  static void tokenEndpointRefuses(int status, String error) {
    wm.stubFor(
        post(urlEqualTo(TOKEN))
            .willReturn(
                aResponse()
                    .withStatus(status)
                    .withHeader("Content-Type", "application/json")
                    .withBody("{\"error\":\"" + error + "\"}")));
  }

  static void sinkAnswers(int... statuses) {
    sinkAnswers(
        Arrays.stream(statuses)
            .mapToObj(status -> aResponse().withStatus(status))
            .toArray(ResponseDefinitionBuilder[]::new));
  }

  /** The sink gives these answers to the requests in turn, and the last one from then on. */
  static void sinkAnswers(ResponseDefinitionBuilder... answers) {
    String state = STARTED;
    for (int i = 0; i < answers.length; i++) {
      String next = i == answers.length - 1 ? state : "after-" + i;
      wm.stubFor(
          post(urlEqualTo(SINK))
              .inScenario("sink")
              .whenScenarioStateIs(state)
              .willReturn(answers[i])
              .willSetStateTo(next));
      state = next;
    }
  }

  @Test
  void postsTheStructuredCloudEventWithTheExactContentTypeAndBearerToken() {
    sinkAnswers(202);
    OutgoingEvent event = fixture.event();
    DeliveryOutcome outcome = fixture.deliverer().deliver(event);

    assertThat(outcome).isEqualTo(new DeliveryOutcome.Delivered(event.id(), 1, 202));
    LoggedRequest request = wm.findAll(postRequestedFor(urlEqualTo(SINK))).get(0);
    assertThat(request.getHeader("Content-Type")).isEqualTo("application/cloudevents+json");
    assertThat(request.getHeader("Authorization")).isEqualTo("Bearer token-1");
    assertThat(request.getBody()).isEqualTo(event.json());
    LoggedRequest tokenRequest = wm.findAll(postRequestedFor(urlEqualTo(TOKEN))).get(0);
    assertThat(tokenRequest.getBodyAsString())
        .contains("grant_type=client_credentials")
        .contains("scope=events%3Awrite");
    assertThat(tokenRequest.getHeader("Authorization")).startsWith("Basic ");
    assertThat(fixture.count("health_events_exporter_events_published", "status", "success"))
        .isEqualTo(1);
  }

  @Test
  void threeServiceUnavailableAnswersThenAcceptedIsOneDeliveryAfterThreeRetries() {
    sinkAnswers(503, 503, 503, 202);
    DeliveryOutcome outcome = fixture.deliverer().deliver(fixture.event());

    assertThat(outcome).isInstanceOf(DeliveryOutcome.Delivered.class);
    assertThat(outcome.attempts()).isEqualTo(4);
    wm.verify(exactly(4), postRequestedFor(urlEqualTo(SINK)));
    assertThat(
            fixture.count("health_events_exporter_sink_request_errors", "error_type", "http_5xx"))
        .isEqualTo(3);
    assertThat(fixture.deadLetters().count()).isZero();
  }

  @Test
  void retryAfterOnA429IsHonoured() {
    fixture.config.maxBackoff = Duration.ofSeconds(5);
    sinkAnswers(
        aResponse().withStatus(429).withHeader("Retry-After", "1"), aResponse().withStatus(202));

    long start = System.nanoTime();
    DeliveryOutcome outcome = fixture.deliverer().deliver(fixture.event());
    Duration took = Duration.ofNanos(System.nanoTime() - start);

    assertThat(outcome.attempts()).isEqualTo(2);
    // the computed back-off would have been about 1 ms; only Retry-After explains a full second
    assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(990));
    assertThat(
            fixture.count(
                "health_events_exporter_sink_request_errors", "error_type", "rate_limited"))
        .isEqualTo(1);
  }

  /** However long the wait asked for, even beyond a long of seconds or of nanoseconds. */
  @ParameterizedTest
  @CsvSource({"3600", "99999999999999999999", "9999999999999", "Fri, 31 Dec 9999 23:59:59 GMT"})
  void retryAfterIsBoundedByMaxBackoff(String retryAfter) {
    fixture.config.maxBackoff = Duration.ofMillis(50);
    sinkAnswers(
        aResponse().withStatus(503).withHeader("Retry-After", retryAfter),
        aResponse().withStatus(202));

    long start = System.nanoTime();
    assertThat(fixture.deliverer().deliver(fixture.event()))
        .isEqualTo(new DeliveryOutcome.Delivered(fixture.event().id(), 2, 202));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
    assertThat(fixture.deadLetters().count()).isZero();
  }

  @Test
  void badRequestIsDeadLetteredAtOnceWithoutRetry() {
    wm.stubFor(
        post(urlEqualTo(SINK))
            .willReturn(aResponse().withStatus(400).withBody("{\"error\":\"bad event\"}")));
    OutgoingEvent event = fixture.event();
    DeliveryOutcome outcome = fixture.deliverer().deliver(event);

    assertThat(outcome).isInstanceOf(DeliveryOutcome.DeadLettered.class);
    assertThat(((DeliveryOutcome.DeadLettered) outcome).reason())
        .contains("400")
        .contains("bad event");
    wm.verify(exactly(1), postRequestedFor(urlEqualTo(SINK)));
    List<DeadLetter> letters = fixture.deadLetters().list(10);
    assertThat(letters)
        .singleElement()
        .satisfies(
            letter -> {
              assertThat(letter.id()).isEqualTo(event.id());
              assertThat(letter.kind()).isEqualTo(DeadLetter.Kind.REJECTED);
              assertThat(letter.lastStatus()).isEqualTo(400);
              assertThat(letter.attempts()).isEqualTo(1);
              assertThat(letter.documentId()).isEqualTo(event.documentId());
              assertThat(letter.cloudEvent())
                  .isEqualTo(new String(event.json(), StandardCharsets.UTF_8));
              assertThat(letter.firstAttemptAt()).isBeforeOrEqualTo(letter.lastAttemptAt());
            });
    assertThat(fixture.count("health_events_exporter_events_published", "status", "failure"))
        .isEqualTo(1);
    assertThat(fixture.count("health_events_exporter_dead_letters", "kind", "rejected"))
        .isEqualTo(1);
  }

  /**
   * Delivers an event the sink answers with {@code status} every time, while delivering others the
   * sink takes until its retries ran out: its own trouble, not an outage.
   */
  DeliveryOutcome deliverWhileOthersGetThrough(EventDeliverer deliverer, int status)
      throws Exception {
    OutgoingEvent troubled = fixture.eventWithId("troubled");
    wm.stubFor(post(urlEqualTo(SINK)).willReturn(aResponse().withStatus(202)));
    wm.stubFor(
        post(urlEqualTo(SINK))
            .withRequestBody(containing(troubled.id()))
            .willReturn(aResponse().withStatus(status)));
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<DeliveryOutcome> outcome = pool.submit(() -> deliverer.deliver(troubled));
      for (int i = 0; !outcome.isDone(); i++) {
        deliverer.deliver(fixture.eventWithId("other-" + i));
      }
      return outcome.get();
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void exhaustedRetriesAreDeadLetteredWhenTheSinkTookOtherEventsMeanwhile() throws Exception {
    fixture.config.maxRetries = 3;
    fixture.config.initialBackoff = Duration.ofMillis(300);
    fixture.config.maxBackoff = Duration.ofMillis(300);
    EventDeliverer deliverer = fixture.deliverer();

    DeliveryOutcome outcome = deliverWhileOthersGetThrough(deliverer, 502);

    assertThat(outcome.attempts()).isEqualTo(4);
    assertThat(((DeliveryOutcome.DeadLettered) outcome).reason())
        .contains("gave up after 4 attempts")
        .contains("502");
    assertThat(fixture.deadLetters().list(1).get(0).kind()).isEqualTo(DeadLetter.Kind.EXHAUSTED);
    assertThat(deliverer.availability().problem()).isNull();
  }

  /**
   * The sink goes down just after taking another event, whose answer comes late: that answer
   * arrives while this event is still failing, but the event it answers was sent before this one's
   * attempts, so it is no sign that the sink takes events now. An outage, not a dead letter.
   */
  @Test
  void aLateAnswerToAnEventSentBeforeTheOutageDoesNotDeadLetterAnEventFailingSince()
      throws Exception {
    fixture.config.maxRetries = 3;
    fixture.config.initialBackoff = Duration.ofMillis(400);
    fixture.config.maxBackoff = Duration.ofMillis(400);
    OutgoingEvent early = fixture.eventWithId("early");
    OutgoingEvent troubled = fixture.eventWithId("troubled");
    // attempts of the troubled event at about 0, 400, 800 and 1,200 ms; the early event's answer
    // comes at about 1,000 ms, after the third began and before the last failed
    // and from the early event's request on, the sink takes nothing: the probe (the early event
    // sent again) fails too
    wm.stubFor(
        post(urlEqualTo(SINK))
            .inScenario("outage")
            .whenScenarioStateIs(STARTED)
            .withRequestBody(containing(early.id()))
            .willReturn(aResponse().withStatus(202).withFixedDelay(1_000))
            .willSetStateTo("down"));
    wm.stubFor(
        post(urlEqualTo(SINK))
            .inScenario("outage")
            .whenScenarioStateIs("down")
            .willReturn(aResponse().withStatus(503)));
    EventDeliverer deliverer = fixture.deliverer();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<DeliveryOutcome> first = pool.submit(() -> deliverer.deliver(early));
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> !wm.findAll(postRequestedFor(urlEqualTo(SINK))).isEmpty());

      assertThatThrownBy(() -> deliverer.deliver(troubled, WhenSinkUnavailable.FAIL))
          .isInstanceOf(DeliveryExhaustedException.class)
          .hasMessageContaining("not delivered after 4 attempts");
      assertThat(first.get(5, TimeUnit.SECONDS)).isInstanceOf(DeliveryOutcome.Delivered.class);
    } finally {
      pool.shutdownNow();
    }
    assertThat(fixture.deadLetters().count()).isZero();
  }

  @Test
  void anOutageForEveryEventIsHeldNotDeadLetteredAndEndsWhenTheSinkAnswersAgain() throws Exception {
    fixture.config.maxRetries = 2;
    fixture.config.maxBackoff = Duration.ofMillis(100);
    wm.stubFor(post(urlEqualTo(SINK)).willReturn(aResponse().withStatus(202)));
    EventDeliverer deliverer = fixture.deliverer();
    deliverer.deliver(fixture.eventWithId("before-the-outage"));
    wm.stubFor(post(urlEqualTo(SINK)).willReturn(aResponse().withStatus(503)));
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<DeliveryOutcome> outcome = pool.submit(() -> deliverer.deliver(fixture.event()));
      // its three attempts, then the probe (the event accepted before, sent again) fails too
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> deliverer.availability().problem() != null);
      assertThat(outcome).isNotDone();
      assertThat(deliverer.availability().problem())
          .satisfies(
              problem -> {
                assertThat(problem.misconfigured()).isFalse();
                assertThat(problem.reason()).contains("503");
              });

      wm.stubFor(post(urlEqualTo(SINK)).willReturn(aResponse().withStatus(202)));

      assertThat(outcome.get(10, TimeUnit.SECONDS)).isInstanceOf(DeliveryOutcome.Delivered.class);
    } finally {
      pool.shutdownNow();
    }
    assertThat(fixture.deadLetters().count()).isZero();
    assertThat(deliverer.availability().problem()).isNull();
  }

  @Test
  void exhaustedDeadLettersAreRedrivenByThemselvesWhenTheSinkRecovers() throws Exception {
    fixture.config.maxRetries = 2;
    fixture.config.initialBackoff = Duration.ofMillis(200);
    fixture.config.maxBackoff = Duration.ofMillis(200);
    EventDeliverer deliverer = fixture.deliverer();
    DeadLetterStore deadLetters = fixture.deadLetters();
    AutomaticRedrive automatic =
        new AutomaticRedrive(
            deliverer.availability(), new DeadLetterRedrive(deliverer, deadLetters), deadLetters);
    OutgoingEvent troubled = fixture.eventWithId("troubled");
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      assertThat(deliverWhileOthersGetThrough(deliverer, 500))
          .isInstanceOf(DeliveryOutcome.DeadLettered.class);
      assertThat(deadLetters.count(DeadLetter.Kind.EXHAUSTED)).isEqualTo(1);

      // an outage for everyone, then recovery
      automatic.start();
      wm.stubFor(post(urlEqualTo(SINK)).willReturn(aResponse().withStatus(503)));
      Future<DeliveryOutcome> held = pool.submit(() -> deliverer.deliver(fixture.event()));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> deliverer.availability().problem() != null);
      wm.resetAll();
      tokenEndpointIssues("token-1", 300);
      wm.stubFor(post(urlEqualTo(SINK)).willReturn(aResponse().withStatus(202)));
      assertThat(held.get(10, TimeUnit.SECONDS)).isInstanceOf(DeliveryOutcome.Delivered.class);

      await().atMost(Duration.ofSeconds(10)).until(() -> deadLetters.count() == 0);
      wm.verify(postRequestedFor(urlEqualTo(SINK)).withRequestBody(containing(troubled.id())));
    } finally {
      automatic.stop();
      pool.shutdownNow();
    }
  }

  @Test
  void exhaustedRetriesCanFailInsteadOfDeadLettering() {
    fixture.config.maxRetries = 1;
    wm.stubFor(post(urlEqualTo(SINK)).willReturn(aResponse().withStatus(503)));
    assertThatThrownBy(() -> fixture.deliverer().deliver(fixture.event(), WhenSinkUnavailable.FAIL))
        .isInstanceOf(DeliveryExhaustedException.class)
        .hasMessageContaining("not delivered after 2 attempts")
        .hasMessageContaining("503");
    assertThat(fixture.deadLetters().count()).isZero();
  }

  @ParameterizedTest(name = "the sink answering {0} names {1}")
  @CsvSource({
    "401, exporter.oidc.scope",
    "403, exporter.oidc.scope",
    "404, exporter.sink.endpoint",
    "405, exporter.sink.endpoint"
  })
  void aSinkRefusingEveryEventIsAMisconfigurationNotADeadLetter(int status, String setting) {
    fixture.config.maxRetries = 17;
    fixture.config.initialBackoff = Duration.ofSeconds(30);
    wm.stubFor(post(urlEqualTo(SINK)).willReturn(aResponse().withStatus(status)));
    EventDeliverer deliverer = fixture.deliverer();

    assertThatThrownBy(() -> deliverer.deliver(fixture.event(), WhenSinkUnavailable.FAIL))
        .isInstanceOf(DeliveryExhaustedException.class)
        .hasMessageContaining("answered " + status)
        .hasMessageContaining(setting);

    assertThat(fixture.deadLetters().count()).isZero();
    assertThat(deliverer.availability().problem().misconfigured()).isTrue();
    // no back-off was spent on it: the sink was asked once (twice for 401, with a fresh token)
    wm.verify(exactly(status == 401 ? 2 : 1), postRequestedFor(urlEqualTo(SINK)));
  }

  @ParameterizedTest(name = "the token endpoint answering {0} {1} is a misconfiguration")
  @CsvSource({
    "400, invalid_scope, exporter.oidc.scope",
    "401, invalid_client, exporter.oidc.clientId"
  })
  void aTokenEndpointRefusingTheClientIsAMisconfiguration(
      int status, String error, String setting) {
    fixture.config.maxRetries = 17;
    fixture.config.initialBackoff = Duration.ofSeconds(30);
    tokenEndpointRefuses(status, error);
    EventDeliverer deliverer = fixture.deliverer();

    assertThatThrownBy(() -> deliverer.deliver(fixture.event(), WhenSinkUnavailable.FAIL))
        .isInstanceOf(DeliveryExhaustedException.class)
        .hasMessageContaining(error)
        .hasMessageContaining(setting)
        .hasMessageNotContaining("devstack-secret");
    assertThat(fixture.deadLetters().count()).isZero();
    wm.verify(exactly(0), postRequestedFor(urlEqualTo(SINK)));
  }

  @Test
  void aHeldEventIsDeliveredOnceTheRotatedSecretIsInTheFile() throws Exception {
    fixture.config.maxBackoff = Duration.ofMillis(100);
    tokenEndpointRefuses(401, "invalid_client");
    wm.stubFor(
        post(urlEqualTo(TOKEN))
            .withBasicAuth("nvsentinel-exporter", "rotated-secret")
            .willReturn(
                okJson("{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":300}")));
    sinkAnswers(202);
    EventDeliverer deliverer = fixture.deliverer();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<DeliveryOutcome> outcome = pool.submit(() -> deliverer.deliver(fixture.event()));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  deliverer.availability().problem() != null
                      && deliverer.availability().problem().misconfigured());

      Files.writeString(fixture.config.secretFile, "rotated-secret\n");

      assertThat(outcome.get(10, TimeUnit.SECONDS)).isInstanceOf(DeliveryOutcome.Delivered.class);
    } finally {
      pool.shutdownNow();
    }
    assertThat(fixture.deadLetters().count()).isZero();
  }

  @Test
  void aSinkThatStallsAfterItsHeadersIsCutOffBySinkTimeout() throws Exception {
    try (StallingSink stalling = new StallingSink()) {
      fixture.config.sinkEndpoint = stalling.url();
      fixture.config.sinkTimeout = Duration.ofMillis(500);
      fixture.config.maxRetries = 1;
      long start = System.nanoTime();
      assertThatThrownBy(
              () -> fixture.deliverer().deliver(fixture.event(), WhenSinkUnavailable.FAIL))
          .isInstanceOf(DeliveryExhaustedException.class)
          .hasMessageContaining("did not complete its answer within");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
      assertThat(stalling.requests()).isEqualTo(2);
      assertThat(
              fixture.count("health_events_exporter_sink_request_errors", "error_type", "timeout"))
          .isEqualTo(2);
    }
  }

  @Test
  void anAttemptInProgressIsVisibleForLivenessAndGoneWhenItEnds() throws Exception {
    wm.stubFor(
        post(urlEqualTo(SINK)).willReturn(aResponse().withStatus(202).withFixedDelay(1_500)));
    EventDeliverer deliverer = fixture.deliverer();
    assertThat(deliverer.longestAttemptInProgress()).isZero();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<DeliveryOutcome> outcome = pool.submit(() -> deliverer.deliver(fixture.event()));
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> deliverer.longestAttemptInProgress().toMillis() >= 500);
      outcome.get(10, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
    assertThat(deliverer.longestAttemptInProgress()).isZero();
  }

  @Test
  void aRefusalIsDeadLetteredEvenWhenExhaustionWouldFail() {
    wm.stubFor(post(urlEqualTo(SINK)).willReturn(aResponse().withStatus(422)));
    DeliveryOutcome outcome =
        fixture.deliverer().deliver(fixture.event(), WhenSinkUnavailable.FAIL);
    assertThat(outcome).isInstanceOf(DeliveryOutcome.DeadLettered.class);
    assertThat(fixture.deadLetters().count()).isEqualTo(1);
  }

  @Test
  void a401DropsTheTokenAndResendsAtOnceWithAFreshOne() {
    wm.stubFor(
        post(urlEqualTo(TOKEN))
            .inScenario("token")
            .whenScenarioStateIs(STARTED)
            .willReturn(
                okJson("{\"access_token\":\"stale\",\"token_type\":\"Bearer\",\"expires_in\":300}"))
            .willSetStateTo("fresh"));
    wm.stubFor(
        post(urlEqualTo(TOKEN))
            .inScenario("token")
            .whenScenarioStateIs("fresh")
            .willReturn(
                okJson(
                    "{\"access_token\":\"fresh\",\"token_type\":\"Bearer\",\"expires_in\":300}")));
    wm.stubFor(
        post(urlEqualTo(SINK))
            .withHeader("Authorization", equalTo("Bearer stale"))
            .willReturn(aResponse().withStatus(401)));
    wm.stubFor(
        post(urlEqualTo(SINK))
            .withHeader("Authorization", equalTo("Bearer fresh"))
            .willReturn(aResponse().withStatus(202)));
    // a long back-off shows the re-send did not wait for it
    fixture.config.initialBackoff = Duration.ofSeconds(30);
    fixture.config.maxBackoff = Duration.ofSeconds(30);

    DeliveryOutcome outcome = fixture.deliverer().deliver(fixture.event());

    assertThat(outcome).isInstanceOf(DeliveryOutcome.Delivered.class);
    assertThat(outcome.attempts()).isEqualTo(2);
    wm.verify(exactly(2), postRequestedFor(urlEqualTo(TOKEN)));
  }

  @Test
  void tokenEndpointFailingTwiceRecoversAndIsCounted() {
    wm.stubFor(
        post(urlEqualTo(TOKEN))
            .inScenario("idp")
            .whenScenarioStateIs(STARTED)
            .willReturn(aResponse().withStatus(500))
            .willSetStateTo("second"));
    wm.stubFor(
        post(urlEqualTo(TOKEN))
            .inScenario("idp")
            .whenScenarioStateIs("second")
            .willReturn(aResponse().withStatus(503))
            .willSetStateTo("up"));
    wm.stubFor(
        post(urlEqualTo(TOKEN))
            .inScenario("idp")
            .whenScenarioStateIs("up")
            .willReturn(
                okJson("{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":300}")));
    sinkAnswers(202);

    DeliveryOutcome outcome = fixture.deliverer().deliver(fixture.event());

    assertThat(outcome).isInstanceOf(DeliveryOutcome.Delivered.class);
    assertThat(outcome.attempts()).isEqualTo(3);
    wm.verify(exactly(1), postRequestedFor(urlEqualTo(SINK)));
    assertThat(fixture.count("health_events_exporter_token_refresh_errors")).isEqualTo(2);
    assertThat(fixture.count("health_events_exporter_sink_request_errors", "error_type", "token"))
        .isEqualTo(2);
  }

  @Test
  void aTokenIsReusedUntilShortlyBeforeItExpires() {
    sinkAnswers(202);
    EventDeliverer deliverer = fixture.deliverer();
    for (OutgoingEvent event : fixture.events().subList(0, 5)) {
      deliverer.deliver(event);
    }
    wm.verify(exactly(1), postRequestedFor(urlEqualTo(TOKEN)));
  }

  @Test
  void aOneSecondTokenIsReplacedByANewOne() {
    tokenEndpointIssues("short-lived", 1);
    sinkAnswers(202);
    EventDeliverer deliverer = fixture.deliverer();
    for (OutgoingEvent event : fixture.events().subList(0, 3)) {
      deliverer.deliver(event);
    }
    wm.verify(exactly(3), postRequestedFor(urlEqualTo(TOKEN)));
  }

  @Test
  void aSinkSlowerThanTheTimeoutIsRetried() {
    fixture.config.sinkTimeout = Duration.ofSeconds(1);
    wm.stubFor(
        post(urlEqualTo(SINK))
            .inScenario("slow")
            .whenScenarioStateIs(STARTED)
            .willReturn(aResponse().withStatus(202).withFixedDelay(5_000))
            .willSetStateTo("fast"));
    wm.stubFor(
        post(urlEqualTo(SINK))
            .inScenario("slow")
            .whenScenarioStateIs("fast")
            .willReturn(aResponse().withStatus(202)));

    DeliveryOutcome outcome = fixture.deliverer().deliver(fixture.event());

    assertThat(outcome).isInstanceOf(DeliveryOutcome.Delivered.class);
    // the slow answer was abandoned after sink.timeout and the event sent again (on a loaded
    // machine the fast answer may time out too, so at least one timeout, not exactly one)
    assertThat(outcome.attempts()).isGreaterThanOrEqualTo(2);
    assertThat(fixture.count("health_events_exporter_sink_request_errors", "error_type", "timeout"))
        .isEqualTo(outcome.attempts() - 1);
  }

  @Test
  void aGarbageTokenResponseIsAClearErrorNotACrash() {
    fixture.config.maxRetries = 1;
    wm.stubFor(
        post(urlEqualTo(TOKEN))
            .willReturn(
                aResponse()
                    .withStatus(200)
                    .withHeader("Content-Type", "text/html")
                    .withBody("<html>login</html>")));
    sinkAnswers(202);

    assertThatThrownBy(() -> fixture.deliverer().deliver(fixture.event(), WhenSinkUnavailable.FAIL))
        .isInstanceOf(DeliveryExhaustedException.class)
        .hasMessageContaining("cannot obtain an access token from " + wm.baseUrl() + TOKEN);
    wm.verify(exactly(0), postRequestedFor(urlEqualTo(SINK)));
    assertThat(fixture.deadLetters().count()).isZero();
    assertThat(fixture.count("health_events_exporter_token_refresh_errors")).isEqualTo(2);
  }

  @Test
  void aTokenResponseWithoutAccessTokenIsAClearError() {
    fixture.config.maxRetries = 0;
    wm.stubFor(
        post(urlEqualTo(TOKEN))
            .willReturn(okJson("{\"token_type\":\"Bearer\",\"expires_in\":300}")));
    assertThatThrownBy(() -> fixture.deliverer().deliver(fixture.event(), WhenSinkUnavailable.FAIL))
        .hasMessageContaining("cannot obtain an access token");
  }

  @Test
  void theClientSecretIsNeverInTheDeadLetterOrTheFailure() {
    fixture.config.maxRetries = 0;
    tokenEndpointRefuses(401, "invalid_client");
    wm.stubFor(post(urlEqualTo(SINK)).willReturn(aResponse().withStatus(400)));
    assertThatThrownBy(() -> fixture.deliverer().deliver(fixture.event(), WhenSinkUnavailable.FAIL))
        .hasMessageContaining("invalid_client")
        .hasMessageNotContaining("devstack-secret");
    tokenEndpointIssues("token-1", 300);
    DeliveryOutcome refused = fixture.deliverer().deliver(fixture.event());
    assertThat(refused.toString()).doesNotContain("devstack-secret");
    assertThat(fixture.deadLetters().list(1).get(0).toString()).doesNotContain("devstack-secret");
  }

  @Test
  void concurrentDeliveriesAreSafe() throws Exception {
    sinkAnswers(202);
    EventDeliverer deliverer = fixture.deliverer();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<DeliveryOutcome>> futures = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        OutgoingEvent event = fixture.eventWithId("concurrent-" + i);
        futures.add(pool.submit(() -> deliverer.deliver(event)));
      }
      for (Future<DeliveryOutcome> future : futures) {
        assertThat(future.get()).isInstanceOf(DeliveryOutcome.Delivered.class);
      }
    } finally {
      pool.shutdownNow();
    }
    wm.verify(exactly(200), postRequestedFor(urlEqualTo(SINK)));
    assertThat(fixture.count("health_events_exporter_events_published", "status", "success"))
        .isEqualTo(200);
  }

  @Test
  void deadLettersCanBeRedrivenOnceTheSinkAcceptsThem() {
    wm.stubFor(
        post(urlEqualTo(SINK))
            .inScenario("fixed")
            .whenScenarioStateIs(STARTED)
            .willReturn(aResponse().withStatus(422)));
    EventDeliverer deliverer = fixture.deliverer();
    List<OutgoingEvent> events = fixture.events().subList(0, 3);
    events.forEach(deliverer::deliver);
    assertThat(fixture.deadLetters().count()).isEqualTo(3);

    wm.stubFor(
        post(urlEqualTo(SINK))
            .inScenario("fixed")
            .whenScenarioStateIs(STARTED)
            .willReturn(aResponse().withStatus(202)));
    DeadLetterRedrive.Report report =
        new DeadLetterRedrive(deliverer, fixture.deadLetters()).redrive(100);

    assertThat(report).isEqualTo(new DeadLetterRedrive.Report(3, 0, 0));
    assertThat(fixture.deadLetters().count()).isZero();
    List<LoggedRequest> sent = wm.findAll(postRequestedFor(urlEqualTo(SINK)));
    assertThat(sent.subList(3, 6))
        .extracting(LoggedRequest::getBodyAsString)
        .containsExactlyInAnyOrderElementsOf(
            events.stream().map(e -> new String(e.json(), StandardCharsets.UTF_8)).toList());
  }

  @Test
  void interruptionDuringBackOffNeitherDeliversNorDeadLetters() throws Exception {
    fixture.config.initialBackoff = Duration.ofSeconds(30);
    fixture.config.maxBackoff = Duration.ofSeconds(30);
    wm.stubFor(post(urlEqualTo(SINK)).willReturn(aResponse().withStatus(503)));
    EventDeliverer deliverer = fixture.deliverer();
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    Thread worker =
        new Thread(
            () -> {
              try {
                deliverer.deliver(fixture.event());
              } catch (Throwable t) {
                thrown.set(t);
              }
            });
    worker.start();
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> wm.findAll(postRequestedFor(urlEqualTo(SINK))).size() == 1);
    worker.interrupt();
    worker.join(10_000);
    assertThat(thrown.get()).isInstanceOf(DeliveryInterruptedException.class);
    assertThat(fixture.deadLetters().count()).isZero();
  }

  /**
   * A kept-alive connection that breaks without an answer (an idle connection the sink or a proxy
   * closed, a reset) is replaced and the event sent again at once, within the same attempt: with no
   * retries at all it is still delivered, where before it waited out the back-off.
   */
  @ParameterizedTest
  @EnumSource(
      value = Fault.class,
      names = {"CONNECTION_RESET_BY_PEER", "EMPTY_RESPONSE", "RANDOM_DATA_THEN_CLOSE"})
  void aConnectionThatBrokeWithoutAnAnswerIsReplacedAtOnce(Fault fault) {
    fixture.config.maxRetries = 0;
    sinkAnswers(aResponse().withFault(fault), aResponse().withStatus(202));
    OutgoingEvent event = fixture.event();

    DeliveryOutcome outcome = fixture.deliverer().deliver(event, WhenSinkUnavailable.FAIL);

    assertThat(outcome).isEqualTo(new DeliveryOutcome.Delivered(event.id(), 2, 202));
    assertThat(wm.findAll(postRequestedFor(urlEqualTo(SINK)))).hasSize(2);
    assertThat(fixture.count("health_events_exporter_events_published", "status", "success"))
        .isEqualTo(1);
  }
}
