package io.nvsentinel.exporter.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nvsentinel.exporter.devstack.EmbeddedPostgresStore;
import io.nvsentinel.exporter.store.ChangeHistoryLostException;
import io.nvsentinel.exporter.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The change-log reader against a real PostgreSQL holding NVSentinel's schema. */
class ChangelogReaderTest {

  static final String SEQUENCE = "public.datastore_changelog_id_seq";

  @RegisterExtension static final PostgresServer postgres = new PostgresServer();

  Connection reading;

  @BeforeEach
  void emptyStore() throws Exception {
    try (Connection connection = postgres.store().connect()) {
      connection.createStatement().execute("TRUNCATE health_events, datastore_changelog");
    }
    reading = postgres.store().connect();
  }

  ChangelogReader reader(long watermark) {
    return reader(watermark, 0);
  }

  /** A reader resuming above {@code watermark}, knowing that row {@code knownRow} existed. */
  ChangelogReader reader(long watermark, long knownRow) {
    return new ChangelogReader(watermark, watermark, knownRow, 0, List.of("INSERT"), 100, SEQUENCE);
  }

  /**
   * The case the replaced watcher loses: the transaction that started first, and so holds the
   * earlier {@code changed_at}, commits last. Resuming after the last row read by {@code
   * (changed_at, id)} never returns to it; this reader does, and its watermark waits for it.
   */
  @Test
  void aTransactionThatCommitsLateIsStillRead() throws Exception {
    ChangelogReader reader = reader(0);
    try (Connection early = postgres.store().connect();
        Connection late = postgres.store().connect()) {
      early.setAutoCommit(false);
      late.setAutoCommit(false);
      UUID first = EmbeddedPostgresStore.insert(early, "node-a", doc("node-a"));
      Thread.sleep(20);
      UUID second = EmbeddedPostgresStore.insert(late, "node-b", doc("node-b"));
      late.commit();

      List<ChangelogReader.Change> beforeCommit = reader.poll(reading);
      assertThat(beforeCommit).extracting(ChangelogReader.Change::recordId).containsExactly(second);
      long secondId = beforeCommit.get(0).id();
      assertThat(reader.watermark())
          .as("nothing at or above the open transaction's id is settled")
          .isZero();
      assertThat(beforeCommit.get(0).resumeAt()).isZero();

      early.commit();
      // resuming as the replaced watcher does, after (changed_at, id) of the last row read
      assertThat(afterLastRead(beforeCommit.get(0))).doesNotContain(first);

      List<ChangelogReader.Change> afterCommit = reader.poll(reading);
      assertThat(afterCommit).extracting(ChangelogReader.Change::recordId).containsExactly(first);
      assertThat(afterCommit.get(0).id()).isLessThan(secondId);
      assertThat(afterCommit.get(0).changedAt()).isBefore(beforeCommit.get(0).changedAt());
      assertThat(reader.watermark()).isGreaterThanOrEqualTo(secondId);
      assertThat(reader.poll(reading)).isEmpty();
    }
  }

  @Test
  void idsOfRolledBackTransactionsDoNotHoldTheWatermark() throws Exception {
    ChangelogReader reader = reader(0);
    try (Connection aborted = postgres.store().connect()) {
      aborted.setAutoCommit(false);
      EmbeddedPostgresStore.insert(aborted, "node-x", doc("node-x"));
      aborted.rollback();
    }
    UUID kept = postgres.store().insert("node-y", doc("node-y"));
    List<ChangelogReader.Change> read = reader.poll(reading);
    assertThat(read).extracting(ChangelogReader.Change::recordId).containsExactly(kept);
    assertThat(reader.watermark()).isEqualTo(read.get(0).id());
    assertThat(read.get(0).resumeAt())
        .as("the last change of a poll carries the new watermark")
        .isEqualTo(read.get(0).id());
  }

