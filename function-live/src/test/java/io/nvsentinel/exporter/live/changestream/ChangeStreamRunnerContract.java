package io.nvsentinel.exporter.live.changestream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.mongodb.MongoCommandException;
import com.mongodb.MongoSocketReadException;
import com.mongodb.ServerAddress;
import com.mongodb.client.MongoChangeStreamCursor;
import com.mongodb.client.model.changestream.ChangeStreamDocument;
import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.checkpoint.GapWindow;
import io.nvsentinel.exporter.delivery.DeadLetter;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import io.nvsentinel.exporter.event.Samples;
import io.nvsentinel.exporter.live.config.LiveProperties;
import io.nvsentinel.exporter.live.function.ChangeEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.bson.BsonBinary;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonObjectId;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.BsonValue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.AvailabilityState;
import org.springframework.boot.availability.ReadinessState;

/**
 * What the change-stream runner promises, checked against a real MongoDB wire-protocol server, a
 * real token issuer and a verifying sink. Subclasses say which MongoDB.
 */
abstract class ChangeStreamRunnerContract {

  static TokenIssuer issuer;
  ReferenceSink sink;
  RunnerHarness harness;
  final List<ChangeStreamRunner> runners = new ArrayList<>();

  /** A MongoDB connection string for a server with change streams. */
  abstract String mongoUri();

  @BeforeAll
  static void startIssuer() {
    issuer = TokenIssuer.start(TokenIssuer.Settings.defaults());
  }

  @AfterAll
  static void stopIssuer() {
    issuer.close();
  }

  @BeforeEach
  void setUp() throws Exception {
    sink = ReferenceSink.start(0, issuer, "events:write");
    harness =
        new RunnerHarness(
            mongoUri(), sink.endpoint(), issuer.tokenUrl(), issuer.settings().clientSecret());
    harness.config.database =
        "live" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  }

  @AfterEach
  void tearDown() throws Exception {
    for (ChangeStreamRunner runner : runners) {
      runner.halt();
    }
    sink.close();
    harness.close();
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
    for (int from = 0; from < docs.size(); from += 100) {
      harness.events().insertMany(docs.subList(from, Math.min(docs.size(), from + 100)));
    }
  }

  /** Opens an independent change stream, to learn each insert's resume token. */
  MongoChangeStreamCursor<ChangeStreamDocument<BsonDocument>> observer() {
    return harness
        .events()
        .watch(BsonDocument.class)
        .startAtOperationTime(
            new BsonTimestamp((int) Instant.now().minusSeconds(1).getEpochSecond(), 0))
        .cursor();
  }

  static List<BsonDocument> tokens(
      MongoChangeStreamCursor<ChangeStreamDocument<BsonDocument>> cursor, int count) {
    List<BsonDocument> tokens = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (tokens.size() < count && System.nanoTime() < deadline) {
      ChangeStreamDocument<BsonDocument> change = cursor.tryNext();
      if (change != null) {
        tokens.add(change.getResumeToken());
      }
    }
    return tokens;
  }

  Set<String> deliveredIds() {
    return sink.distinct().stream().map(ReferenceSink.Received::id).collect(Collectors.toSet());
  }

  @Test
  void aThousandInsertsAreDeliveredWithTheirIdsAndTheCheckpointEndsAtTheLastEvent() {
    ChangeStreamRunner runner = started(RunnerHarness.live(8, 64));
    var observer = observer();
    List<BsonDocument> docs = events(1000);
    insert(docs);
    List<BsonDocument> tokens = tokens(observer, 1000);
    observer.close();

    await().atMost(Duration.ofSeconds(90)).until(() -> sink.distinct().size() == 1000);
    runner.stop();

    assertThat(deliveredIds())
        .containsExactlyInAnyOrderElementsOf(
            docs.stream().map(d -> harness.eventId(d.get("_id"))).toList());
    assertThat(sink.duplicates()).isZero();
    Checkpoint checkpoint = harness.checkpoints.load("test-client").orElseThrow();
    assertThat(checkpoint.resumeToken()).isEqualTo(tokens.get(999));
    assertThat(harness.meters.get("health_events_exporter_events_received").counter().count())
        .isEqualTo(1000);
  }

