package io.nvsentinel.exporter.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.nvsentinel.exporter.backfill.BackfillApplication;
import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.config.TestProperties;
import io.nvsentinel.exporter.devstack.StackSettings;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import io.nvsentinel.exporter.event.Samples;
import io.nvsentinel.exporter.store.ChangeHistoryLostException;
import io.nvsentinel.exporter.store.ChangeSource;
import io.nvsentinel.exporter.store.mongo.MongoChangeSource;
import io.nvsentinel.exporter.store.mongo.MongoCheckpointStore;
import io.nvsentinel.exporter.store.mongo.ResumeToken;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonObjectId;
import org.bson.BsonString;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;

/**
 * The fault-injection suite: each scenario inserts a known set of events, injects one fault on
 * loopback, and ends by reconciling the datastore with the sink — every event delivered or
 * dead-lettered with a reason, none lost, duplicates only under the id the event always has. The
 * figures of the last run go to {@code target/fault-injection.md} (and into bench/README.md).
 * Back-offs are scaled down (20 ms to 200 ms, 6 retries, so a retry budget of about a second).
 */
class FaultInjectionTest {

  static TokenIssuer issuer;
  static final List<String> rows = new ArrayList<>();

  @TempDir Path dir;
  FaultStack stack;
  String scenario;
  long faultEndedNanos;

  @BeforeAll
  static void startIssuer() {
    issuer = TokenIssuer.start(TokenIssuer.Settings.defaults());
  }

  @AfterAll
  static void writeReport() throws IOException {
    issuer.close();
    StringBuilder table =
        new StringBuilder(
            "| scenario | inserted | delivered | dead-lettered | duplicates (same id) | lost |"
                + " recovery |\n|---|---:|---:|---:|---:|---:|---:|\n");
    rows.forEach(row -> table.append(row).append('\n'));
    Path report = Path.of("target", "fault-injection.md");
    Files.createDirectories(report.getParent());
    Files.writeString(report, table);
    System.out.println("[fault-injection]\n" + table);
  }

  @BeforeEach
  void setUp(TestInfo test) throws Exception {
    stack = new FaultStack(issuer, dir);
    scenario = test.getDisplayName();
  }

  @AfterEach
  void tearDown() throws Exception {
    issuer.restore();
    stack.close();
  }

  /** Waits until every inserted event is accounted for, checks the books and records the row. */
  void reconcile(String name) {
    await().atMost(Duration.ofSeconds(120)).until(stack::allAccounted);
    long recovery = faultEndedNanos == 0 ? 0 : System.nanoTime() - faultEndedNanos;
    List<Document> letters = stack.deadLetters();
    assertThat(stack.deliveredIds())
        .as("nothing arrives under an id other than the one its event always has")
        .isSubsetOf(stack.expectedIds());
    assertThat(letters).allSatisfy(letter -> assertThat(letter.getString("reason")).isNotBlank());
    assertThat(stack.unaccounted()).as("lost").isEmpty();
    rows.add(
        "| "
            + name
            + " | "
            + stack.inserted.size()
            + " | "
            + stack.deliveredIds().size()
            + " | "
            + letters.size()
            + " | "
            + stack.sink.duplicates()
            + " | 0 | "
            + (recovery == 0 ? "—" : String.format("%.1f s", recovery / 1e9))
            + " |");
  }

  void faultEnds() {
    faultEndedNanos = System.nanoTime();
  }

  @Test
  void sinkAnswers30PercentWith5xx() {
    stack.startInProcess();
    stack.sink.faults().failShare(0.3);
    stack.insert(300);
    reconcile("sink: 30% of answers 503");
    assertThat(stack.sink.answered(503)).isPositive();
  }

  @Test
  void sinkDownLongerThanTheRetryBudget() {
    stack.startInProcess();
    await().atMost(Duration.ofSeconds(30)).until(stack::checkpointStored);
    stack.sink.faults().failShare(1.0);
    stack.insert(200);
    // five times the retry budget
    await().pollDelay(Duration.ofSeconds(5)).until(() -> true);
    stack.sink.faults().failShare(0.0);
    faultEnds();
    reconcile("sink: down 5 s, 5x the retry budget");
    assertThat(stack.deadLetters()).as("an outage is no event's fault").isEmpty();
  }

