package io.nvsentinel.exporter.store.postgres;

import io.nvsentinel.exporter.store.ChangeHistoryLostException;
import io.nvsentinel.exporter.store.postgres.ChangelogQueries.Row;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;

/**
 * Reads NVSentinel's PostgreSQL change log ({@code datastore_changelog}, filled by a trigger on
 * {@code health_events}) so that no row is ever skipped, including one whose transaction commits
 * after rows with larger ids were read.
 *
 * <p>A row's {@code id} is drawn from a sequence while its transaction runs and its {@code
 * changed_at} is that transaction's start, so neither orders rows by commit: reading "after the
 * last row read", as NVSentinel's own watcher does, loses a row that commits late. This reader
 * keeps a <em>watermark</em> instead: every row with an id at or below it has been read or will
 * never exist. A poll notes the last id the sequence has handed out and then takes a transaction id
 * of its own: every id up to the noted one was drawn by a transaction that already had an older
 * transaction id. Once no transaction older than that one is running (the snapshot's {@code xmin}
 * has passed it), every such row is committed or gone, and the watermark moves up to the noted id
 * after the rows visible then are read; it also moves over every id read one after another right
 * above it. Rows above the watermark are read once: the reader remembers which, and asks only for
 * the holes between them and for what is new.
 *
 * <p>NVSentinel's {@code cleanup_changelog} deletes old processed rows. When it has deleted rows
 * this reader had not read yet, the history is lost ({@link ChangeHistoryLostException}): a row the
 * reader knows existed is gone, and the first id after its position, drawn by a transaction that
 * has finished, has no row. (A rolled-back insert at exactly that id looks the same; the gap window
 * recorded then is exported for nothing, never skipped.)
 *
 * <p>The sequence must hand out ids in order, as {@code BIGSERIAL}'s default (no cache) does.
 */
final class ChangelogReader {

  /** A change of a health event, with the position to resume from once it is accounted for. */
  record Change(
      long id,
      UUID recordId,
      String operation,
      String document,
      Instant changedAt,
      long resumeAt) {}

  /** The holes asked for in one poll, lowest first; the watermark stops below the rest. */
  static final int MAX_HOLES = 256;

  /**
   * The ranges of ids read above the watermark kept at most: while a long transaction holds the
   * watermark and more are needed, reading waits for it, so memory stays bounded.
   */
  static final int MAX_RANGES = 8_192;

  private final ChangelogQueries queries;
  private final int batchSize;
  private final ReadIds read = new ReadIds();
  private final Horizons horizons = new Horizons();
  private final long resumedAbove;
  private final long knownRowChangedAtMicros;
  private long watermark;
  private long knownRow;
  private boolean identityChecked;
  private long rowsFetched;
  private boolean lastPollFull;

  /**
   * @param watermark every row with an id up to this one is accounted for
   * @param resumedAbove the position reading continues from, whose successors must still exist
   * @param knownRow the id of a row known to have existed at that position, 0 if none: its absence
   *     tells that the change log was pruned
   * @param knownRowChangedAtMicros its {@code changed_at}, in microseconds since the epoch, or 0
   *     when not known: another row under its id tells that another server's history replaced this
   *     one (a failover to a replica that lacked the latest rows)
   * @param operations the change-log operations returned ({@code INSERT}, {@code UPDATE})
   */
  ChangelogReader(
      long watermark,
      long resumedAbove,
      long knownRow,
      long knownRowChangedAtMicros,
      List<String> operations,
      int batchSize,
      String sequence) {
    this.watermark = watermark;
    this.resumedAbove = resumedAbove;
    this.knownRow = knownRow;
    this.knownRowChangedAtMicros = knownRowChangedAtMicros;
    this.queries = new ChangelogQueries(operations, sequence);
    this.batchSize = batchSize;
  }

  long watermark() {
    return watermark;
  }

  /**
   * Whether the last poll read a full batch, returned or not (updates are read and not returned):
   * more is waiting, read again at once.
   */
  boolean lastPollFull() {
    return lastPollFull;
  }

  /** Rows the queries of this reader returned so far: the work its polls did. */
  long rowsFetched() {
    return rowsFetched;
  }