  @ParameterizedTest(name = "crash after {0} acknowledged events")
  @ValueSource(ints = {1, 60, 150})
  void aCrashNeverLeavesTheCheckpointPastAnUndeliveredEvent(int crashAfter) throws Exception {
    int total = 200;
    LiveProperties live = RunnerHarness.live(8, 32);
    // within each group of eight, later events are answered first
    sink.delay(
        json -> {
          String message =
              json == null
                  ? ""
                  : json.path("data").path("healthEvent").path("message").asString("");
          int seq = message.startsWith("seq-") ? Integer.parseInt(message.substring(4)) : 0;
          return Duration.ofMillis(6L * (7 - seq % 8));
        });
    ChangeStreamRunner first = started(live);
    var observer = observer();
    List<BsonDocument> docs = events(total);
    insert(docs);
    List<BsonDocument> tokens = tokens(observer, total);
    observer.close();

    await().atMost(Duration.ofSeconds(60)).until(() -> sink.accepted().size() >= crashAfter);
    first.halt();

    Checkpoint checkpoint = harness.checkpoints.load("test-client").orElseThrow();
    Set<String> delivered = deliveredIds();
    if (checkpoint.resumeToken() != null) {
      int committed = tokens.indexOf(checkpoint.resumeToken());
      assertThat(committed).as("the checkpoint names a token of this stream").isNotNegative();
      for (int i = 0; i <= committed; i++) {
        assertThat(delivered)
            .as("event %d is before the checkpoint", i)
            .contains(harness.eventId(docs.get(i).get("_id")));
      }
    }

    sink.delay(Duration.ZERO);
    started(live);
    await().atMost(Duration.ofSeconds(60)).until(() -> sink.distinct().size() == total);
    assertThat(deliveredIds())
        .containsExactlyInAnyOrderElementsOf(
            docs.stream().map(d -> harness.eventId(d.get("_id"))).toList());
    // re-sent events carry their id, so the sink sees them as duplicates; they are at most the
    // in-flight window plus what was committed since the last checkpoint write
    assertThat(sink.duplicates())
        .isLessThanOrEqualTo(live.maxInFlight() + 2L * live.tokenFlushEvents());
  }

  @Test
  void aSinkThatIsDownForAWhileLosesNothing() {
    started(RunnerHarness.live(4, 32));
    sink.failShare(1.0);
    List<BsonDocument> docs = events(50);
    insert(docs);
    await().atMost(Duration.ofSeconds(30)).until(() -> sink.answered(503) >= 50);
    sink.failShare(0.0);

    await().atMost(Duration.ofSeconds(60)).until(() -> sink.distinct().size() == 50);
    assertThat(harness.deadLetters.count()).isZero();
  }

  @Test
  void malformedDocumentsAreSetAsideAndTheStreamGoesOn() {
    ChangeStreamRunner runner = started(RunnerHarness.live(4, 32));
    Map<String, BsonDocument> malformed = Samples.malformed();
    List<BsonDocument> docs = new ArrayList<>();
    List<BsonDocument> good = Samples.good();
    int i = 0;
    for (BsonDocument bad : malformed.values()) {
      docs.add(good.get(i++));
      docs.add(bad);
    }
    docs.addAll(good.subList(i, good.size()));
    var observer = observer();
    docs.forEach(doc -> harness.events().insertOne(doc));
    List<BsonDocument> tokens = tokens(observer, docs.size());
    observer.close();

    // 40 good ones and the 10 malformed ones that still hold a health event
    await().atMost(Duration.ofSeconds(60)).until(() -> sink.distinct().size() == 50);
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
    assertThat(harness.checkpoints.load("test-client").orElseThrow().resumeToken())
        .isEqualTo(tokens.get(tokens.size() - 1));
  }