  @Test
  void sinkRateLimitsInBurstsWithRetryAfter() {
    stack.startInProcess();
    stack.sink.faults().retryAfter(1);
    for (int burst = 0; burst < 3; burst++) {
      stack.sink.faults().failNext(40, 429);
      stack.insert(100);
      int seen = 40 * (burst + 1);
      await().atMost(Duration.ofSeconds(30)).until(() -> stack.sink.answered(429) >= seen);
    }
    faultEnds();
    reconcile("sink: three bursts of 40 x 429 with Retry-After");
    assertThat(stack.deadLetters()).isEmpty();
  }

  @Test
  void sinkStallsAfterItsHeaders() {
    stack.startInProcess();
    stack.sink.faults().stallShare(0.05);
    stack.insert(200);
    reconcile("sink: 5% of answers stall after the headers");
    assertThat(stack.sink.answered(1)).as("stalled answers").isPositive();
  }

  @Test
  void sinkResetsConnections() {
    stack.startInProcess();
    stack.sink.faults().resetShare(0.2);
    stack.insert(300);
    reconcile("sink: 20% of connections reset");
    assertThat(stack.sink.answered(0)).as("connections reset").isPositive();
  }

  @Test
  void identityProviderDown() {
    issuer.refuse(503, "temporarily_unavailable");
    stack.startInProcess();
    stack.insert(100);
    await().pollDelay(Duration.ofSeconds(3)).until(() -> true);
    assertThat(stack.sink.accepted()).isEmpty();
    issuer.restore();
    faultEnds();
    reconcile("identity provider: down 3 s from the start");
    assertThat(stack.deadLetters()).isEmpty();
  }

  @Test
  void tokensExpiringEveryTwoSeconds() throws Exception {
    try (TokenIssuer shortLived =
            TokenIssuer.start(
                TokenIssuer.Settings.defaults().withTokenLifetime(Duration.ofSeconds(2)));
        FaultStack own = new FaultStack(shortLived, Files.createDirectories(dir.resolve("own")))) {
      stack.close();
      stack = own;
      stack.startInProcess();
      for (int i = 0; i < 10; i++) {
        stack.insert(20);
        await().pollDelay(Duration.ofMillis(500)).until(() -> true);
      }
      reconcile("identity provider: tokens live 2 s");
      assertThat(shortLived.tokenRequests()).isGreaterThan(2);
      stack = new FaultStack(issuer, Files.createDirectories(dir.resolve("spare")));
    }
  }

  @Test
  void clientRevokedThenRestored() throws Exception {
    stack.startInProcess();
    stack.insert(20);
    await().atMost(Duration.ofSeconds(60)).until(stack::allAccounted);
    // revoked: the identity provider refuses the client, and the sink its old tokens
    issuer.refuse(401, "invalid_client");
    stack.sink.faults().failNext(Integer.MAX_VALUE, 401);
    stack.insert(100);
    await().atMost(Duration.ofSeconds(30)).until(() -> stack.status("/readyz") == 503);
    assertThat(stack.status("/livez")).isEqualTo(200);
    issuer.restore();
    stack.sink.faults().failNext(0, 401);
    faultEnds();
    reconcile("identity provider: client revoked, restored after pause");
    assertThat(stack.deadLetters()).as("a wrong setting is no event's fault").isEmpty();
    await().atMost(Duration.ofSeconds(10)).until(() -> stack.status("/readyz") == 200);
  }

