package io.nvsentinel.exporter.live.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.mongodb.MongoSocketReadException;
import com.mongodb.ServerAddress;
import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.checkpoint.GapWindow;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.checkpoint.StreamPosition;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.event.Samples;
import io.nvsentinel.exporter.store.ChangeEvent;
import io.nvsentinel.exporter.store.ChangeHistoryLostException;
import io.nvsentinel.exporter.store.ChangeSource;
import io.nvsentinel.exporter.store.DatastoreUnavailableException;
import io.nvsentinel.exporter.store.mongo.MongoChangeSource;
import io.nvsentinel.exporter.store.mongo.MongoGapWindowStore;
import io.nvsentinel.exporter.store.mongo.ResumeToken;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Faults inside the exporter's own process: a failing gap store, an out-of-memory error. */
class RunnerFaultTest {

  static final ResumeToken STALE =
      new ResumeToken(new BsonDocument("_data", new BsonString("8200000001000000012B0229296E04")));

  LiveStack stack;
  ReferenceSink sink;
  RunnerHarness harness;
  ChangeStreamRunner runner;

  @BeforeEach
  void setUp() throws Exception {
    stack = new LiveStack();
    sink = stack.sink;
    harness = stack.harness;
  }

  @AfterEach
  void tearDown() throws Exception {
    if (runner != null) {
      runner.halt();
    }
    stack.close();
  }

  /** Refuses every resume from the stale token, as a server whose oplog rolled past it does. */
  static ChangeSource historyLostFor(ChangeSource delegate) {
    return (resumeAfter, startAt) -> {
      if (STALE.equals(resumeAfter)) {
        throw new ChangeHistoryLostException("resume token unusable (server error 286)");
      }
      return delegate.open(resumeAfter, startAt);
    };
  }

  @Test
  void aGapThatCannotBeRecordedIsRecordedOnALaterTryAndNothingIsLost() {
    Instant lastEvent = Instant.now().minusSeconds(3600).truncatedTo(ChronoUnit.MILLIS);
    harness.checkpoints.save(
        new Checkpoint("test-client", STALE, null, lastEvent, lastEvent, lastEvent, null));
    AtomicInteger failures = new AtomicInteger(2);
    ExporterProperties properties = harness.config.build();
    GapWindowStore flaky =
        new MongoGapWindowStore(harness.mongo().client, properties.resumeToken()) {
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
        LiveRunnerWiring.runner(
            historyLostFor(
                new MongoChangeSource(
                    harness.mongo().client, properties.datastore(), List.of("insert"))),
            harness.exportFunction(),
            null,
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
    assertThat(harness.checkpoints.load("test-client").orElseThrow().position())
        .as("the unusable token is forgotten only once the gap is recorded")
        .isNull();
    BsonDocument doc = Samples.good().get(3);
    harness.insert(List.of(doc));
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

    harness.insert(List.of(Samples.good().get(0)));

    await().atMost(Duration.ofSeconds(20)).until(() -> !fatal.isEmpty());
    assertThat(fatal).singleElement().isInstanceOf(OutOfMemoryError.class);
    await().during(Duration.ofSeconds(2)).until(() -> calls.get() == 1);
  }

  @Test
  void deliveriesOfAStreamGivenUpForAnUnusableTokenNeverMoveTheCheckpointBack() {
    // the first five events are slow at the sink, so they are still in flight when the stream
    // breaks and its position turns out to be unusable
    sink.faults().delay(json -> Duration.ofMillis(1_500));
    List<StreamPosition> oldTokens = new CopyOnWriteArrayList<>();
    AtomicInteger opens = new AtomicInteger();
    runner =
        harness.runner(
            RunnerHarness.live(8, 16),
            real ->
                (resumeAfter, startAt) -> {
                  if (opens.incrementAndGet() == 2) {
                    throw new ChangeHistoryLostException("history lost");
                  }
                  boolean first = opens.get() == 1;
                  // the restarted stream sees nothing new: any position written now is an old one
                  ChangeSource.Cursor cursor =
                      first ? real.open(resumeAfter, startAt) : emptyStream();
                  return new ChangeSource.Cursor() {
                    @Override
                    public ChangeEvent tryNext() {
                      if (first && oldTokens.size() == 5) {
                        throw new DatastoreUnavailableException(
                            "reading the MongoDB change stream failed",
                            new MongoSocketReadException("connection reset", new ServerAddress()));
                      }
                      var change = cursor.tryNext();
                      if (change != null && first) {
                        oldTokens.add(change.position());
                      }
                      return change;
                    }

                    @Override
                    public void close() {
                      cursor.close();
                    }
                  };
                });
    runner.start();
    await().atMost(Duration.ofSeconds(20)).until(runner::streamOpen);
    for (int i = 0; i < 5; i++) {
      harness.insert(List.of(Samples.good().get(i)));
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> harness.gaps.pending().size() == 1);

    // the old stream's deliveries finish after the recovery
    await().atMost(Duration.ofSeconds(20)).until(() -> sink.distinct().size() == 5);
    runner.flush();
    assertThat(oldTokens).hasSize(5);
    assertThat(harness.checkpoints.load("test-client").orElseThrow().position())
        .as("no position of the abandoned stream is written back")
        .isNull();
  }

  static ChangeSource.Cursor emptyStream() {
    return new ChangeSource.Cursor() {
      @Override
      public ChangeEvent tryNext() {
        return null;
      }

      @Override
      public void close() {}
    };
  }
}