  @Test
  void aPoisonDocumentNeitherStallsTheStreamNorIsTriedForever() {
    ChangeStreamRunner runner = started(RunnerHarness.live(4, 32));
    List<BsonDocument> docs = new ArrayList<>();
    docs.add(Samples.poison().get("recommendedAction is a number too large for the enum"));
    docs.addAll(events(100));
    var observer = observer();
    insert(docs);
    List<BsonDocument> tokens = tokens(observer, docs.size());
    observer.close();

    await().atMost(Duration.ofSeconds(60)).until(() -> sink.distinct().size() == 101);
    runner.stop();
    assertThat(harness.checkpoints.load("test-client").orElseThrow().resumeToken())
        .isEqualTo(tokens.get(tokens.size() - 1));
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
    sink.failNext(Integer.MAX_VALUE, 403);
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

    sink.failNext(0, 403);

    await().atMost(Duration.ofSeconds(60)).until(() -> sink.distinct().size() == 100);
    assertThat(harness.deadLetters.count()).isZero();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> states.get(states.size() - 1) == ReadinessState.ACCEPTING_TRAFFIC);
  }

  @Test
  void anOutageLongerThanTheRetryBudgetLosesNothingAndDeadLettersNothing() {
    harness.config.maxRetries = 2;
    started(RunnerHarness.live(4, 32));
    sink.failShare(1.0);
    List<BsonDocument> docs = events(50);
    insert(docs);
    // far longer than three attempts 5 to 50 ms apart
    await().atMost(Duration.ofSeconds(30)).until(() -> sink.answered(503) >= 60);
    sink.failShare(0.0);

    await().atMost(Duration.ofSeconds(60)).until(() -> sink.distinct().size() == 50);
    assertThat(harness.deadLetters.count()).isZero();
  }

  @Test
  void theFirstStartStoresTheBackfillCutoffBesideTheCheckpoint() {
    Instant before = Instant.now();
    started(RunnerHarness.live(2, 8));
    Checkpoint checkpoint = harness.checkpoints.load("test-client").orElseThrow();
    assertThat(checkpoint.resumeToken()).isNull();
    assertThat(checkpoint.backfillCutoff()).isBetween(before, Instant.now());
    assertThat(checkpoint.startAtOperationTime().getTime())
        .isLessThanOrEqualTo((int) checkpoint.backfillCutoff().getEpochSecond() - 4);
    assertThat(harness.checkpoints.backfillCutoff("test-client"))
        .contains(checkpoint.backfillCutoff());
  }

  @Test
  void anEventStoredRightAfterTheFirstStartIsNotLostWhenTheExporterDiesBeforeDeliveringIt()
      throws Exception {
    ChangeStreamRunner first = started(RunnerHarness.live(2, 8));
    sink.failShare(1.0);
    BsonDocument doc = event(1);
    harness.events().insertOne(doc);
    await().atMost(Duration.ofSeconds(20)).until(() -> sink.answered(503) > 0);
    first.halt();
    sink.failShare(0.0);

    started(RunnerHarness.live(2, 8));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> deliveredIds().contains(harness.eventId(doc.get("_id"))));
  }

  @Test
  void aTokenOutsideTheHistoryIsRecordedAsAGapWindowAndTheStreamRestartsFromNow() {
    Instant lastEvent = Instant.parse("2026-11-20T10:00:00Z");
    harness.checkpoints.save(
        new Checkpoint(
            "test-client",
            new BsonDocument("_data", new BsonString("8200000001000000012B0229296E04")),
            null,
            Instant.parse("2026-11-01T00:00:00Z"),
            lastEvent,
            lastEvent,
            null));
    Instant before = Instant.now();
    // a real server answers a token older than its oplog with error 286; no server here can be
    // made to do that on demand, so the source says it for the first open with a token
    ChangeStreamRunner runner =
        started(harness.runner(RunnerHarness.live(2, 8), source -> new HistoryLostOnce(source)));

    List<GapWindow> windows = harness.gaps.pending();
    assertThat(windows)
        .singleElement()
        .satisfies(
            gap -> {
              assertThat(gap.client()).isEqualTo("test-client");
              // widened by the start overlap, against clock skew
              assertThat(gap.start()).isEqualTo(lastEvent.minusSeconds(5));
              assertThat(gap.end()).isBetween(before, Instant.now());
              assertThat(gap.reason()).contains("286");
            });
    assertThat(harness.meters.get("change_stream_resume_token_recoveries").counter().count())
        .isEqualTo(1);
    Checkpoint checkpoint = harness.checkpoints.load("test-client").orElseThrow();
    assertThat(checkpoint.backfillCutoff())
        .as("the original cutoff stays")
        .isEqualTo(Instant.parse("2026-11-01T00:00:00Z"));

    BsonDocument doc = event(7);
    harness.events().insertOne(doc);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> deliveredIds().contains(harness.eventId(doc.get("_id"))));
    assertThat(runner.streamOpen()).isTrue();
  }

  /** The replaced (Go) exporter's position, as it stores it: {clientName, resumeToken}. */
  void goExporterStored(BsonValue token) {
    harness
        .mongo
        .getDatabase(harness.resumeToken.database())
        .getCollection(harness.resumeToken.collection(), BsonDocument.class)
        .insertOne(
            new BsonDocument("_id", new BsonObjectId())
                .append("clientName", new BsonString("test-client"))
                .append("resumeToken", token));
  }

  BsonDocument tokenDocument() {
    return harness
        .mongo
        .getDatabase(harness.resumeToken.database())
        .getCollection(harness.resumeToken.collection(), BsonDocument.class)
        .find()
        .first();
  }

  @Test
  void theGoExportersPositionIsContinuedWithoutACutoffAndNothingBeforeItIsSentAgain() {
    var observer = observer();
    List<BsonDocument> before = events(3);
    insert(before);
    List<BsonDocument> tokens = tokens(observer, 3);
    observer.close();
    // the Go exporter delivered the first two and stored the token after the second
    goExporterStored(tokens.get(1));

    ChangeStreamRunner runner = started(RunnerHarness.live(2, 8));
    BsonDocument after = event(3);
    harness.events().insertOne(after);

    String third = harness.eventId(before.get(2).get("_id"));
    String fourth = harness.eventId(after.get("_id"));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> deliveredIds().containsAll(Set.of(third, fourth)));
    runner.stop();
    assertThat(deliveredIds()).containsExactlyInAnyOrder(third, fourth);
    Checkpoint checkpoint = harness.checkpoints.load("test-client").orElseThrow();
    assertThat(checkpoint.backfillCutoff())
        .as("no backfill cutoff: the Go exporter did that")
        .isNull();
    assertThat(checkpoint.takenOverAt()).isNotNull();
    assertThat(harness.gaps.all()).isEmpty();
    // one document, still readable by the Go exporter, at the position this exporter reached
    BsonDocument shared = tokenDocument();
    assertThat(shared.getString("clientName").getValue()).isEqualTo("test-client");
    assertThat(shared.getDocument("resumeToken")).isEqualTo(checkpoint.resumeToken());
    assertThat(checkpoint.resumeToken()).isNotEqualTo(tokens.get(1));
  }

  @Test
  void anUnusableGoTokenBecomesAGapWindowFromItsTime() {
    // the token's cluster time is its first timestamp: 0x692A0B5C seconds
    goExporterStored(new BsonDocument("_data", new BsonString("82692A0B5C000000012B0229296E04")));
    Instant before = Instant.now();

    started(harness.runner(RunnerHarness.live(2, 8), source -> new HistoryLostOnce(source)));

    assertThat(harness.gaps.pending())
        .singleElement()
        .satisfies(
            gap -> {
              // widened by the start overlap, against clock skew
              assertThat(gap.start()).isEqualTo(Instant.ofEpochSecond(0x692A0B5CL).minusSeconds(5));
              assertThat(gap.end()).isBetween(before, Instant.now());
              assertThat(gap.reason()).contains("286");
            });
    assertThat(harness.checkpoints.load("test-client").orElseThrow().backfillCutoff()).isNull();
  }

  @Test
  void aGoPositionThatIsNoTokenBecomesAGapWindowOverTheDefaultBackfillWindow() {
    goExporterStored(new BsonBinary(new byte[] {1, 2, 3}));
    Instant before = Instant.now();

    started(RunnerHarness.live(2, 8));

    assertThat(harness.gaps.pending())
        .singleElement()
        .satisfies(
            gap -> {
              assertThat(gap.start())
                  .isBetween(
                      before.minus(Duration.ofHours(720)),
                      Instant.now().minus(Duration.ofHours(720)));
              assertThat(gap.reason()).contains("binary data");
            });
    BsonDocument doc = event(9);
    harness.events().insertOne(doc);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> deliveredIds().contains(harness.eventId(doc.get("_id"))));
  }

  @Test
  void aBrokenConnectionReopensTheStreamAndLosesNothing() {
    started(
        harness.runner(RunnerHarness.live(4, 16), source -> new ConnectionDropsOnce(source, 20)));
    List<BsonDocument> docs = events(60);
    insert(docs);
    await().atMost(Duration.ofSeconds(60)).until(() -> sink.distinct().size() == 60);
    assertThat(sink.duplicates()).isZero();
  }

  /** The connection breaks once, after {@code after} changes were read. */
  static final class ConnectionDropsOnce implements ChangeStreamSource {
    private final ChangeStreamSource delegate;
    private final int after;
    private int read;
    private boolean dropped;

    ConnectionDropsOnce(ChangeStreamSource delegate, int after) {
      this.delegate = delegate;
      this.after = after;
    }

    @Override
    public Cursor open(BsonDocument resumeAfter, BsonTimestamp startAt) {
      Cursor cursor = delegate.open(resumeAfter, startAt);
      return new Cursor() {
        @Override
        public ChangeEvent tryNext() {
          if (!dropped && read == after) {
            dropped = true;
            throw new MongoSocketReadException("connection reset", new ServerAddress());
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

  /** Refuses the first resume from a token as a server does once the oplog rolled past it. */
  static final class HistoryLostOnce implements ChangeStreamSource {
    private final ChangeStreamSource delegate;
    private boolean failed;

    HistoryLostOnce(ChangeStreamSource delegate) {
      this.delegate = delegate;
    }

    @Override
    public Cursor open(BsonDocument resumeAfter, BsonTimestamp startAt) {
      if (resumeAfter != null && !failed) {
        failed = true;
        throw new MongoCommandException(
            new BsonDocument("ok", new BsonInt32(0))
                .append("code", new BsonInt32(286))
                .append("codeName", new BsonString("ChangeStreamHistoryLost"))
                .append(
                    "errmsg",
                    new BsonString(
                        "Resume of change stream was not possible, as the resume point may no longer be in the oplog.")),
            new ServerAddress());
      }
      return delegate.open(resumeAfter, startAt);
    }
  }
}
