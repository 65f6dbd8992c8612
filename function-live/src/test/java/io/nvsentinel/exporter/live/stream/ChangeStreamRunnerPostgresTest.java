package io.nvsentinel.exporter.live.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.store.ChangeEvent;
import io.nvsentinel.exporter.store.ChangeSource;
import io.nvsentinel.exporter.store.postgres.ChangelogPosition;
import io.nvsentinel.exporter.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.bson.BsonDocument;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The runner contract on NVSentinel's PostgreSQL store — a real PostgreSQL, a database of its own
 * for each test — and what only that store does: a change log pruned past the position, a
 * transaction that commits after rows with larger ids were read, and a lost notification.
 */
class ChangeStreamRunnerPostgresTest extends ChangeStreamRunnerContract {

  @RegisterExtension static final PostgresServer postgres = new PostgresServer();

  @Override
  RunnerStore store() throws Exception {
    return new PostgresRunnerStore(postgres.freshDatabase("live"));
  }

  PostgresRunnerStore postgres() {
    return (PostgresRunnerStore) harness.store;
  }

  /**
   * NVSentinel's cleanup deleted rows while the exporter was away: the interval is recorded as a
   * gap window for the backfill (the replaced watcher would skip it silently), and the stream goes
   * on from now.
   */
  @Test
  void aChangeLogPrunedPastThePositionIsRecordedAsAGapWindowAndTheStreamRestartsFromNow() {
    ChangeStreamRunner first = started(RunnerHarness.live(2, 8));
    List<BsonDocument> delivered = events(5);
    insert(delivered);
    await().atMost(Duration.ofSeconds(30)).until(() -> sink.distinct().size() == 5);
    first.stop();
    Checkpoint stopped = harness.checkpoints.load(CLIENT).orElseThrow();

    List<BsonDocument> whileAway = List.of(event(5), event(6), event(7));
    insert(whileAway);
    postgres().execute("SELECT mark_changelog_processed(max(id)) FROM datastore_changelog");
    postgres().execute("SELECT cleanup_changelog(0)");
    Instant before = Instant.now();

    ChangeStreamRunner second = started(RunnerHarness.live(2, 8));
    await().atMost(Duration.ofSeconds(20)).until(() -> !harness.gaps.pending().isEmpty());

    assertThat(harness.gaps.pending())
        .singleElement()
        .satisfies(
            gap -> {
              assertThat(gap.start()).isEqualTo(stopped.lastEventTime().minusSeconds(5));
              assertThat(gap.end()).isAfterOrEqualTo(before.minusSeconds(1));
              assertThat(gap.reason()).contains("datastore_changelog was pruned");
              for (String createdAt : createdAt(whileAway)) {
                assertThat(Instant.parse(createdAt))
                    .as("the events pruned from the change log lie in the window")
                    .isBetween(gap.start(), gap.end());
              }
            });
    assertThat(recoveries("initialization")).as("found unusable as the stream opened").isEqualTo(1);
    assertThat(recoveries("runtime")).isZero();

    BsonDocument next = event(8);
    insert(List.of(next));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> deliveredIds().contains(harness.eventId(next.get("_id"))));
    assertThat(second.streamOpen()).isTrue();
    assertThat(deliveredIds()).doesNotContainAnyElementsOf(eventIdsOf(whileAway));
  }

  /**
   * Two transactions: the one that began first, and so holds the smaller change-log id and the
   * earlier time, commits last. The runner delivers the later one at once, never writes a
   * checkpoint past the open one, and delivers it when it commits — also after a restart in
   * between.
   */
  @Test
  void aTransactionThatCommitsLateIsDeliveredAndTheCheckpointNeverPassesIt() throws Exception {
    ChangeStreamRunner first = started(RunnerHarness.live(2, 8));
    BsonDocument early = event(1);
    BsonDocument late = event(2);
    try (Connection earlyTransaction = postgres().db.connect()) {
      earlyTransaction.setAutoCommit(false);
      insertInto(earlyTransaction, early);
      insert(List.of(late));
      String lateId = harness.eventId(late.get("_id"));
      await().atMost(Duration.ofSeconds(30)).until(() -> deliveredIds().contains(lateId));
      first.stop();
      assertThat(accountedFor())
          .as("the checkpoint stays below the open transaction's row")
          .doesNotContain(harness.eventId(early.get("_id")));

      earlyTransaction.commit();
    }
    started(RunnerHarness.live(2, 8));
    String earlyId = harness.eventId(early.get("_id"));
    await().atMost(Duration.ofSeconds(30)).until(() -> deliveredIds().contains(earlyId));
    assertThat(sink.distinct()).hasSize(2);
  }

  /** The listening connection is cut: its notifications are gone, and the reader catches up. */
  @Test
  void aLostListeningConnectionLosesNoChange() {
    started(RunnerHarness.live(2, 8));
    insert(events(3));
    await().atMost(Duration.ofSeconds(30)).until(() -> sink.distinct().size() == 3);

    assertThat(
            postgres()
                .query(
                    "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity"
                        + " WHERE query LIKE 'LISTEN%' AND datname = current_database()"))
        .containsExactly("true");
    List<BsonDocument> after = List.of(event(3), event(4), event(5));
    insert(after);

    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> deliveredIds().containsAll(eventIdsOf(after)));
    assertThat(sink.duplicates()).isZero();
  }

  /**
   * Upgrade, roll back to the Go exporter (which runs on and moves its position in resume_tokens),
   * upgrade again: its position, later than this exporter's checkpoint, wins, and what it exported
   * meanwhile is not sent again.
   */
  @Test
  void afterARollBackTheReplacedExportersLaterPositionWinsOverTheStaleCheckpoint() {
    ChangeStreamRunner before = started(RunnerHarness.live(2, 8));
    insert(events(3));
    await().atMost(Duration.ofSeconds(30)).until(() -> sink.distinct().size() == 3);
    before.stop();

    List<BsonDocument> exportedByGo = List.of(event(3), event(4));
    insert(exportedByGo);
    postgres().execute("DELETE FROM resume_tokens WHERE client_name = '" + CLIENT + "'");
    harness.store.replacedExporterStoredPositionAfter(CLIENT, exportedByGo.get(1));

    started(RunnerHarness.live(2, 8));
    BsonDocument next = event(5);
    insert(List.of(next));

    String nextId = harness.eventId(next.get("_id"));
    await().atMost(Duration.ofSeconds(30)).until(() -> deliveredIds().contains(nextId));
    assertThat(deliveredIds()).doesNotContainAnyElementsOf(eventIdsOf(exportedByGo));
    assertThat(harness.checkpoints.load(CLIENT).orElseThrow().backfillCutoff())
        .as("this exporter's own cutoff stays")
        .isNotNull();
  }

  /**
   * A transaction began before the events delivered last and is still open when the exporter stops:
   * the position written back for a roll-back lies before it, so the Go watcher, resuming after
   * {@code (changed_at, id)}, still reads its change once it commits.
   */
  @Test
  void thePositionWrittenBackForARollBackNeverLiesPastAChangeStillInFlight() throws Exception {
    ChangeStreamRunner runner = started(RunnerHarness.live(2, 8));
    insert(events(2));
    await().atMost(Duration.ofSeconds(30)).until(() -> sink.distinct().size() == 2);
    BsonDocument inFlight = event(2);
    try (Connection held = postgres().db.connect()) {
      held.setAutoCommit(false);
      insertInto(held, inFlight);
      insert(List.of(event(3), event(4)));
      await().atMost(Duration.ofSeconds(30)).until(() -> sink.distinct().size() == 4);
      runner.stop();
      held.commit();
    }

    List<String> goResumesWith =
        postgres()
            .query(
                "SELECT c.record_id::text FROM datastore_changelog c, resume_tokens t"
                    + " WHERE t.client_name = '"
                    + CLIENT
                    + "' AND (c.changed_at > (t.resume_token->>'timestamp')::timestamptz"
                    + " OR (c.changed_at = (t.resume_token->>'timestamp')::timestamptz"
                    + " AND c.id > (t.resume_token->>'eventID')::bigint))");
    assertThat(goResumesWith)
        .contains(harness.store.storedId(inFlight.get("_id")).asString().getValue());
  }

  /**
   * A failover to an asynchronous replica that had not received the last rows, simulated: they are
   * gone, the sequence is set back, and new events take their ids. The lost interval becomes a gap
   * window instead of the new events being skipped as read.
   */
  @Test
  void aFailoverToAReplicaThatLackedTheLastRowsIsRecordedAsAGapWindow() {
    ChangeStreamRunner before = started(RunnerHarness.live(2, 8));
    insert(events(5));
    await().atMost(Duration.ofSeconds(30)).until(() -> sink.distinct().size() == 5);
    before.stop();
    long watermark =
        ((ChangelogPosition) harness.checkpoints.load(CLIENT).orElseThrow().position())
            .token()
            .getNumber("watermark")
            .longValue();
    postgres().execute("DELETE FROM datastore_changelog WHERE id > " + (watermark - 3));
    postgres()
        .execute(
            "SELECT setval(pg_get_serial_sequence('datastore_changelog', 'id'), "
                + (watermark - 3)
                + ")");
    insert(List.of(event(5), event(6), event(7), event(8), event(9)));

    started(RunnerHarness.live(2, 8));

    await().atMost(Duration.ofSeconds(20)).until(() -> !harness.gaps.pending().isEmpty());
    assertThat(harness.gaps.pending())
        .singleElement()
        .satisfies(gap -> assertThat(gap.reason()).contains("failover"));
    assertThat(recoveries("initialization")).isEqualTo(1);
  }

  /**
   * The pod's clock runs ten minutes ahead of the datastore's: a first start still begins at the
   * datastore's time, and an event stored right after it is delivered, not taken as the backfill's.
   */
  @Test
  void aFirstStartBeginsAtTheDatastoresTimeWhateverThePodsClockSays() {
    harness.clock = Clock.offset(Clock.systemUTC(), Duration.ofMinutes(10));
    started(RunnerHarness.live(2, 8));
    BsonDocument right = event(0);
    insert(List.of(right));

    String id = harness.eventId(right.get("_id"));
    await().atMost(Duration.ofSeconds(30)).until(() -> deliveredIds().contains(id));
  }

  /**
   * After a takeover from the Go exporter, with an older transaction still open below its position
   * (so the watermark stays there), the stream reconnects: what that exporter exported is skipped
   * by the new cursor too, not sent again.
   */
  @Test
  void aReconnectAfterATakeoverSendsNothingTheReplacedExporterExported() throws Exception {
    try (Connection held = postgres().db.connect()) {
      held.setAutoCommit(false);
      insertInto(held, event(0));
      List<BsonDocument> before = List.of(event(1), event(2), event(3));
      insert(before);
      harness.store.replacedExporterStoredPositionAfter(CLIENT, before.get(1));
      AtomicInteger changes = new AtomicInteger();
      started(
          harness.runner(
              RunnerHarness.live(2, 8),
              source ->
                  (resumeAfter, startAt) -> {
                    ChangeSource.Cursor cursor = source.open(resumeAfter, startAt);
                    return new ChangeSource.Cursor() {
                      @Override
                      public ChangeEvent tryNext() {
                        ChangeEvent change = cursor.tryNext();
                        if (change != null && changes.incrementAndGet() == 2) {
                          throw harness.store.connectionBroken();
                        }
                        return change;
                      }

                      @Override
                      public void close() {
                        cursor.close();
                      }
                    };
                  }));
      String third = harness.eventId(before.get(2).get("_id"));
      await().atMost(Duration.ofSeconds(30)).until(() -> deliveredIds().contains(third));
      BsonDocument after = event(4);
      insert(List.of(after));

      String fourth = harness.eventId(after.get("_id"));
      await().atMost(Duration.ofSeconds(30)).until(() -> deliveredIds().contains(fourth));
      assertThat(changes.get()).as("the connection broke and the stream reopened").isGreaterThan(2);
      assertThat(deliveredIds())
          .as("the Go exporter's two are not sent again after the reconnect")
          .containsExactlyInAnyOrder(third, fourth);
      held.rollback();
    }
  }

  private void insertInto(Connection transaction, BsonDocument doc) throws Exception {
    try (PreparedStatement insert =
        transaction.prepareStatement(
            "INSERT INTO health_events (id, node_name, document) VALUES (?::uuid, 'n', ?::jsonb)")) {
      insert.setString(1, harness.store.storedId(doc.get("_id")).asString().getValue());
      insert.setString(2, doc.toJson());
      insert.executeUpdate();
    }
  }

  private List<String> createdAt(List<BsonDocument> docs) {
    return docs.stream()
        .map(
            doc ->
                postgres()
                    .query(
                        "SELECT to_char(created_at AT TIME ZONE 'UTC',"
                            + " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM health_events WHERE id = '"
                            + harness.store.storedId(doc.get("_id")).asString().getValue()
                            + "'")
                    .get(0))
        .toList();
  }
}
