package io.nvsentinel.exporter.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nvsentinel.exporter.checkpoint.StreamPosition;
import io.nvsentinel.exporter.devstack.EmbeddedPostgresStore;
import io.nvsentinel.exporter.event.DecodeResult;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import io.nvsentinel.exporter.store.ChangeEvent;
import io.nvsentinel.exporter.store.ChangeSource;
import io.nvsentinel.exporter.store.DatastoreUnavailableException;
import io.nvsentinel.exporter.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** NVSentinel's PostgreSQL change log as a change stream, against a real PostgreSQL. */
class PostgresChangelogSourceTest {

  static final Duration POLL_WAIT = Duration.ofSeconds(3);

  @RegisterExtension static final PostgresServer postgres = new PostgresServer();

  PostgresChangelogSource source;

  @BeforeEach
  void emptyStore() throws Exception {
    try (Connection connection = postgres.store().connect()) {
      connection.createStatement().execute("TRUNCATE health_events, datastore_changelog");
    }
    source =
        new PostgresChangelogSource(postgres.store()::connect, List.of("insert"), POLL_WAIT, 100);
  }

  /** Ids cached per session are handed out out of order: no watermark would be safe. */
  @Test
  void aSequenceThatCachesIdsIsRefusedNamingTheFix() throws Exception {
    String alter = "ALTER SEQUENCE datastore_changelog_id_seq CACHE ";
    try (Connection connection = postgres.store().connect()) {
      connection.createStatement().execute(alter + "20");
      assertThatThrownBy(() -> source.open(null, startingNow()))
          .isInstanceOf(DatastoreUnavailableException.class)
          .cause()
          .hasMessageContaining("(CACHE 20)")
          .hasMessageContaining("ALTER SEQUENCE public.datastore_changelog_id_seq CACHE 1");
    } finally {
      try (Connection connection = postgres.store().connect()) {
        connection.createStatement().execute(alter + "1");
      }
    }
    try (ChangeSource.Cursor cursor = source.open(null, startingNow())) {
      assertThat(cursor.tryNext()).isNull();
    }
  }

  @Test
  void aStoredEventArrivesAsTheDocumentTheDecoderReads() throws Exception {
    try (ChangeSource.Cursor cursor = source.open(null, startingNow())) {
      assertThat(cursor.tryNext()).isNull();
      UUID id =
          postgres
              .store()
              .insert("gpu-node-7", EmbeddedPostgresStore.document("gpu-node-7", "XID 79"));
      ChangeEvent change = next(cursor);
      assertThat(change.operationType()).isEqualTo("insert");
      assertThat(change.document().getString("_id").getValue()).isEqualTo(id.toString());
      DecodeResult decoded =
          new HealthEventDecoder(65_536, new SimpleMeterRegistry()).decode(change.document());
      assertThat(decoded).isInstanceOf(DecodeResult.Decoded.class);
      var event = ((DecodeResult.Decoded) decoded).event().event();
      assertThat(event.nodeName()).isEqualTo("gpu-node-7");
      assertThat(event.recommendedAction()).isEqualTo("RESTART_VM");
      assertThat(event.generatedTimestamp()).isEqualTo(Instant.parse("2025-11-20T11:59:59.123Z"));
      assertThat(ChangelogPosition.of(change.position()).getInt64("watermark").getValue())
          .isPositive();
    }
  }

  /** The trigger's NOTIFY wakes the cursor at once, well inside the poll wait. */
  @Test
  void aNotificationWakesTheCursor() throws Exception {
    try (ChangeSource.Cursor cursor = source.open(null, startingNow())) {
      assertThat(cursor.tryNext()).isNull();
      Thread waiter = insertLater("n1");
      long asked = System.nanoTime();
      ChangeEvent change = cursor.tryNext();
      Duration waited = Duration.ofNanos(System.nanoTime() - asked);
      waiter.join();
      assertThat(change).isNotNull();
      assertThat(waited).isLessThan(POLL_WAIT.dividedBy(2));
    }
  }

  /** A change whose notification never came (a lost NOTIFY) is read by the next poll. */
  @Test
  void aChangeWithoutNotificationIsReadByThePoll() throws Exception {
    try (ChangeSource.Cursor cursor = source.open(null, startingNow())) {
      assertThat(cursor.tryNext()).isNull();
      UUID id = insertSilently();
      long asked = System.nanoTime();
      ChangeEvent change = next(cursor);
      assertThat(change.document().getString("_id").getValue()).isEqualTo(id.toString());
      assertThat(Duration.ofNanos(System.nanoTime() - asked)).isLessThan(POLL_WAIT.multipliedBy(2));
    }
  }

  /**
   * While rows keep coming the cursor reads on its own, a few milliseconds apart, and waits for no
   * notification: pgjdbc's wait returns only once none has come for a millisecond, so a stream of
   * them would hold reading for as long as it lasts. The silent row stands for one whose
   * notification the wait would have held.
   */
  @Test
  void whileRowsKeepComingTheCursorReadsWithoutWaitingForANotification() throws Exception {
    try (ChangeSource.Cursor cursor = busyFor(Duration.ofMinutes(1)).open(null, startingNow())) {
      postgres.store().insert("loud", EmbeddedPostgresStore.document("loud", "notifies"));
      assertThat(within(cursor, Duration.ofSeconds(60))).isNotNull();
      assertThat(cursor.tryNext()).as("nothing more, and the notification consumed").isNull();
      UUID quiet = insertSilently();
      ChangeEvent change = within(cursor, Duration.ofSeconds(60));
      assertThat(change).as("read well inside the 5-minute poll wait").isNotNull();
      assertThat(change.document().getString("_id").getValue()).isEqualTo(quiet.toString());
    }
  }

