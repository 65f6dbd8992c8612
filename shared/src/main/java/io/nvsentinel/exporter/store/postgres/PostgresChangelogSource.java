package io.nvsentinel.exporter.store.postgres;

import io.nvsentinel.exporter.checkpoint.StreamPosition;
import io.nvsentinel.exporter.store.ChangeEvent;
import io.nvsentinel.exporter.store.ChangeSource;
import io.nvsentinel.exporter.store.DatastoreUnavailableException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt64;
import org.postgresql.PGConnection;

/**
 * The health-event changes of NVSentinel's PostgreSQL store, as a change stream: {@link
 * ChangelogReader} over {@code datastore_changelog}, woken by the trigger's {@code NOTIFY} on
 * {@code nvsentinel_changes} and polling every poll wait regardless, so a notification lost with
 * its connection delays a change by at most that long. While rows keep coming it reads on its own
 * instead, a few milliseconds apart, unsubscribed ({@link #BUSY_FOR}).
 *
 * <p>A resume token is {@code {watermark, id, changedAt, changedAtMicros}}; reading resumes above
 * the watermark, and the row {@code id} must still be the change read then (else the server's
 * history is another, {@link ChangelogReader}). The replaced exporter's position, taken over, is
 * {@code {afterChangedAtMicros, afterId}}: reading resumes after that {@code (changed_at, id)}, as
 * that exporter would have; the rows at or before it are its, and every token of the stream carries
 * that bound on, so a reconnect skips them too. A first start bounds the stream the same way at its
 * start time: what is older is the backfill's.
 */
public final class PostgresChangelogSource implements ChangeSource {

  /** Full reads of rows not returned (updates) done in one call before it returns nothing. */
  static final int MAX_READS_AT_ONCE = 10;

  /** The channel NVSentinel's change-log trigger notifies. */
  static final String CHANNEL = "nvsentinel_changes";

  /**
   * On a first start, reading begins below the rows of transactions that began this long before the
   * start time; rows from before it are skipped by time, so none is sent twice.
   */
  static final Duration LONGEST_TRANSACTION = Duration.ofHours(1);

  /** Opens connections to the datastore; each cursor holds two, one of them listening. */
  @FunctionalInterface
  public interface Connections {
    Connection open() throws SQLException;
  }

  /**
   * How long after the last row it read a cursor keeps reading on its own, a few milliseconds
   * apart, before it waits for a notification again. pgjdbc's wait returns only once no
   * notification has come for a millisecond, so while rows keep coming (a burst, a steady rate near
   * a thousand a second) a wait would hold reading for as long as they come: 150–250 ms at a time
   * in the benchmark.
   */
  static final Duration BUSY_FOR = Duration.ofMillis(20);

  /**
   * The pause between reads while busy, doubling up to the longest while nothing comes. A read is
   * four or five statements: at 1,000 events/s a 1 ms pause cost the exporter 750 ms of CPU per
   * 1,000 events against 645 ms with this one, and its p99 was no lower.
   */
  static final long BUSY_PAUSE_MILLIS = 4;

  static final long MAX_BUSY_PAUSE_MILLIS = 8;

  private final Connections connections;
  private final List<String> operations;
  private final Duration pollWait;
  private final int batchSize;
  private final long busyForNanos;

  public PostgresChangelogSource(
      Connections connections, List<String> operationTypes, Duration pollWait, int batchSize) {
    this(connections, operationTypes, pollWait, batchSize, BUSY_FOR);
  }

  PostgresChangelogSource(
      Connections connections,
      List<String> operationTypes,
      Duration pollWait,
      int batchSize,
      Duration busyFor) {
    this.connections = connections;
    this.operations = operationTypes.stream().map(type -> type.toUpperCase(Locale.ROOT)).toList();
    this.pollWait = pollWait;
    this.batchSize = batchSize;
    this.busyForNanos = busyFor.toNanos();
  }

  @Override
  public Optional<Instant> serverTime() {
    try (Connection connection = connections.open();
        Statement statement = connection.createStatement();
        ResultSet row = statement.executeQuery("SELECT now()")) {
      row.next();
      return Optional.of(row.getTimestamp(1).toInstant());
    } catch (SQLException e) {
      return Optional.empty();
    }
  }