  /** A long transaction holds the watermark, not the rows: each is read once, as it commits. */
  @Test
  void aLongTransactionHoldsOnlyTheWatermark() throws Exception {
    ChangelogReader reader = reader(0);
    List<UUID> read = new ArrayList<>();
    try (Connection longOne = postgres.store().connect()) {
      longOne.setAutoCommit(false);
      UUID held = EmbeddedPostgresStore.insert(longOne, "node-held", doc("node-held"));
      for (int i = 0; i < 250; i++) {
        postgres.store().insert("node-" + i, doc("node-" + i));
        if (i % 40 == 0) {
          reader.poll(reading).forEach(c -> read.add(c.recordId()));
        }
      }
      for (int i = 0; i < 5; i++) {
        reader.poll(reading).forEach(c -> read.add(c.recordId()));
      }
      assertThat(read).hasSize(250).doesNotHaveDuplicates().doesNotContain(held);
      assertThat(reader.watermark()).as("held below the open transaction's row").isZero();

      longOne.commit();
      reader.poll(reading).forEach(c -> read.add(c.recordId()));
      assertThat(read).hasSize(251).doesNotHaveDuplicates().contains(held);
      assertThat(reader.poll(reading)).isEmpty();
      assertThat(reader.watermark()).isEqualTo(maxChangelogId());
    }
  }

  /**
   * Writers commit in random order while the reader polls: every row is read exactly once, and a
   * reader restarted from the position of any change it returned misses none of the rows it had not
   * returned yet.
   */
  @Test
  void concurrentWritersCommittingInAnyOrderLoseNothing() throws Exception {
    ChangelogReader reader = reader(0);
    ExecutorService writers = Executors.newFixedThreadPool(6);
    Set<UUID> written = Collections.synchronizedSet(new HashSet<>());
    List<Future<?>> running = new ArrayList<>();
    for (int w = 0; w < 6; w++) {
      running.add(
          writers.submit(
              () -> {
                try (Connection connection = postgres.store().connect()) {
                  connection.setAutoCommit(false);
                  for (int t = 0; t < 40; t++) {
                    int rows = 1 + ThreadLocalRandom.current().nextInt(3);
                    List<UUID> mine = new ArrayList<>();
                    for (int r = 0; r < rows; r++) {
                      mine.add(EmbeddedPostgresStore.insert(connection, "n", doc("n")));
                      Thread.sleep(ThreadLocalRandom.current().nextInt(4));
                    }
                    if (ThreadLocalRandom.current().nextInt(10) == 0) {
                      connection.rollback();
                    } else {
                      connection.commit();
                      written.addAll(mine);
                    }
                  }
                }
                return null;
              }));
    }
    List<ChangelogReader.Change> read = new ArrayList<>();
    while (running.stream().anyMatch(f -> !f.isDone())) {
      read.addAll(reader.poll(reading));
    }
    for (Future<?> f : running) {
      f.get(1, TimeUnit.MINUTES);
    }
    writers.shutdown();
    List<ChangelogReader.Change> rest;
    do {
      rest = reader.poll(reading);
      read.addAll(rest);
    } while (!rest.isEmpty());

    assertThat(read).extracting(ChangelogReader.Change::recordId).doesNotHaveDuplicates();
    assertThat(read)
        .extracting(ChangelogReader.Change::recordId)
        .containsExactlyInAnyOrderElementsOf(written);

    for (int i = 0; i < read.size(); i += 37) {
      ChangelogReader.Change at = read.get(i);
      Set<UUID> notYetReturned = new HashSet<>();
      read.subList(i + 1, read.size()).forEach(c -> notYetReturned.add(c.recordId()));
      ChangelogReader restarted = reader(at.resumeAt());
      Set<UUID> again = new HashSet<>();
      List<ChangelogReader.Change> batch;
      do {
        batch = restarted.poll(reading);
        batch.forEach(c -> again.add(c.recordId()));
      } while (!batch.isEmpty());
      assertThat(again)
          .as("restarted after change %d of %d", i, read.size())
          .containsAll(notYetReturned);
    }
  }

