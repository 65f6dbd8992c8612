package io.nvsentinel.exporter.live.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.checkpoint.Lease;
import io.nvsentinel.exporter.checkpoint.StreamPosition;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.deadletter.DeadLetter;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import io.nvsentinel.exporter.event.Samples;
import io.nvsentinel.exporter.live.config.LiveProperties;
import io.nvsentinel.exporter.store.ChangeEvent;
import io.nvsentinel.exporter.store.ChangeSource;
import io.nvsentinel.exporter.testkit.LocalStack;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonObjectId;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.AvailabilityState;
import org.springframework.boot.availability.ReadinessState;

/**
 * What the change-stream runner promises on any datastore, checked against a real datastore, a real
 * token issuer and a verifying sink. Subclasses say which datastore, and add what only it does.
 */
abstract class ChangeStreamRunnerContract {

  static final String CLIENT = "test-client";
  @RegisterExtension static final LocalStack stack = LocalStack.issuer().withSink();
  ReferenceSink sink;
  RunnerHarness harness;
  final List<ChangeStreamRunner> runners = new ArrayList<>();
  final List<Leadership> leaderships = new ArrayList<>();

  /** A fresh datastore for one test. */
  abstract RunnerStore store() throws Exception;

  /** {@code change_stream_resume_token_recoveries_total} of this client in {@code phase}. */
  double recoveries(String phase) {
    return harness
        .meters
        .get("change_stream_resume_token_recoveries")
        .tags("client", CLIENT, "phase", phase)
        .counter()
        .count();
  }

  @BeforeEach
  void setUp() throws Exception {
    sink = stack.sink();
    TokenIssuer issuer = stack.tokens();
    harness =
        new RunnerHarness(
            store(), sink.endpoint(), issuer.tokenUrl(), issuer.settings().clientSecret());
  }

  @AfterEach
  void tearDown() throws Exception {
    for (ChangeStreamRunner runner : runners) {
      runner.halt();
    }
    for (Leadership leadership : leaderships) {
      leadership.halt();
    }
    harness.close();
  }

  Leadership standingBy(String holder, SimpleMeterRegistry meters) {
    Leadership leadership = harness.leadership(RunnerHarness.live(2, 8), holder, meters);
    leaderships.add(leadership);
    leadership.start();
    return leadership;
  }

  static double meter(SimpleMeterRegistry meters, String name) {
    var meter = meters.get(name).tag("client", CLIENT);
    return name.endsWith("leader") ? meter.gauge().value() : meter.counter().count();
  }

  @Test
  void oneOfTwoExportersLeadsAndAStopHandsOffWithoutLosingAnEvent() {
    SimpleMeterRegistry metersA = new SimpleMeterRegistry();
    SimpleMeterRegistry metersB = new SimpleMeterRegistry();
    Leadership a = standingBy("a", metersA);
    await().atMost(Duration.ofSeconds(30)).until(a::leading);
    Leadership b = standingBy("b", metersB);
    List<BsonDocument> first = events(30);
    insert(first);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> deliveredIds().containsAll(eventIdsOf(first)));
    assertThat(b.leading()).as("the standby reads nothing").isFalse();

