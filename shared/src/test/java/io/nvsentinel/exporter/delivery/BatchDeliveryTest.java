package io.nvsentinel.exporter.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.deadletter.DeadLetter;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Batched delivery against the reference sink, which takes the CloudEvents JSON batch format whole
 * or not at all, with tokens from a real issuer: one request for many events, each under its own
 * id; a batch the sink refuses is halved down to the one event it refuses, which alone becomes a
 * dead letter; the wait a sink asks for is kept; a sink that takes no batch is a setting to fix,
 * not a hundred dead letters.
 */
class BatchDeliveryTest {

  static TokenIssuer issuer;
  DeliveryFixture fixture;
  ReferenceSink sink;
  List<OutgoingEvent> events;

  @BeforeAll
  static void startIssuer() throws Exception {
    issuer = TokenIssuer.start(TokenIssuer.Settings.defaults());
  }

  @AfterAll
  static void stopIssuer() {
    issuer.close();
  }

  @BeforeEach
  void setUp() throws Exception {
    fixture = new DeliveryFixture();
    sink = ReferenceSink.start(0, issuer, "events:write");
    fixture.config.tokenUrl = issuer.tokenUrl();
    fixture.config.sinkEndpoint = sink.endpoint();
    fixture.config.maxRetries = 2;
    fixture.config.initialBackoff = Duration.ofMillis(20);
    fixture.config.maxBackoff = Duration.ofMillis(50);
    events = IntStream.range(0, 40).mapToObj(i -> fixture.eventWithId("event-" + i)).toList();
  }

  @AfterEach
  void tearDown() throws Exception {
    sink.close();
    fixture.close();
  }

  private static List<String> ids(List<? extends Object> outcomes) {
    List<String> ids = new ArrayList<>();
    for (Object outcome : outcomes) {
      ids.add(outcome instanceof DeliveryOutcome o ? o.eventId() : ((OutgoingEvent) outcome).id());
    }
    return ids;
  }

  private List<String> acceptedIds() {
    return sink.accepted().stream().map(ReferenceSink.Received::id).toList();
  }

  @Test
  void fortyEventsGoInOneRequestEachUnderItsOwnIdAndComeBackInOrder() {
    List<DeliveryOutcome> outcomes =
        fixture.deliverer().deliverBatch(events, WhenSinkUnavailable.FAIL);

    assertThat(outcomes).allMatch(o -> o instanceof DeliveryOutcome.Delivered);
    assertThat(ids(outcomes)).isEqualTo(ids(events));
    assertThat(sink.acceptedRequests()).isEqualTo(1);
    assertThat(acceptedIds()).isEqualTo(ids(events));
    assertThat(sink.duplicates()).isZero();
    assertThat(fixture.count("health_events_exporter_events_published", "status", "success"))
        .isEqualTo(40);
  }

  @Test
  void aBatchRefusedForOneEventIsHalvedUntilThatEventAloneIsADeadLetter() {
    OutgoingEvent refused = events.get(27);
    sink.faults().chokeOn(event -> event.path("id").asString("").equals(refused.id()), 400);

    List<DeliveryOutcome> outcomes =
        fixture.deliverer().deliverBatch(events, WhenSinkUnavailable.FAIL);

    assertThat(ids(outcomes)).isEqualTo(ids(events));
    assertThat(outcomes.get(27)).isInstanceOf(DeliveryOutcome.DeadLettered.class);
    assertThat(outcomes).filteredOn(o -> o instanceof DeliveryOutcome.Delivered).hasSize(39);
    assertThat(acceptedIds()).hasSize(39).doesNotContain(refused.id());
    assertThat(sink.duplicates()).as("nothing accepted is sent again").isZero();
    List<DeadLetter> dead = fixture.deadLetters().list(10);
    assertThat(dead).hasSize(1);
    assertThat(dead.get(0).kind()).isEqualTo(DeadLetter.Kind.REJECTED);
    // the halves holding it: 40 → 20 → 10 → 5 → 3 → 1, each refused once, five halvings
    assertThat(fixture.count("health_events_exporter_sink_batch_splits")).isEqualTo(5);
    assertThat(sink.answered(400)).isEqualTo(6);
  }