  /** Once rows stop coming the cursor listens again, and a notification wakes it as before. */
  @Test
  void afterABusySpellANotificationWakesTheCursorAgain() throws Exception {
    try (ChangeSource.Cursor cursor = busyFor(Duration.ZERO).open(null, startingNow())) {
      postgres.store().insert("first", EmbeddedPostgresStore.document("first", "m"));
      assertThat(within(cursor, Duration.ofSeconds(60))).isNotNull();
      assertThat(cursor.tryNext()).as("the spell over: listening again, and a read").isNull();
      Thread later = insertLater("second");
      ChangeEvent change = within(cursor, Duration.ofSeconds(60));
      later.join();
      assertThat(change).as("woken well inside the 5-minute poll wait").isNotNull();
    }
  }

  /** A source that reads on for {@code busy} after the last row, and polls every five minutes. */
  private static PostgresChangelogSource busyFor(Duration busy) {
    return new PostgresChangelogSource(
        postgres.store()::connect, List.of("insert"), Duration.ofMinutes(5), 100, busy);
  }

  /** The next change if it is read within {@code limit}, else null. */
  private static ChangeEvent within(ChangeSource.Cursor cursor, Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      ChangeEvent change = cursor.tryNext();
      if (change != null) {
        return System.nanoTime() < deadline ? change : null;
      }
    }
    return null;
  }

  /** Stores an event 300 ms from now, from another thread, so its notification wakes a wait. */
  private static Thread insertLater(String node) {
    Thread later =
        new Thread(
            () -> {
              try {
                Thread.sleep(300);
                postgres.store().insert(node, EmbeddedPostgresStore.document(node, "m"));
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    later.start();
    return later;
  }

  /** A change-log row written without the trigger, so no notification announces it. */
  private static UUID insertSilently() throws Exception {
    try (Connection connection = postgres.store().connect();
        PreparedStatement silent =
            connection.prepareStatement(
                "INSERT INTO datastore_changelog (table_name, record_id, operation, new_values)"
                    + " VALUES ('health_events', ?, 'INSERT', jsonb_build_object('document', ?::jsonb))")) {
      UUID id = UUID.randomUUID();
      silent.setObject(1, id);
      silent.setString(2, EmbeddedPostgresStore.document("quiet", "no notify"));
      silent.executeUpdate();
      return id;
    }
  }

  /** From a token, reading continues above its watermark: nothing after it is lost. */
  @Test
  void aCursorOpenedFromATokenContinuesAboveIt() throws Exception {
    StreamPosition token;
    try (ChangeSource.Cursor cursor = source.open(null, startingNow())) {
      postgres.store().insert("a", EmbeddedPostgresStore.document("a", "first"));
      token = next(cursor).position();
    }
    UUID later = postgres.store().insert("b", EmbeddedPostgresStore.document("b", "second"));
    try (ChangeSource.Cursor cursor = source.open(token, null)) {
      assertThat(next(cursor).document().getString("_id").getValue()).isEqualTo(later.toString());
    }
  }

  /**
   * A backlog larger than one read, stored before the cursor listened: no notification will come,
   * and each further read follows the last at once instead of after a poll wait.
   */
  @Test
  void aBacklogIsReadWithoutWaitingForNotificationsThatWillNotCome() throws Exception {
    Instant start = startingNow();
    try (Connection connection = postgres.store().connect()) {
      connection.setAutoCommit(false);
      for (int i = 0; i < 250; i++) {
        EmbeddedPostgresStore.insert(connection, "n", EmbeddedPostgresStore.document("n", "m"));
      }
      connection.commit();
    }
    PostgresChangelogSource slow =
        new PostgresChangelogSource(
            postgres.store()::connect, List.of("insert"), Duration.ofMinutes(5), 100);
    try (ChangeSource.Cursor cursor = slow.open(null, start)) {
      int read = 0;
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (read < 250 && System.nanoTime() < deadline) {
        if (cursor.tryNext() != null) {
          read++;
        }
      }
      assertThat(read).as("three reads of at most 100, none waiting the 5 minutes").isEqualTo(250);
    }
  }

  /** A first start skips what was stored before its start time: that is the backfill's. */
  @Test
  void aFirstStartBeginsAtItsStartTime() throws Exception {
    postgres.store().insert("old", EmbeddedPostgresStore.document("old", "before the cutoff"));
    Thread.sleep(1100); // start times are whole seconds
    Instant start = startingNow();
    Thread.sleep(1100);
    try (ChangeSource.Cursor cursor = source.open(null, start)) {
      UUID fresh =
          postgres.store().insert("new", EmbeddedPostgresStore.document("new", "after it"));
      assertThat(next(cursor).document().getString("_id").getValue()).isEqualTo(fresh.toString());
    }
  }

  private static Instant startingNow() {
    return Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
  }

  private static ChangeEvent next(ChangeSource.Cursor cursor) {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (System.nanoTime() < deadline) {
      ChangeEvent change = cursor.tryNext();
      if (change != null) {
        return change;
      }
    }
    throw new AssertionError("no change within 15 s");
  }
}
