package io.nvsentinel.exporter.live.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.checkpoint.GapWindow;
import io.nvsentinel.exporter.checkpoint.StreamPosition;
import io.nvsentinel.exporter.store.ChangeHistoryLostException;
import io.nvsentinel.exporter.store.ChangeSource;
import io.nvsentinel.exporter.store.mongo.ResumeToken;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.bson.BsonBinary;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.junit.jupiter.api.Test;

/**
 * The runner contract on MongoDB, and what only MongoDB does: resume tokens the server no longer
 * knows, and the replaced exporter's positions in MongoDB's forms. Subclasses say which MongoDB.
 */
abstract class MongoRunnerContract extends ChangeStreamRunnerContract {

  /** A MongoDB connection string for a server with change streams. */
  abstract String mongoUri();

  @Override
  RunnerStore store() {
    return new MongoRunnerStore(mongoUri());
  }

  @Test
  void aTokenOutsideTheHistoryIsRecordedAsAGapWindowAndTheStreamRestartsFromNow() {
    Instant lastEvent = Instant.parse("2026-11-20T10:00:00Z");
    harness.checkpoints.save(
        new Checkpoint(
            CLIENT,
            new ResumeToken(
                new BsonDocument("_data", new BsonString("8200000001000000012B0229296E04"))),
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
              assertThat(gap.client()).isEqualTo(CLIENT);
              // widened by the start overlap, against clock skew
              assertThat(gap.start()).isEqualTo(lastEvent.minusSeconds(5));
              assertThat(gap.end()).isBetween(before, Instant.now());
              assertThat(gap.reason()).contains("286");
            });
    assertThat(recoveries("initialization")).as("found unusable as the stream opened").isEqualTo(1);
    assertThat(recoveries("runtime")).isZero();
    Checkpoint checkpoint = harness.checkpoints.load(CLIENT).orElseThrow();
    assertThat(checkpoint.backfillCutoff())
        .as("the original cutoff stays")
        .isEqualTo(Instant.parse("2026-11-01T00:00:00Z"));

    BsonDocument doc = event(7);
    insert(List.of(doc));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> deliveredIds().contains(harness.eventId(doc.get("_id"))));
    assertThat(runner.streamOpen()).isTrue();
  }

  @Test
  void anUnusableGoTokenBecomesAGapWindowFromItsTime() {
    // the token's cluster time is its first timestamp: 0x692A0B5C seconds
    harness
        .mongo()
        .storeReplacedExporterPosition(
            CLIENT, new BsonDocument("_data", new BsonString("82692A0B5C000000012B0229296E04")));
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
    assertThat(harness.checkpoints.load(CLIENT).orElseThrow().backfillCutoff()).isNull();
  }

  @Test
  void aGoPositionThatIsNoTokenBecomesAGapWindowOverTheDefaultBackfillWindow() {
    harness.mongo().storeReplacedExporterPosition(CLIENT, new BsonBinary(new byte[] {1, 2, 3}));
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
    insert(List.of(doc));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> deliveredIds().contains(harness.eventId(doc.get("_id"))));
  }

  /** Refuses the first resume from a token as a server does once the oplog rolled past it. */
  static final class HistoryLostOnce implements ChangeSource {
    private final ChangeSource delegate;
    private boolean failed;

    HistoryLostOnce(ChangeSource delegate) {
      this.delegate = delegate;
    }

    @Override
    public Cursor open(StreamPosition after, Instant startAt) {
      if (after != null && !failed) {
        failed = true;
        // what the MongoDB store makes of the server's ChangeStreamHistoryLost (code 286)
        throw new ChangeHistoryLostException(
            "resume token unusable (server error 286): Resume of change stream was not possible");
      }
      return delegate.open(after, startAt);
    }
  }
}