  /**
   * NVSentinel's cleanup deleted rows this reader had not read yet, while it was stopped or while
   * it was paused: the history after its position is lost, and it says so instead of skipping it.
   */
  @Test
  void rowsPrunedBeforeTheyWereReadAreReportedAsLostHistory() throws Exception {
    ChangelogReader running = reader(0);
    for (int i = 0; i < 3; i++) {
      postgres.store().insert("read-" + i, doc("read-" + i));
    }
    List<ChangelogReader.Change> read = running.poll(reading);
    assertThat(read).hasSize(3);
    ChangelogReader.Change last = read.get(2);
    long unreadFrom = maxChangelogId() + 1;
    postgres.store().insert("unread-1", doc("unread-1"));
    postgres.store().insert("unread-2", doc("unread-2"));
    prune(unreadFrom + 1);
    postgres.store().insert("later", doc("later"));

    assertThatThrownBy(() -> running.poll(reading))
        .isInstanceOf(ChangeHistoryLostException.class)
        .hasMessageContaining("datastore_changelog was pruned past this exporter's position")
        .hasMessageContaining("id " + last.resumeAt());
    assertThatThrownBy(() -> reader(last.resumeAt(), last.id()).poll(reading))
        .as("restarted from its checkpoint")
        .isInstanceOf(ChangeHistoryLostException.class);
  }

  /** Rows pruned after they were read cost nothing: reading goes on from the next one. */
  @Test
  void rowsPrunedAfterTheyWereReadAreNoLoss() throws Exception {
    ChangelogReader running = reader(0);
    for (int i = 0; i < 3; i++) {
      postgres.store().insert("read-" + i, doc("read-" + i));
    }
    running.poll(reading);
    prune(maxChangelogId());
    UUID next = postgres.store().insert("next", doc("next"));

    List<ChangelogReader.Change> afterPruning = running.poll(reading);
    assertThat(afterPruning).extracting(ChangelogReader.Change::recordId).containsExactly(next);
    ChangelogReader.Change checkpoint = afterPruning.get(0);
    prune(maxChangelogId());
    UUID afterRestart = postgres.store().insert("after-restart", doc("after-restart"));
    assertThat(reader(checkpoint.resumeAt(), checkpoint.id()).poll(reading))
        .as("restarted from the checkpoint of 'next', whose row is gone")
        .extracting(ChangelogReader.Change::recordId)
        .containsExactly(afterRestart);
  }

  /**
   * A transaction left open (idle in transaction, a migration) while 20,000 events are stored and
   * each updated once, as NVSentinel's components update them: every event is read once, and the
   * work and memory of each poll stay bounded — neither updates nor the held watermark make it read
   * the range above the watermark again.
   */
  @Test
  void aTransactionHeldOpenAcross20000InsertsAndTheirUpdatesKeepsEveryPollBounded()
      throws Exception {
    ChangelogReader reader = reader(0);
    Set<UUID> read = new HashSet<>();
    int polls = 0;
    try (Connection held = postgres.store().connect();
        Connection writer = postgres.store().connect()) {
      held.setAutoCommit(false);
      UUID first = EmbeddedPostgresStore.insert(held, "node-held", doc("node-held"));
      writer.setAutoCommit(false);
      for (int batch = 0; batch < 40; batch++) {
        try (PreparedStatement insert =
            writer.prepareStatement(
                "INSERT INTO health_events (node_name, event_type, document)"
                    + " SELECT 'node-' || g, 'GpuXidError', ?::jsonb FROM generate_series(1, 500) g"
                    + " RETURNING id")) {
          insert.setString(1, doc("bulk"));
          insert.executeQuery().close();
        }
        writer
            .createStatement()
            .execute(
                "UPDATE health_events SET updated_at = now() WHERE id IN (SELECT record_id FROM"
                    + " datastore_changelog WHERE operation = 'INSERT' ORDER BY id DESC LIMIT 500)");
        writer.commit();
        long before = reader.rowsFetched();
        for (ChangelogReader.Change change : reader.poll(reading)) {
          assertThat(read.add(change.recordId())).as("read once").isTrue();
        }
        polls++;
        assertThat(reader.rowsFetched() - before)
            .as("a poll reads a batch from the holes and a batch above them, never the range")
            .isLessThanOrEqualTo(200);
      }
      while (read.size() < 20_000) {
        long before = reader.rowsFetched();
        List<ChangelogReader.Change> changes = reader.poll(reading);
        assertThat(reader.rowsFetched() - before).isLessThanOrEqualTo(200);
        changes.forEach(c -> assertThat(read.add(c.recordId())).isTrue());
        assertThat(++polls).as("catching up, a batch a poll").isLessThan(2_000);
      }
      assertThat(reader.watermark()).as("held below the open transaction's row").isZero();
      assertThat(reader.rowsFetched())
          .as("40,000 rows and the held one's hole: read about once each")
          .isLessThan(45_000);

      held.commit();
      reader.poll(reading).forEach(c -> read.add(c.recordId()));
      assertThat(read).hasSize(20_001).contains(first);
      for (int i = 0; i < 100 && reader.watermark() < maxChangelogId(); i++) {
        assertThat(reader.poll(reading)).as("the updates left: read, not returned").isEmpty();
      }
      assertThat(reader.watermark()).isEqualTo(maxChangelogId());
    }
  }