  @Test
  void aBatchWithAPayloadTheSinkChokesOnIsHalvedAndThatEventIsADeadLetterAfterItsRetries() {
    OutgoingEvent poison = events.get(3);
    sink.faults().chokeOn(event -> event.path("id").asString("").equals(poison.id()), 500);
    EventDeliverer deliverer = fixture.deliverer();
    // an earlier acceptance, so the sink is known to take other events
    assertThat(deliverer.deliverBatch(List.of(events.get(39)), WhenSinkUnavailable.FAIL))
        .allMatch(o -> o instanceof DeliveryOutcome.Delivered);

    List<DeliveryOutcome> outcomes =
        deliverer.deliverBatch(events.subList(0, 8), WhenSinkUnavailable.FAIL);

    assertThat(outcomes.get(3)).isInstanceOf(DeliveryOutcome.DeadLettered.class);
    assertThat(outcomes).filteredOn(o -> o instanceof DeliveryOutcome.Delivered).hasSize(7);
    assertThat(fixture.deadLetters().list(10))
        .singleElement()
        .satisfies(d -> assertThat(d.kind()).isEqualTo(DeadLetter.Kind.EXHAUSTED));
    assertThat(deliverer.availability().problem()).as("no outage").isNull();
  }

  @Test
  void aBatchWaitsAsLongAsTheSinksRetryAfterSays() {
    fixture.config.maxBackoff = Duration.ofSeconds(5); // Retry-After is bounded by it
    sink.faults().retryAfter(1);
    sink.faults().failNext(1, 503);
    long start = System.nanoTime();

    List<DeliveryOutcome> outcomes =
        fixture.deliverer().deliverBatch(events, WhenSinkUnavailable.FAIL);

    assertThat(outcomes).allMatch(o -> o.attempts() == 2);
    // the computed back-off is 20 ms; only Retry-After explains a full second
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofSeconds(1));
    assertThat(acceptedIds()).isEqualTo(ids(events));
  }

  /**
   * NVSentinel's mock sink reads one event per request and answers anything else with a 400: the
   * halves end in single events, which it takes. Slower, visible, nothing lost.
   */
  @Test
  void aSinkThatRefusesEveryBatchAsABadRequestStillGetsEveryEventOneByOne() {
    sink.faults().refuseBatches(400);

    List<DeliveryOutcome> outcomes =
        fixture.deliverer().deliverBatch(events.subList(0, 8), WhenSinkUnavailable.FAIL);

    assertThat(outcomes).allMatch(o -> o instanceof DeliveryOutcome.Delivered);
    assertThat(acceptedIds()).containsExactlyInAnyOrderElementsOf(ids(events.subList(0, 8)));
    assertThat(fixture.deadLetters().list(10)).isEmpty();
    assertThat(sink.accepted()).as("each one alone, in structured mode").hasSize(8);
    // 8 → 4+4 → 2+2+2+2 → singles: seven halvings
    assertThat(fixture.count("health_events_exporter_sink_batch_splits")).isEqualTo(7);
  }

  @Test
  void aSinkThatTakesNoBatchIsASettingToFixNotADeadLetterPerEvent() {
    sink.faults().refuseBatches(415);

    assertThatThrownBy(() -> fixture.deliverer().deliverBatch(events, WhenSinkUnavailable.FAIL))
        .isInstanceOf(DeliveryExhaustedException.class)
        .hasMessageContaining("415")
        .hasMessageContaining("exporter.sink.batch.enabled=false");
    assertThat(fixture.deadLetters().list(10)).isEmpty();
    assertThat(fixture.count("health_events_exporter_sink_batch_splits")).isZero();
  }
}