  @Override
  public Cursor open(StreamPosition after, Instant startAt) {
    try {
      return new ChangelogCursor(ChangelogPosition.of(after), startAt);
    } catch (SQLException e) {
      throw new DatastoreUnavailableException("cannot read datastore_changelog", e);
    }
  }

  /**
   * A token for a change: resume above {@code watermark}, skipping what {@code exported} covers.
   */
  static BsonDocument token(ChangelogReader.Change change, Exported exported) {
    BsonDocument token =
        new BsonDocument("watermark", new BsonInt64(change.resumeAt()))
            .append("id", new BsonInt64(change.id()))
            .append("changedAt", new BsonDateTime(change.changedAt().toEpochMilli()))
            .append("changedAtMicros", new BsonInt64(micros(change.changedAt())));
    return exported == null ? token : exported.into(token);
  }

  /**
   * The rows at or before {@code (changed_at, id)} = {@code (afterMicros, afterId)} were exported.
   */
  record Exported(long afterMicros, long afterId) {

    static Exported of(BsonDocument token) {
      return token != null && token.isNumber("afterChangedAtMicros") && token.isNumber("afterId")
          ? new Exported(
              token.getNumber("afterChangedAtMicros").longValue(),
              token.getNumber("afterId").longValue())
          : null;
    }

    boolean covers(ChangelogReader.Change change) {
      long at = micros(change.changedAt());
      return at < afterMicros || (at == afterMicros && change.id() <= afterId);
    }

    BsonDocument into(BsonDocument token) {
      return token
          .append("afterChangedAtMicros", new BsonInt64(afterMicros))
          .append("afterId", new BsonInt64(afterId));
    }
  }

  static long micros(Instant at) {
    return at.getEpochSecond() * 1_000_000L + at.getNano() / 1_000;
  }

  private final class ChangelogCursor implements Cursor {
    private final Connection reading;
    private final Connection listening;
    private final ChangelogReader reader;
    private final Exported exported;
    private final Deque<ChangelogReader.Change> ready = new ArrayDeque<>();
    private boolean caughtUp;

    /** Whether the listening connection is subscribed: not while busy, so nothing piles up. */
    private boolean subscribed;

    private long lastRowsAtNanos = System.nanoTime() - busyForNanos;
    private long pauseMillis = BUSY_PAUSE_MILLIS;

    ChangelogCursor(BsonDocument resumeAfter, Instant startAt) throws SQLException {
      reading = connections.open();
      listening = connections.open();
      try {
        reading.setAutoCommit(true);
        listening.setAutoCommit(true);
        subscribe(true);
        String sequence = sequence(reading);
        long watermark;
        long resumedAbove;
        long knownRow;
        long knownRowMicros = 0;
        if (resumeAfter != null && resumeAfter.isNumber("watermark")) {
          watermark = resumeAfter.getNumber("watermark").longValue();
          resumedAbove = watermark;
          knownRow = resumeAfter.isNumber("id") ? resumeAfter.getNumber("id").longValue() : 0;
          if (resumeAfter.isNumber("changedAtMicros")) {
            knownRowMicros = resumeAfter.getNumber("changedAtMicros").longValue();
          }
          exported = Exported.of(resumeAfter);
        } else if (Exported.of(resumeAfter) != null) {
          exported = Exported.of(resumeAfter);
          resumedAbove = exported.afterId();
          knownRow = exported.afterId();
          Instant after = Instant.EPOCH.plus(exported.afterMicros(), ChronoUnit.MICROS);
          watermark = below(reading, after.minus(LONGEST_TRANSACTION));
        } else {
          // a first start: what was stored before the start time is the backfill's
          Instant from = startAt == null ? Instant.EPOCH : startAt;
          exported = new Exported(micros(from) - 1, Long.MAX_VALUE);
          watermark = below(reading, from.minus(LONGEST_TRANSACTION));
          resumedAbove = watermark;
          knownRow = watermark;
        }
        reader =
            new ChangelogReader(
                watermark, resumedAbove, knownRow, knownRowMicros, operations, batchSize, sequence);
      } catch (SQLException | RuntimeException e) {
        close();
        throw e;
      }
    }

