package io.nvsentinel.exporter.live.stream;

import static org.assertj.core.api.Assertions.assertThat;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindow;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import io.nvsentinel.exporter.live.metrics.LiveMetrics;
import io.nvsentinel.exporter.store.ChangeHistoryLostException;
import io.nvsentinel.exporter.store.mongo.MongoCheckpointStore;
import io.nvsentinel.exporter.store.mongo.MongoGapWindowStore;
import io.nvsentinel.exporter.store.mongo.ResumeToken;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The lost interval of an unusable token: widened against clock skew, never backwards. */
class TokenRecoveryTest {

  static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
  static final ExporterProperties.ResumeToken SETTINGS =
      new ExporterProperties.ResumeToken(
          "HealthEventsDatabase", "ResumeTokens", "exportergaps", "c");

  final EmbeddedMongo mongo = EmbeddedMongo.start();
  final MongoClient client = MongoClients.create(mongo.connectionString());
  final CheckpointStore checkpoints = new MongoCheckpointStore(client, SETTINGS);
  final GapWindowStore gaps = new MongoGapWindowStore(client, SETTINGS);

  @AfterEach
  void tearDown() {
    client.close();
    mongo.close();
  }

  GapWindow recoverWithLastEventAt(Instant lastEvent) {
    checkpoints.save(
        new Checkpoint(
            "c",
            new ResumeToken(new BsonDocument("_data", new BsonString("82"))),
            null,
            NOW,
            lastEvent,
            lastEvent,
            null));
    Checkpointing checkpointing =
        new Checkpointing(
            checkpoints,
            new Takeover(
                checkpoints, gaps, "c", Duration.ofHours(720), Duration.ZERO, Clock.systemUTC()),
            "c",
            RunnerHarness.live(2, 8),
            Clock.fixed(NOW, ZoneOffset.UTC),
            () -> NOW);
    checkpointing.load();
    LiveMetrics metrics =
        new LiveMetrics(
            new SimpleMeterRegistry(), checkpointing, () -> false, Clock.systemUTC(), "c");
    TokenRecovery recovery =
        new TokenRecovery(gaps, checkpointing, "c", Duration.ofSeconds(5), () -> NOW, metrics);
    return recovery.recover(
        new ChangeHistoryLostException("resume token unusable (server error 286)"),
        LiveMetrics.RUNTIME);
  }

  @Test
  void theGapReachesAnOverlapBeforeTheLastEventAndEndsNow() {
    GapWindow gap = recoverWithLastEventAt(NOW.minus(Duration.ofHours(3)));

    assertThat(gap.start()).isEqualTo(NOW.minus(Duration.ofHours(3)).minusSeconds(5));
    assertThat(gap.end()).isEqualTo(NOW);
    Checkpoint restarted = checkpoints.load("c").orElseThrow();
    assertThat(restarted.position()).isNull();
    assertThat(restarted.startAt()).isEqualTo(NOW.minusSeconds(5));
  }

  @Test
  void aLastEventAfterNowByClockSkewGivesAWindowThatStillRunsForwards() {
    GapWindow gap = recoverWithLastEventAt(NOW.plus(Duration.ofMinutes(2)));

    assertThat(gap.start()).isBefore(gap.end());
    assertThat(gap.start()).isEqualTo(NOW.minusSeconds(5));
  }

  @Test
  void recordingTheSameGapTwiceKeepsOneWindow() {
    Instant lastEvent = NOW.minus(Duration.ofHours(1));
    GapWindow first = recoverWithLastEventAt(lastEvent);
    GapWindow again = recoverWithLastEventAt(lastEvent);

    assertThat(again.id()).isEqualTo(first.id());
    assertThat(gaps.pending()).hasSize(1);
  }
}