    a.stop();
    await().atMost(Duration.ofSeconds(5)).until(b::leading);
    List<BsonDocument> second = events(30);
    insert(second);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> deliveredIds().containsAll(eventIdsOf(second)));
    assertThat(sink.distinct()).hasSize(60);
    assertThat(meter(metersA, "health_events_exporter_leader")).isZero();
    assertThat(meter(metersB, "health_events_exporter_leader")).isOne();
    assertThat(meter(metersB, "health_events_exporter_lease_acquisitions")).isOne();
  }

  @Test
  void aLeaderWhoseLeaseWasTakenStopsExportingAndCannotMoveThePosition() {
    Leadership a = standingBy("a", new SimpleMeterRegistry());
    await().atMost(Duration.ofSeconds(30)).until(a::leading);
    List<BsonDocument> first = events(20);
    insert(first);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> deliveredIds().containsAll(eventIdsOf(first)));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> accountedFor().containsAll(eventIdsOf(first)));
    Checkpoint before = harness.checkpoints.load(CLIENT).orElseThrow();

    // another exporter took the lease while this one was paused past it
    Instant later = Instant.now().plus(Duration.ofHours(1));
    Lease taken =
        harness.checkpoints.acquireLease(CLIENT, "other", Duration.ofHours(1), later).orElseThrow();
    await().atMost(Duration.ofSeconds(10)).until(() -> !a.leading());
    List<BsonDocument> meanwhile = events(10);
    insert(meanwhile);
    await()
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(5))
        .until(() -> deliveredIds().stream().noneMatch(eventIdsOf(meanwhile)::contains));
    assertThat(harness.checkpoints.load(CLIENT).orElseThrow().position())
        .as("the position stays where the lost term left it")
        .isEqualTo(before.position());

    harness.checkpoints.releaseLease(taken);
    await().atMost(Duration.ofSeconds(10)).until(a::leading);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> deliveredIds().containsAll(eventIdsOf(meanwhile)));
  }

  ChangeStreamRunner started(LiveProperties live) {
    return started(harness.runner(live));
  }

  ChangeStreamRunner started(ChangeStreamRunner runner) {
    runners.add(runner);
    runner.start();
    await().atMost(Duration.ofSeconds(20)).until(runner::streamOpen);
    return runner;
  }

  static BsonDocument event(int seq) {
    BsonDocument doc = Samples.good().get(seq % 40).clone();
    doc.put("_id", new BsonObjectId());
    doc.getDocument("healthevent").put("message", new BsonString("seq-" + seq));
    doc.put("seq", new BsonInt32(seq));
    return doc;
  }

  static List<BsonDocument> events(int count) {
    List<BsonDocument> docs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      docs.add(event(i));
    }
    return docs;
  }

  void insert(List<BsonDocument> docs) {
    harness.insert(docs);
  }

  Set<String> eventIds(Collection<? extends BsonValue> documentIds) {
    return documentIds.stream().map(harness::eventId).collect(Collectors.toSet());
  }

  Set<String> eventIdsOf(List<BsonDocument> docs) {
    return eventIds(docs.stream().map(d -> d.get("_id")).toList());
  }

  /** The events the stored checkpoint says are accounted for. */
  Set<String> accountedFor() {
    return eventIds(harness.store.accountedFor(harness.checkpoints.load(CLIENT).orElseThrow()));
  }

  Set<String> deliveredIds() {
    return sink.distinct().stream().map(ReferenceSink.Received::id).collect(Collectors.toSet());
  }

  @Test
  void aThousandInsertsAreDeliveredWithTheirIdsAndTheCheckpointEndsAtTheLastEvent() {
    ChangeStreamRunner runner = started(RunnerHarness.live(8, 64));
    List<BsonDocument> docs = events(1000);
    insert(docs);

    await().atMost(Duration.ofSeconds(90)).until(() -> sink.distinct().size() == 1000);
    runner.stop();

    assertThat(deliveredIds()).containsExactlyInAnyOrderElementsOf(eventIdsOf(docs));
    assertThat(sink.duplicates()).isZero();
    assertThat(accountedFor()).isEqualTo(eventIdsOf(docs));
    assertThat(harness.meters.get("health_events_exporter_events_received").counter().count())
        .isEqualTo(1000);
  }

  @ParameterizedTest(name = "crash after {0} acknowledged events")
  @ValueSource(ints = {1, 60, 150})
  void aCrashNeverLeavesTheCheckpointPastAnUndeliveredEvent(int crashAfter) throws Exception {
    int total = 200;
    LiveProperties live = RunnerHarness.live(8, 32);
    // within each group of eight, later events are answered first
    sink.faults()
        .delay(
            json -> {
              String message =
                  json == null
                      ? ""
                      : json.path("data").path("healthEvent").path("message").asString("");
              int seq = message.startsWith("seq-") ? Integer.parseInt(message.substring(4)) : 0;
              return Duration.ofMillis(6L * (7 - seq % 8));
            });
    ChangeStreamRunner first = started(live);
    List<BsonDocument> docs = events(total);
    insert(docs);

    await().atMost(Duration.ofSeconds(60)).until(() -> sink.accepted().size() >= crashAfter);
    first.halt();

    assertThat(deliveredIds())
        .as("every event before the checkpoint was delivered")
        .containsAll(accountedFor());

    sink.faults().delay(Duration.ZERO);
    started(live);
    await().atMost(Duration.ofSeconds(60)).until(() -> sink.distinct().size() == total);
    assertThat(deliveredIds()).containsExactlyInAnyOrderElementsOf(eventIdsOf(docs));
    // re-sent events carry their id, so the sink sees them as duplicates; they are at most the
    // in-flight window plus what was committed since the last checkpoint write
    assertThat(sink.duplicates())
        .isLessThanOrEqualTo(live.maxInFlight() + 2L * live.tokenFlushEvents());
  }

  @Test
  void aSinkThatIsDownForAWhileLosesNothing() {
    started(RunnerHarness.live(4, 32));
    sink.faults().failShare(1.0);
    List<BsonDocument> docs = events(50);
    insert(docs);
    await().atMost(Duration.ofSeconds(30)).until(() -> sink.answered(503) >= 50);
    sink.faults().failShare(0.0);

    await().atMost(Duration.ofSeconds(60)).until(() -> sink.distinct().size() == 50);
    assertThat(harness.deadLetters.count()).isZero();
  }

  @Test
  void malformedDocumentsAreSetAsideAndTheStreamGoesOn() {
    ChangeStreamRunner runner = started(RunnerHarness.live(4, 32));
    List<BsonDocument> malformed =
        Samples.malformed().values().stream().filter(harness.store::holds).toList();
    List<BsonDocument> docs = new ArrayList<>();
    List<BsonDocument> good = Samples.good();
    int i = 0;
    for (BsonDocument bad : malformed) {
      docs.add(good.get(i++));
      docs.add(bad);
    }
    docs.addAll(good.subList(i, good.size()));
    docs.forEach(doc -> insert(List.of(doc)));

    // the 40 good ones and the malformed ones that still hold a health event
    int exportable = docs.size() - 3;
    await().atMost(Duration.ofSeconds(60)).until(() -> sink.distinct().size() == exportable);
    await().atMost(Duration.ofSeconds(10)).until(() -> harness.deadLetters.count() == 3);
    List<DeadLetter> letters = harness.deadLetters.list(10);
    assertThat(letters).extracting(DeadLetter::kind).containsOnly(DeadLetter.Kind.UNDECODABLE);
    assertThat(letters)
        .extracting(DeadLetter::reason)
        .containsExactlyInAnyOrder(
            "the document has no healthevent field",
            "healthevent is null",
            "healthevent is a string, expected a document");
    runner.stop();
    assertThat(accountedFor()).isEqualTo(eventIdsOf(docs));
  }

  @Test
  void poisonDocumentsNeitherStallTheStreamNorAreTriedForever() {
    ChangeStreamRunner runner = started(RunnerHarness.live(4, 32));
    List<BsonDocument> docs = new ArrayList<>(Samples.poison().values());
    docs.addAll(events(100));
    insert(docs);

    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> sink.distinct().size() == Samples.poison().size() + 100);
    runner.stop();
    assertThat(accountedFor()).isEqualTo(eventIdsOf(docs));
  }

  @Test
  void aSinkThatRefusesEveryEventPausesReadingAndResumesWhenFixed() {
    List<AvailabilityState> states = new CopyOnWriteArrayList<>();
    LiveProperties live = RunnerHarness.live(4, 16);
    started(
        harness.runner(
            live,
            source -> source,
            event -> {
              if (event instanceof AvailabilityChangeEvent<?> change) {
                states.add(change.getState());
              }
            }));
    sink.faults().failNext(Integer.MAX_VALUE, 403);
    List<BsonDocument> docs = events(100);
    insert(docs);

    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> states.contains(ReadinessState.REFUSING_TRAFFIC));
    await().atMost(Duration.ofSeconds(5)).until(() -> sink.answered(403) > 20);
    assertThat(harness.meters.get("health_events_exporter_events_received").counter().count())
        .as("reading paused: at most the in-flight window was read")
        .isLessThanOrEqualTo(live.maxInFlight() + 1);
    assertThat(harness.deadLetters.count()).isZero();

    sink.faults().failNext(0, 403);

    await().atMost(Duration.ofSeconds(60)).until(() -> sink.distinct().size() == 100);
    assertThat(harness.deadLetters.count()).isZero();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> states.get(states.size() - 1) == ReadinessState.ACCEPTING_TRAFFIC);
  }

  /**
   * Batched delivery: the reader gathers up to {@code maxEvents} changes per request, and sends
   * what it has once the first waited {@code maxWait}; every event arrives under its own id and the
   * checkpoint ends at the last one.
   */
  @Test
  void batchedDeliverySendsManyEventsPerRequestAndStillEndsAtTheLastEvent() {
    harness.config.batch = new ExporterProperties.Batch(true, 25, Duration.ofMillis(50));
    ChangeStreamRunner runner = started(RunnerHarness.live(4, 8));
    List<BsonDocument> docs = events(500);
    insert(docs);
    await().atMost(Duration.ofSeconds(60)).until(() -> sink.distinct().size() == 500);
    // a lone event is sent once it waited maxWait, not held for a full batch
    BsonDocument lone = event(500);
    insert(List.of(lone));
    await().atMost(Duration.ofSeconds(10)).until(() -> sink.distinct().size() == 501);
    List<BsonDocument> all = new ArrayList<>(docs);
    all.add(lone);
    await().atMost(Duration.ofSeconds(10)).until(() -> accountedFor().equals(eventIdsOf(all)));
    runner.stop();

    assertThat(deliveredIds()).isEqualTo(eventIdsOf(all));
    assertThat(sink.duplicates()).isZero();
    assertThat(sink.acceptedRequests())
        .as("at most 25 events per request, far fewer requests than events")
        .isBetween(21L, 250L);
    assertThat(sink.accepted())
        .as("the batch format reached the sink")
        .allMatch(received -> received.id() != null);
  }

  /**
   * A batch the sink refuses for one event it cannot take costs that event alone; while the sink
   * takes nothing, the checkpoint never passes an event it did not accept.
   */
  @Test
  void batchedDeliveryIsolatesARefusedEventAndCommitsOnlyWhatTheSinkAccepted() {
    harness.config.batch = new ExporterProperties.Batch(true, 20, Duration.ofMillis(50));
    started(RunnerHarness.live(2, 8));
    List<BsonDocument> docs = events(100);
    String refused = harness.eventId(docs.get(42).get("_id"));
    sink.faults().chokeOn(event -> refused.equals(event.path("id").asString()), 400);
    insert(docs);
    await().atMost(Duration.ofSeconds(30)).until(() -> sink.distinct().size() == 99);
    await().atMost(Duration.ofSeconds(10)).until(() -> harness.deadLetters.count() == 1);
    assertThat(harness.deadLetters.list(1).get(0).id()).isEqualTo(refused);
    await().atMost(Duration.ofSeconds(10)).until(() -> accountedFor().equals(eventIdsOf(docs)));

    sink.faults().failShare(1.0);
    List<BsonDocument> held = events(60);
    insert(held);
    await().atMost(Duration.ofSeconds(30)).until(() -> sink.answered(503) >= 3);
    assertThat(accountedFor()).as("nothing the sink did not take").isEqualTo(eventIdsOf(docs));
    sink.faults().failShare(0.0);
    List<BsonDocument> all = new ArrayList<>(docs);
    all.addAll(held);
    await().atMost(Duration.ofSeconds(60)).until(() -> accountedFor().equals(eventIdsOf(all)));
    assertThat(deliveredIds()).containsAll(eventIdsOf(held));
    assertThat(harness.deadLetters.count()).isEqualTo(1);
  }

  /** A sink whose handler crashes on {@code doc}'s payload: a 500 to it every time. */
  void sinkChokesOn(BsonDocument doc) {
    String id = harness.eventId(doc.get("_id"));
    sink.faults().chokeOn(event -> id.equals(event.path("id").asString()), 500);
  }

  /**
   * The case as an operator met it: a handler crashing on one payload, {@code maxRetries: 3},
   * back-off 100–500 ms, the payload alone on the stream. It costs that event, as a dead letter,
   * within its retry budget; reading never pauses and the events after it are delivered.
   */
  @Test
  void aPayloadTheSinkChokesOnAloneOnTheStreamCostsThatEventAlone() {
    harness.config.maxRetries = 3;
    harness.config.initialBackoff = Duration.ofMillis(100);
    harness.config.maxBackoff = Duration.ofMillis(500);
    List<AvailabilityState> states = new CopyOnWriteArrayList<>();
    started(
        harness.runner(
            RunnerHarness.live(4, 16),
            source -> source,
            event -> {
              if (event instanceof AvailabilityChangeEvent<?> change) {
                states.add(change.getState());
              }
            }));
    BsonDocument first = event(0);
    insert(List.of(first));
    await().atMost(Duration.ofSeconds(20)).until(() -> sink.distinct().size() == 1);
    BsonDocument poison = event(1);
    sinkChokesOn(poison);
    long start = System.nanoTime();
    insert(List.of(poison));

    await().atMost(Duration.ofSeconds(20)).until(() -> harness.deadLetters.count() == 1);
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .as("within its retry budget (about 1 s here), plus the probe and one deciding try")
        .isLessThan(Duration.ofSeconds(10));
    List<BsonDocument> after = new ArrayList<>();
    for (int i = 2; i < 22; i++) {
      after.add(event(i));
    }
    insert(after);
    await().atMost(Duration.ofSeconds(30)).until(() -> sink.distinct().size() == 21);
    assertThat(sink.answered(500)).as("its budget, and the deciding try").isEqualTo(5);
    assertThat(states).doesNotContain(ReadinessState.REFUSING_TRAFFIC);
    List<BsonDocument> all = new ArrayList<>(List.of(first, poison));
    all.addAll(after);
    await().atMost(Duration.ofSeconds(10)).until(() -> accountedFor().equals(eventIdsOf(all)));
  }

  /** The same payload among many events: the others flow around it. */
  @Test
  void aPayloadTheSinkChokesOnAmongManyCostsThatEventAlone() {
    harness.config.maxRetries = 3;
    started(RunnerHarness.live(4, 16));
    List<BsonDocument> docs = events(200);
    sinkChokesOn(docs.get(100));
    insert(docs);

    await().atMost(Duration.ofSeconds(60)).until(() -> sink.distinct().size() == 199);
    await().atMost(Duration.ofSeconds(20)).until(() -> harness.deadLetters.count() == 1);
    await().atMost(Duration.ofSeconds(10)).until(() -> accountedFor().equals(eventIdsOf(docs)));
  }

  /**
   * After a restart the payload is the first event read, before the sink took any: nothing can be
   * probed, so it waits without stopping the stream, and the next event the sink takes decides.
   */
  @Test
  void aPayloadTheSinkChokesOnFirstAfterAStartWaitsForTheNextEventToDecide() {
    harness.config.maxRetries = 3;
    started(RunnerHarness.live(4, 16));
    BsonDocument poison = event(0);
    sinkChokesOn(poison);
    insert(List.of(poison));
    await().atMost(Duration.ofSeconds(20)).until(() -> sink.answered(500) >= 4);
    assertThat(harness.deadLetters.count()).as("undecided: nothing told yet").isZero();

    List<BsonDocument> after = events(10).subList(1, 10);
    insert(after);

    await().atMost(Duration.ofSeconds(30)).until(() -> sink.distinct().size() == 9);
    await().atMost(Duration.ofSeconds(20)).until(() -> harness.deadLetters.count() == 1);
  }

  @Test
  void anOutageLongerThanTheRetryBudgetLosesNothingAndDeadLettersNothing() {
    harness.config.maxRetries = 2;
    started(RunnerHarness.live(4, 32));
    sink.faults().failShare(1.0);
    List<BsonDocument> docs = events(50);
    insert(docs);
    // far longer than three attempts 5 to 50 ms apart
    await().atMost(Duration.ofSeconds(30)).until(() -> sink.answered(503) >= 60);
    sink.faults().failShare(0.0);

    await().atMost(Duration.ofSeconds(60)).until(() -> sink.distinct().size() == 50);
    assertThat(harness.deadLetters.count()).isZero();
  }

  @Test
  void theFirstStartStoresTheBackfillCutoffBesideTheCheckpoint() {
    Instant before = Instant.now();
    started(RunnerHarness.live(2, 8));
    Checkpoint checkpoint = harness.checkpoints.load(CLIENT).orElseThrow();
    assertThat(checkpoint.position()).isNull();
    assertThat(checkpoint.backfillCutoff()).isBetween(before, Instant.now());
    assertThat(checkpoint.startAt()).isBeforeOrEqualTo(checkpoint.backfillCutoff().minusSeconds(4));
    assertThat(harness.checkpoints.backfillCutoff(CLIENT)).contains(checkpoint.backfillCutoff());
  }

  @Test
  void anEventStoredRightAfterTheFirstStartIsNotLostWhenTheExporterDiesBeforeDeliveringIt()
      throws Exception {
    ChangeStreamRunner first = started(RunnerHarness.live(2, 8));
    sink.faults().failShare(1.0);
    BsonDocument doc = event(1);
    insert(List.of(doc));
    await().atMost(Duration.ofSeconds(20)).until(() -> sink.answered(503) > 0);
    first.halt();
    sink.faults().failShare(0.0);

    started(RunnerHarness.live(2, 8));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> deliveredIds().contains(harness.eventId(doc.get("_id"))));
  }

  @Test
  void theGoExportersPositionIsContinuedWithoutACutoffAndNothingBeforeItIsSentAgain() {
    List<BsonDocument> before = events(3);
    insert(before);
    // the Go exporter delivered the first two and stored its position after the second
    harness.store.replacedExporterStoredPositionAfter(CLIENT, before.get(1));

    ChangeStreamRunner runner = started(RunnerHarness.live(2, 8));
    BsonDocument after = event(3);
    insert(List.of(after));

    String third = harness.eventId(before.get(2).get("_id"));
    String fourth = harness.eventId(after.get("_id"));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> deliveredIds().containsAll(Set.of(third, fourth)));
    runner.stop();
    assertThat(deliveredIds()).containsExactlyInAnyOrder(third, fourth);
    Checkpoint checkpoint = harness.checkpoints.load(CLIENT).orElseThrow();
    assertThat(checkpoint.backfillCutoff())
        .as("no backfill cutoff: the Go exporter did that")
        .isNull();
    assertThat(checkpoint.takenOverAt()).isNotNull();
    assertThat(harness.gaps.all()).isEmpty();
    assertThat(accountedFor()).contains(third, fourth);
    harness.store.assertReplacedExporterContinuesFrom(CLIENT, checkpoint);
  }

  @Test
  void aBrokenConnectionReopensTheStreamAndLosesNothing() {
    started(
        harness.runner(
            RunnerHarness.live(4, 16),
            source -> new ConnectionDropsOnce(source, 20, harness.store.connectionBroken())));
    List<BsonDocument> docs = events(60);
    insert(docs);
    await().atMost(Duration.ofSeconds(60)).until(() -> sink.distinct().size() == 60);
    assertThat(sink.duplicates()).isZero();
  }

  /** The connection breaks once, after {@code after} changes were read. */
  static final class ConnectionDropsOnce implements ChangeSource {
    private final ChangeSource delegate;
    private final int after;
    private final RuntimeException broken;
    private int read;
    private boolean dropped;

    ConnectionDropsOnce(ChangeSource delegate, int after, RuntimeException broken) {
      this.delegate = delegate;
      this.after = after;
      this.broken = broken;
    }

    @Override
    public Cursor open(StreamPosition position, Instant startAt) {
      Cursor cursor = delegate.open(position, startAt);
      return new Cursor() {
        @Override
        public ChangeEvent tryNext() {
          if (!dropped && read == after) {
            dropped = true;
            throw broken;
          }
          ChangeEvent change = cursor.tryNext();
          if (change != null) {
            read++;
          }
          return change;
        }

        @Override
        public void close() {
          cursor.close();
        }
      };
    }
  }
}