  /** The changes not returned before, in id order; advances the watermark where it is safe. */
  List<Change> poll(Connection connection) throws SQLException {
    connection.setAutoCommit(true);
    long lastDrawn = queries.lastDrawn(connection);
    requireSameServer(connection, lastDrawn);
    if (lastDrawn > horizons.lastNoted(watermark)) {
      horizons.add(lastDrawn, ChangelogQueries.newTransactionId(connection));
    }
    connection.setAutoCommit(false);
    List<Row> rows = new ArrayList<>();
    long settled;
    long limit;
    boolean full;
    long highestRead;
    try {
      settled = horizons.settled(ChangelogQueries.oldestRunning(connection));
      requireHistory(connection, settled);
      long above = read.highest(watermark);
      limit = Math.min(settled, holes(connection, above, rows));
      // a long transaction holds the watermark: read on only while what is held stays bounded
      full =
          read.ranges() < MAX_RANGES
              && queries.above(connection, above, batchSize, rows::add) == batchSize;
      highestRead = Math.max(above, rows.stream().mapToLong(Row::id).max().orElse(above));
      connection.commit();
    } catch (SQLException | RuntimeException e) {
      connection.rollback();
      throw e;
    } finally {
      connection.setAutoCommit(true);
    }
    rows.sort(Comparator.comparingLong(Row::id));
    rowsFetched += rows.size();
    lastPollFull = full;
    // settled ids are accounted for once read: all of them, or up to the last of a full batch
    watermark = Math.max(watermark, Math.min(limit, full ? highestRead : Long.MAX_VALUE));
    for (Row row : rows) {
      read.add(row.id(), watermark);
      knownRow = Math.max(knownRow, row.id());
    }
    // ids read one after another right above the watermark are accounted for, settled or not
    watermark = read.contiguousTop(watermark);
    read.dropThrough(watermark);
    horizons.dropThrough(watermark);
    List<Change> changes = rows.stream().map(Row::change).filter(c -> c != null).toList();
    List<Change> positioned = new ArrayList<>(changes.size());
    for (int i = 0; i < changes.size(); i++) {
      Change c = changes.get(i);
      // the last change resumes above the new watermark. Any other resumes above its own id where
      // the watermark covers it: every row below it was returned before it or never will exist,
      // and the changes after it in this poll have larger ids. Above the watermark, the rows at or
      // below the change's id are not all settled, so it resumes above the watermark.
      long resumeAt = i == changes.size() - 1 ? watermark : Math.min(c.id(), watermark);
      positioned.add(
          new Change(c.id(), c.recordId(), c.operation(), c.document(), c.changedAt(), resumeAt));
    }
    return positioned;
  }

  /**
   * Throws when the server's change log is not the one this reader's position was taken from: its
   * sequence is behind the watermark, or the row last read has another {@code changed_at} under its
   * id. A failover to an asynchronous replica that lacked the latest rows does that, and then hands
   * their ids out again to new events, which reading above the watermark would skip.
   */
  private void requireSameServer(Connection connection, long lastDrawn) throws SQLException {
    if (lastDrawn < watermark) {
      throw new ChangeHistoryLostException(
          "the change log's sequence is at "
              + lastDrawn
              + ", below this exporter's position (id "
              + watermark
              + "): the server is not the one the position was read from (a failover to a"
              + " replica that had not received the latest rows, or a restored backup)");
    }
    if (identityChecked || knownRow <= 0 || knownRowChangedAtMicros <= 0) {
      return;
    }
    Long changedAt = ChangelogQueries.changedAtMicros(connection, knownRow);
    if (changedAt != null && changedAt != knownRowChangedAtMicros) {
      throw new ChangeHistoryLostException(
          "row "
              + knownRow
              + " of the change log is another change than the one this exporter read under that"
              + " id: the server is not the one the position was read from (a failover to a"
              + " replica that had not received the latest rows, or a restored backup)");
    }
    identityChecked = true;
  }

  /**
   * Throws when the rows after this reader's position were pruned: a row it knows existed is gone,
   * and so is the next id, drawn by a transaction that has finished.
   */
  private void requireHistory(Connection connection, long settled) throws SQLException {
    long position = read.contiguousTop(Math.max(watermark, resumedAbove));
    if (knownRow <= 0 || settled <= position) {
      return;
    }
    Long first = ChangelogQueries.lowestId(connection);
    boolean knownRowGone = first == null || first > knownRow;
    boolean nextIdGone = first == null || first > position + 1;
    if (knownRowGone && nextIdGone) {
      throw new ChangeHistoryLostException(
          "datastore_changelog was pruned past this exporter's position (id "
              + position
              + "): row "
              + knownRow
              + " is gone and "
              + (first == null ? "the table is empty" : "the oldest row left is " + first)
              + "; NVSentinel's cleanup_changelog deletes processed rows after its retention");
    }
  }

  /**
   * Late rows: those between the watermark and the highest id read that were not read yet, from at
   * most {@value #MAX_HOLES} holes and a batch of rows. Returns the id the watermark may not pass
   * now: below the first hole not asked for, or the last row of a full batch.
   */
  private long holes(Connection connection, long above, List<Row> into) throws SQLException {
    List<long[]> holes = above <= watermark ? List.of() : read.holes(watermark);
    if (holes.isEmpty()) {
      return Long.MAX_VALUE;
    }
    long limit = Long.MAX_VALUE;
    if (holes.size() > MAX_HOLES) {
      limit = holes.get(MAX_HOLES)[0];
      holes = holes.subList(0, MAX_HOLES);
    }
    long[] last = {0};
    int count =
        queries.inHoles(
            connection,
            holes.stream().map(h -> h[0]).toArray(Long[]::new),
            holes.stream().map(h -> h[1]).toArray(Long[]::new),
            batchSize,
            row -> {
              last[0] = row.id();
              if (!read.contains(row.id(), watermark)) {
                into.add(row);
              }
            });
    return count == batchSize ? Math.min(limit, last[0]) : limit;
  }
}