  /**
   * A failover to an asynchronous replica that lacked the last rows read, simulated: they are gone
   * and the sequence is set back, so new events get their ids again. A reader resuming from its
   * position says the history is another, rather than skip the new events as read.
   */
  @Test
  void aServerWhoseSequenceOrRowsAreNotThoseReadIsLostHistory() throws Exception {
    for (int i = 0; i < 10; i++) {
      postgres.store().insert("node-" + i, doc("node-" + i));
    }
    ChangelogReader before = reader(0);
    List<ChangelogReader.Change> read = before.poll(reading);
    ChangelogReader.Change last = read.get(read.size() - 1);
    long watermark = before.watermark();
    long lastMicros = PostgresChangelogSource.micros(last.changedAt());

    prune(0);
    try (Statement statement = reading.createStatement()) {
      statement.execute("DELETE FROM datastore_changelog WHERE id > " + (watermark - 3));
      statement.execute("SELECT setval('" + SEQUENCE + "', " + (watermark - 3) + ")");
    }
    assertThatThrownBy(() -> resumed(watermark, last.id(), lastMicros).poll(reading))
        .isInstanceOf(ChangeHistoryLostException.class)
        .hasMessageContaining("below this exporter's position");

    // new events take the ids again, the sequence passes the old watermark
    for (int i = 0; i < 5; i++) {
      postgres.store().insert("after-" + i, doc("after-" + i));
    }
    assertThatThrownBy(() -> resumed(watermark, last.id(), lastMicros).poll(reading))
        .isInstanceOf(ChangeHistoryLostException.class)
        .hasMessageContaining("is another change than the one this exporter read");
  }

  private ChangelogReader resumed(long watermark, long knownRow, long knownRowMicros) {
    return new ChangelogReader(
        watermark, watermark, knownRow, knownRowMicros, List.of("INSERT"), 100, SEQUENCE);
  }

  /** What NVSentinel's cleanup_changelog does to rows older than its retention. */
  private void prune(long throughId) throws SQLException {
    try (PreparedStatement delete =
        reading.prepareStatement("DELETE FROM datastore_changelog WHERE id <= ?")) {
      delete.setLong(1, throughId);
      delete.executeUpdate();
    }
  }

  private List<UUID> afterLastRead(ChangelogReader.Change last) throws SQLException {
    try (PreparedStatement query =
        reading.prepareStatement(
            "SELECT record_id FROM datastore_changelog WHERE changed_at > ?"
                + " OR (changed_at = ? AND id > ?) ORDER BY changed_at, id")) {
      Timestamp at = Timestamp.from(last.changedAt());
      query.setTimestamp(1, at);
      query.setTimestamp(2, at);
      query.setLong(3, last.id());
      List<UUID> ids = new ArrayList<>();
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          ids.add(rows.getObject(1, UUID.class));
        }
      }
      return ids;
    }
  }

  private long maxChangelogId() throws SQLException {
    try (ResultSet row =
        reading.createStatement().executeQuery("SELECT max(id) FROM datastore_changelog")) {
      row.next();
      return row.getLong(1);
    }
  }

  private static String doc(String node) {
    return EmbeddedPostgresStore.document(node, "XID 79 on " + node);
  }
}
