package io.nvsentinel.exporter.live.changestream;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
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

  /** Above this many holes, the whole range above the watermark is read again instead. */
  private static final int MAX_HOLES = 256;

  private final String sequence;
  private final List<String> operations;
  private final int batchSize;
  private final ReadIds read = new ReadIds();
  private final Horizons horizons = new Horizons();
  private final long resumedAbove;
  private long watermark;
  private long knownRow;

  /**
   * @param watermark every row with an id up to this one is accounted for
   * @param resumedAbove the position reading continues from, whose successors must still exist
   * @param knownRow the id of a row known to have existed at that position, 0 if none: its absence
   *     tells that the change log was pruned
   * @param operations the change-log operations returned ({@code INSERT}, {@code UPDATE})
   */
  ChangelogReader(
      long watermark,
      long resumedAbove,
      long knownRow,
      List<String> operations,
      int batchSize,
      String sequence) {
    this.watermark = watermark;
    this.resumedAbove = resumedAbove;
    this.knownRow = knownRow;
    this.operations = List.copyOf(operations);
    this.batchSize = batchSize;
    this.sequence = sequence;
  }

  long watermark() {
    return watermark;
  }

  /** The changes not returned before, in id order; advances the watermark where it is safe. */
  List<Change> poll(Connection connection) throws SQLException {
    connection.setAutoCommit(true);
    long lastDrawn = lastDrawn(connection);
    if (lastDrawn > horizons.lastNoted(watermark)) {
      horizons.add(lastDrawn, newTransactionId(connection));
    }
    connection.setAutoCommit(false);
    List<Change> changes = new ArrayList<>();
    long settled;
    boolean full;
    long highestRead;
    try {
      settled = horizons.settled(oldestRunning(connection));
      requireHistory(connection, settled);
      long above = read.highest(watermark);
      holes(connection, above, changes);
      full = fresh(connection, above, changes);
      highestRead = Math.max(above, changes.stream().mapToLong(Change::id).max().orElse(above));
      connection.commit();
    } catch (SQLException | RuntimeException e) {
      connection.rollback();
      throw e;
    } finally {
      connection.setAutoCommit(true);
    }
    changes.sort(Comparator.comparingLong(Change::id));
    // settled ids are accounted for once read: all of them, or up to the last of a full batch
    watermark = Math.max(watermark, Math.min(settled, full ? highestRead : Long.MAX_VALUE));
    for (Change change : changes) {
      read.add(change.id(), watermark);
      knownRow = Math.max(knownRow, change.id());
    }
    // ids read one after another right above the watermark are accounted for, settled or not
    watermark = read.contiguousTop(watermark);
    read.dropThrough(watermark);
    horizons.dropThrough(watermark);
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
   * Throws when the rows after this reader's position were pruned: a row it knows existed is gone,
   * and so is the next id, drawn by a transaction that has finished.
   */
  private void requireHistory(Connection connection, long settled) throws SQLException {
    long position = read.contiguousTop(Math.max(watermark, resumedAbove));
    if (knownRow <= 0 || settled <= position) {
      return;
    }
    Long first;
    try (Statement statement = connection.createStatement();
        ResultSet row = statement.executeQuery("SELECT min(id) FROM datastore_changelog")) {
      row.next();
      first = (Long) row.getObject(1);
    }
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

  /** Late rows: those between the watermark and the highest id read that were not read yet. */
  private void holes(Connection connection, long above, List<Change> into) throws SQLException {
    if (above <= watermark) {
      return;
    }
    List<long[]> holes = read.holes(watermark);
    if (holes.isEmpty()) {
      return;
    }
    if (holes.size() > MAX_HOLES) {
      holes = List.of(new long[] {watermark, above + 1});
    }
    Long[] from = holes.stream().map(h -> h[0]).toArray(Long[]::new);
    Long[] to = holes.stream().map(h -> h[1]).toArray(Long[]::new);
    String sql =
        "SELECT c.id, c.record_id, c.operation, c.new_values -> 'document', c.changed_at"
            + " FROM datastore_changelog c"
            + " JOIN unnest(?::bigint[], ?::bigint[]) AS hole(after_id, before_id)"
            + " ON c.id > hole.after_id AND c.id < hole.before_id"
            + " WHERE c.table_name = 'health_events' AND c.operation = ANY(?)";
    try (PreparedStatement query = connection.prepareStatement(sql)) {
      Array after = connection.createArrayOf("bigint", from);
      Array before = connection.createArrayOf("bigint", to);
      query.setArray(1, after);
      query.setArray(2, before);
      query.setArray(3, connection.createArrayOf("varchar", operations.toArray()));
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          Change change = change(rows);
          if (!read.contains(change.id(), watermark)) {
            into.add(change);
          }
        }
      }
    }
  }

  /** Rows above everything read so far; whether the batch was full. */
  private boolean fresh(Connection connection, long above, List<Change> into) throws SQLException {
    String sql =
        "SELECT id, record_id, operation, new_values -> 'document', changed_at"
            + " FROM datastore_changelog"
            + " WHERE table_name = 'health_events' AND operation = ANY(?) AND id > ?"
            + " ORDER BY id LIMIT ?";
    int count = 0;
    try (PreparedStatement query = connection.prepareStatement(sql)) {
      query.setArray(1, connection.createArrayOf("varchar", operations.toArray()));
      query.setLong(2, above);
      query.setInt(3, batchSize);
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          into.add(change(rows));
          count++;
        }
      }
    }
    return count == batchSize;
  }

  private static Change change(ResultSet rows) throws SQLException {
    return new Change(
        rows.getLong(1),
        rows.getObject(2, UUID.class),
        rows.getString(3),
        rows.getString(4),
        rows.getTimestamp(5).toInstant(),
        0);
  }

  /** The last id the change log's sequence handed out, read before the snapshot is taken. */
  private long lastDrawn(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet row =
            statement.executeQuery(
                "SELECT coalesce(pg_sequence_last_value('" + sequence + "'::regclass), 0)")) {
      row.next();
      return row.getLong(1);
    }
  }

  /** A transaction id of this reader's own, newer than that of every transaction running now. */
  private static long newTransactionId(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet row = statement.executeQuery("SELECT pg_current_xact_id()::text")) {
      row.next();
      return Long.parseLong(row.getString(1));
    }
  }

  /** The oldest transaction id still running; every older one has committed or rolled back. */
  private static long oldestRunning(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet row =
            statement.executeQuery("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")) {
      row.next();
      return Long.parseLong(row.getString(1));
    }
  }
}
