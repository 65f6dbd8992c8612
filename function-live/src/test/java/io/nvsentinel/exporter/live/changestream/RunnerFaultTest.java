package io.nvsentinel.exporter.live.changestream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.mongodb.MongoCommandException;
import com.mongodb.ServerAddress;
import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.checkpoint.GapWindow;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import io.nvsentinel.exporter.event.Samples;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Faults inside the exporter's own process: a failing gap store, an out-of-memory error. */
class RunnerFaultTest {

  static final BsonDocument STALE =
      new BsonDocument("_data", new BsonString("8200000001000000012B0229296E04"));

  EmbeddedMongo mongo;
  TokenIssuer issuer;
  ReferenceSink sink;
  RunnerHarness harness;
  ChangeStreamRunner runner;

  @BeforeEach
  void setUp() throws Exception {
    mongo = EmbeddedMongo.start();
    issuer = TokenIssuer.start(TokenIssuer.Settings.defaults());
    sink = ReferenceSink.start(0, issuer, "events:write");
    harness =
        new RunnerHarness(
            mongo.connectionString(),
            sink.endpoint(),
            issuer.tokenUrl(),
            issuer.settings().clientSecret());
  }

  @AfterEach
  void tearDown() throws Exception {
    if (runner != null) {
      runner.halt();
    }
    harness.close();
    sink.close();
    issuer.close();
    mongo.close();
  }

  /** Refuses every resume from the stale token, as a server whose oplog rolled past it does. */
  static ChangeStreamSource historyLostFor(ChangeStreamSource delegate) {
    return (resumeAfter, startAt) -> {
      if (STALE.equals(resumeAfter)) {
        throw new MongoCommandException(
            new BsonDocument("ok", new BsonInt32(0))
                .append("code", new BsonInt32(286))
                .append("codeName", new BsonString("ChangeStreamHistoryLost"))
                .append("errmsg", new BsonString("Resume of change stream was not possible")),
            new ServerAddress());
      }
      return delegate.open(resumeAfter, startAt);
    };
  }

  @Test
  void aGapThatCannotBeRecordedIsRecordedOnALaterTryAndNothingIsLost() {
    Instant lastEvent = Instant.now().minusSeconds(3600).truncatedTo(ChronoUnit.MILLIS);
    harness.checkpoints.save(
        new Checkpoint("test-client", STALE, null, lastEvent, lastEvent, lastEvent));
    AtomicInteger failures = new AtomicInteger(2);
    ExporterProperties properties = harness.config.build();
    GapWindowStore flaky =
        new GapWindowStore(harness.mongo, properties.resumeToken()) {
          @Override
          public GapWindow record(
              String client, Instant start, Instant end, String reason, Instant now) {
            if (failures.getAndDecrement() > 0) {
              throw new IllegalStateException("gap collection unreachable");
            }
            return super.record(client, start, end, reason, now);
          }
        };
    runner =
        ChangeStreamRunner.create(
            historyLostFor(
                new MongoChangeStreamSource(
                    harness.mongo, properties.datastore(), List.of("insert"))),
            harness.exportFunction(),
            harness.checkpoints,
            flaky,
            RunnerHarness.live(2, 8),
            properties,
            harness.deliverer(),
            harness.meters,
            Clock.systemUTC(),
            event -> {});
    runner.start();

    await().atMost(Duration.ofSeconds(30)).until(runner::streamOpen);
    assertThat(harness.gaps.pending())
        .singleElement()
        .satisfies(gap -> assertThat(gap.start()).isEqualTo(lastEvent.minusSeconds(5)));
    assertThat(harness.checkpoints.load("test-client").orElseThrow().resumeToken())
        .as("the unusable token is forgotten only once the gap is recorded")
        .isNull();
    BsonDocument doc = Samples.good().get(3);
    harness.events().insertOne(doc);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                sink.deliveriesOf(
                        "nvsentinel://test-cluster/healthevents", harness.eventId(doc.get("_id")))
                    == 1);
  }

  @Test
  void anOutOfMemoryErrorIsNotRetriedButEndsTheProcess() {
    AtomicInteger calls = new AtomicInteger();
    List<Error> fatal = new CopyOnWriteArrayList<>();
    runner =
        harness.runner(
            RunnerHarness.live(2, 8),
            UnaryOperator.identity(),
            event -> {},
            export ->
                change -> {
                  calls.incrementAndGet();
                  throw new OutOfMemoryError("Java heap space");
                });
    runner.onFatalError(fatal::add);
    runner.start();
    await().atMost(Duration.ofSeconds(20)).until(runner::streamOpen);

    harness.events().insertOne(Samples.good().get(0));

    await().atMost(Duration.ofSeconds(20)).until(() -> !fatal.isEmpty());
    assertThat(fatal).singleElement().isInstanceOf(OutOfMemoryError.class);
    await().during(Duration.ofSeconds(2)).until(() -> calls.get() == 1);
  }
}