  @Test
  void exporterKilledAtFiveRandomPoints() throws Exception {
    Random random = new Random(42);
    stack.sink.faults().delay(Duration.ofMillis(5));
    stack.startProcess("killed.log");
    await().atMost(Duration.ofSeconds(60)).until(stack::checkpointStored);
    for (int kill = 0; kill < 5; kill++) {
      int before = stack.sink.accepted().size();
      int after = 20 + random.nextInt(60);
      stack.insert(100);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> stack.sink.accepted().size() >= before + after);
      stack.process.destroyForcibly().waitFor();
      stack.startProcess("killed.log");
    }
    faultEnds();
    reconcile("exporter: SIGKILL at 5 random points");
  }

  @Test
  void exporterTerminatedInABurst() throws Exception {
    stack.sink.faults().delay(Duration.ofMillis(10));
    stack.startProcess("terminated.log");
    await().atMost(Duration.ofSeconds(60)).until(stack::checkpointStored);
    stack.insert(300);
    await().atMost(Duration.ofSeconds(60)).until(() -> stack.sink.accepted().size() >= 100);
    stack.process.destroy();
    stack.process.waitFor();
    stack.startProcess("terminated.log");
    faultEnds();
    reconcile("exporter: SIGTERM in a burst of 300");
  }

  @Test
  void datastoreCutOffLongerThanStuckAfter() throws Exception {
    stack.behindProxy();
    stack.properties.put("exporter.live.stuckAfter", "3s");
    stack.startInProcess();
    await().atMost(Duration.ofSeconds(30)).until(() -> stack.status("/readyz") == 200);
    stack.insert(50);
    await().atMost(Duration.ofSeconds(60)).until(stack::allAccounted);

    stack.proxy.cut();
    stack.insert(100);
    await().pollDelay(Duration.ofSeconds(6)).until(() -> true);
    assertThat(stack.status("/livez")).as("alive through the outage").isEqualTo(200);
    assertThat(stack.status("/readyz")).as("not ready while cut off").isEqualTo(503);
    stack.proxy.restore();
    faultEnds();
    reconcile("datastore: cut off 6 s (stuckAfter 3 s)");
  }

  static final ResumeToken STALE =
      new ResumeToken(new BsonDocument("_data", new BsonString("8200000001000000012B0229296E04")));

  @Test
  void resumeTokenOutsideTheHistory() throws Exception {
    Instant lastEvent = Instant.now().minus(10, ChronoUnit.MINUTES).truncatedTo(ChronoUnit.MILLIS);
    new MongoCheckpointStore(
            stack.client,
            new ExporterProperties.ResumeToken(
                "HealthEventsDatabase", "ResumeTokens", "exportergaps", "event-exporter"))
        .save(new Checkpoint("event-exporter", STALE, null, lastEvent, lastEvent, lastEvent, null));
    // stored while the exporter was away, after its last event: only a backfill can bring them
    List<BsonDocument> lost = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      lost.add(stack.history.event(lastEvent.plusSeconds(10 + i)));
    }
    stack.insert(lost);
    // a real server answers a token older than its oplog with error 286, which the MongoDB store
    // reports as lost history; no server here can be made to, so the source says it for that token
    ExporterProperties.Datastore datastore =
        TestProperties.mongoDatastore(stack.mongo.connectionString(), null);
    MongoChangeSource real = new MongoChangeSource(stack.client, datastore, List.of("insert"));
    ChangeSource historyLost =
        (resumeAfter, startAt) -> {
          if (STALE.equals(resumeAfter)) {
            throw new ChangeHistoryLostException(
                "resume token unusable (server error 286): the resume point is no longer in the"
                    + " oplog");
          }
          return real.open(resumeAfter, startAt);
        };
    stack.startInProcess(
        builder ->
            builder.initializers(
                context ->
                    context.getBeanFactory().registerSingleton("changeSource", historyLost)));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                stack
                        .client
                        .getDatabase("HealthEventsDatabase")
                        .getCollection("exportergaps")
                        .countDocuments()
                    == 1);
    stack.insert(50);
    await().atMost(Duration.ofSeconds(60)).until(() -> stack.deliveredIds().size() >= 50);
    faultEnds();

    List<String> args = new ArrayList<>(List.of(StackSettings.arguments(stack.properties)));
    args.add("--exporter.backfill.jobRepositoryPath=" + dir.resolve("jobs"));
    args.add("--exporter.backfill.maxAge=1h");
    int exit =
        SpringApplication.exit(BackfillApplication.application().run(args.toArray(String[]::new)));

    assertThat(exit).isZero();
    reconcile("datastore: resume token outside the history → gap window → backfill");
  }

  /** A sink whose handler crashes on one payload: a 500 to it every time, a 202 to every other. */
  BsonDocument chokingOn(Instant at) {
    BsonDocument poison = stack.history.event(at);
    String id = Demo.id(poison);
    stack.sink.faults().chokeOn(event -> id.equals(event.path("id").asString()), 500);
    return poison;
  }

  void onlyThePoisonIsADeadLetter(BsonDocument poison) {
    assertThat(stack.deadLetters())
        .singleElement()
        .satisfies(
            letter -> {
              assertThat(letter.getString("kind")).isEqualTo("exhausted");
              assertThat(letter.getString("_id")).isEqualTo(Demo.id(poison));
            });
  }

  @Test
  void sinkCrashesOnOnePayloadOnABusyStream() {
    stack.startInProcess();
    List<BsonDocument> docs = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      docs.add(i == 150 ? chokingOn(Instant.now()) : stack.history.event(Instant.now()));
    }
    stack.insert(docs);
    reconcile("sink: crashes on one payload, busy stream");
    onlyThePoisonIsADeadLetter(docs.get(150));
  }

  /**
   * The payload comes alone: nothing else is sent during its retries, so the event the sink took
   * last is sent again to tell; and the events after it are not held up.
   */
  @Test
  void sinkCrashesOnOnePayloadOnAQuietStream() throws Exception {
    stack.startInProcess();
    stack.insert(1);
    await().atMost(Duration.ofSeconds(30)).until(() -> stack.deliveredIds().size() == 1);
    BsonDocument poison = chokingOn(Instant.now());
    stack.insert(List.of(poison));
    await().atMost(Duration.ofSeconds(30)).until(() -> !stack.deadLetters().isEmpty());
    assertThat(stack.status("/readyz")).as("no outage: ready throughout").isEqualTo(200);
    stack.insert(20);
    reconcile("sink: crashes on one payload, quiet stream");
    onlyThePoisonIsADeadLetter(poison);
  }

  /** A backfill chunk sends its events, then waits on the one the sink chokes on. */
  @Test
  void sinkCrashesOnOnePayloadInABackfillWindow() throws Exception {
    Instant from = Instant.now().minus(30, ChronoUnit.MINUTES);
    List<BsonDocument> docs = new ArrayList<>();
    for (int i = 0; i < 120; i++) {
      Instant at = from.plusSeconds(i);
      docs.add(i == 60 ? chokingOn(at) : stack.history.event(at));
    }
    stack.insert(docs);
    List<String> args = new ArrayList<>(List.of(StackSettings.arguments(stack.properties)));
    args.add("--exporter.backfill.jobRepositoryPath=" + dir.resolve("jobs"));
    args.add("--exporter.backfill.batchSize=50");
    args.add("run");
    args.add("--window-start=" + from.minusSeconds(1));
    args.add("--window-end=" + from.plusSeconds(120));
    int exit =
        SpringApplication.exit(BackfillApplication.application().run(args.toArray(String[]::new)));

    assertThat(exit).as("the window completes on its first run").isZero();
    reconcile("sink: crashes on one payload, backfill window");
    onlyThePoisonIsADeadLetter(docs.get(60));
  }

  @Test
  void malformedDocumentsAtOnePercent() {
    stack.startInProcess();
    List<BsonDocument> bad = new ArrayList<>(Samples.malformed().values());
    bad.addAll(Samples.poison().values());
    List<BsonDocument> docs = new ArrayList<>();
    for (BsonDocument doc : bad) {
      for (int i = 0; i < 99; i++) {
        docs.add(stack.history.event(Instant.now()));
      }
      BsonDocument malformed = doc.clone();
      if (malformed.isObjectId("_id")) {
        malformed.put("_id", new BsonObjectId());
      }
      if (malformed.isDateTime("createdAt")) {
        malformed.put("createdAt", new BsonDateTime(System.currentTimeMillis()));
      }
      docs.add(malformed);
    }
    stack.insert(docs);
    reconcile("data: every malformed and poison case at 1%");
    assertThat(stack.deadLetters())
        .extracting(letter -> letter.getString("kind"))
        .containsOnly("undecodable")
        .hasSize(3);
  }
}