    @Override
    public ChangeEvent tryNext() {
      try {
        if (ready.isEmpty() && caughtUp) {
          if (System.nanoTime() - lastRowsAtNanos < busyForNanos) {
            pause();
          } else {
            awaitNotification();
          }
        }
        long fetched = reader.rowsFetched();
        // after a full read, read again at once: a backlog has no notifications left to wake
        // anyone; after less, what comes next notifies. A full read of updates returns nothing.
        for (int reads = 0; ready.isEmpty() && reads < MAX_READS_AT_ONCE; reads++) {
          for (ChangelogReader.Change change : reader.poll(reading)) {
            if (exported == null || !exported.covers(change)) {
              ready.add(change);
            }
          }
          caughtUp = !reader.lastPollFull();
          if (caughtUp) {
            break;
          }
        }
        if (reader.rowsFetched() > fetched) {
          busy();
        }
        ChangelogReader.Change change = ready.poll();
        if (change == null) {
          return null;
        }
        return new ChangeEvent(
            StoredDocuments.of(change.recordId(), change.document()),
            change.operation().toLowerCase(Locale.ROOT),
            new ChangelogPosition(token(change, exported)),
            change.changedAt());
      } catch (SQLException e) {
        throw new DatastoreUnavailableException("reading datastore_changelog failed", e);
      }
    }

    /**
     * Rows came: read on without notifications for {@link #BUSY_FOR}, and stop them meanwhile (the
     * server would queue every one for this connection until it listened again).
     */
    private void busy() throws SQLException {
      lastRowsAtNanos = System.nanoTime();
      pauseMillis = BUSY_PAUSE_MILLIS;
      subscribe(false);
    }

    /** A pause between reads while busy: 4, then 8 ms while nothing comes. */
    private void pause() {
      try {
        Thread.sleep(pauseMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      pauseMillis = Math.min(pauseMillis * 2, MAX_BUSY_PAUSE_MILLIS);
    }

    /** Waits up to the poll wait for a notification; any one means: read now. */
    private void awaitNotification() throws SQLException {
      if (!subscribed) {
        // read once more first: a row committed before LISTEN took effect notified nobody
        subscribe(true);
        return;
      }
      // drained: one read covers them all
      listening.unwrap(PGConnection.class).getNotifications((int) pollWait.toMillis());
    }

    private void subscribe(boolean listen) throws SQLException {
      if (subscribed != listen) {
        try (Statement statement = listening.createStatement()) {
          statement.execute((listen ? "LISTEN " : "UNLISTEN ") + CHANNEL);
        }
        subscribed = listen;
      }
    }

    @Override
    public void close() {
      PostgresConnections.closeQuietly(reading);
      PostgresConnections.closeQuietly(listening);
    }
  }

  /**
   * The change log's id sequence, which must hand out ids in the order they are drawn: with a
   * {@code CACHE} above 1 each session takes ids in blocks, so a later id can belong to an earlier
   * row and no watermark is safe. That is refused, naming the fix, rather than read wrong.
   */
  private static String sequence(Connection connection) throws SQLException {
    String sequence;
    try (Statement statement = connection.createStatement();
        ResultSet row =
            statement.executeQuery("SELECT pg_get_serial_sequence('datastore_changelog', 'id')")) {
      if (!row.next() || row.getString(1) == null) {
        throw new SQLException(
            "datastore_changelog has no id sequence: this is not NVSentinel's PostgreSQL schema");
      }
      sequence = row.getString(1);
    }
    try (PreparedStatement query =
        connection.prepareStatement(
            "SELECT seqcache FROM pg_catalog.pg_sequence WHERE seqrelid = ?::regclass")) {
      query.setString(1, sequence);
      try (ResultSet row = query.executeQuery()) {
        if (row.next() && row.getLong(1) > 1) {
          throw new SQLException(
              "datastore_changelog's id sequence "
                  + sequence
                  + " hands ids out "
                  + row.getLong(1)
                  + " at a time per session (CACHE "
                  + row.getLong(1)
                  + "), so ids do not follow the order they are drawn in and no position in the"
                  + " change log is safe: run ALTER SEQUENCE "
                  + sequence
                  + " CACHE 1");
        }
      }
    }
    return sequence;
  }

  /** The highest change-log id of a transaction that began before {@code time}, or 0. */
  private static long below(Connection connection, Instant time) throws SQLException {
    try (PreparedStatement query =
        connection.prepareStatement(
            "SELECT coalesce(max(id), 0) FROM datastore_changelog WHERE changed_at < ?")) {
      query.setTimestamp(1, Timestamp.from(time));
      try (ResultSet row = query.executeQuery()) {
        row.next();
        return row.getLong(1);
      }
    }
  }
}
