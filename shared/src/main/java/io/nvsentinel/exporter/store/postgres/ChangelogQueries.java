package io.nvsentinel.exporter.store.postgres;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * What {@link ChangelogReader} asks NVSentinel's PostgreSQL store, one method a statement. Every
 * row of the change log is read — updates, other tables — so that none leaves a hole among the ids
 * read; the document is fetched only for the changes the exporter returns.
 */
final class ChangelogQueries {

  /** A row of the change log: its id, and the change when it is one of those returned. */
  record Row(long id, ChangelogReader.Change change) {}

  private static final String WANTED = "(c.table_name = 'health_events' AND c.operation = ANY(?))";

  private static final String COLUMNS =
      "c.id, c.record_id, c.operation, CASE WHEN "
          + WANTED
          + " THEN c.new_values -> 'document' END, c.changed_at, "
          + WANTED;

  private final List<String> operations;
  private final String sequence;

  /**
   * @param operations the change-log operations returned ({@code INSERT}, {@code UPDATE})
   * @param sequence the change log's id sequence
   */
  ChangelogQueries(List<String> operations, String sequence) {
    this.operations = List.copyOf(operations);
    this.sequence = sequence;
  }

  /** Rows in the holes {@code (after, before)}, lowest first, at most {@code limit}. */
  int inHoles(Connection connection, Long[] after, Long[] before, int limit, Consumer<Row> into)
      throws SQLException {
    String sql =
        "SELECT "
            + COLUMNS
            + " FROM datastore_changelog c"
            + " JOIN unnest(?::bigint[], ?::bigint[]) AS hole(after_id, before_id)"
            + " ON c.id > hole.after_id AND c.id < hole.before_id"
            + " ORDER BY c.id LIMIT ?";
    try (PreparedStatement query = connection.prepareStatement(sql)) {
      int next = operations(connection, query);
      query.setArray(next, connection.createArrayOf("bigint", after));
      query.setArray(next + 1, connection.createArrayOf("bigint", before));
      query.setInt(next + 2, limit);
      return rows(query, into);
    }
  }

  /** Rows above {@code above}, lowest first, at most {@code limit}. */
  int above(Connection connection, long above, int limit, Consumer<Row> into) throws SQLException {
    String sql =
        "SELECT " + COLUMNS + " FROM datastore_changelog c WHERE c.id > ? ORDER BY c.id LIMIT ?";
    try (PreparedStatement query = connection.prepareStatement(sql)) {
      int next = operations(connection, query);
      query.setLong(next, above);
      query.setInt(next + 1, limit);
      return rows(query, into);
    }
  }

  /** The operations, for both placeholders of {@link #COLUMNS}; the next placeholder's index. */
  private int operations(Connection connection, PreparedStatement query) throws SQLException {
    Array wanted = connection.createArrayOf("varchar", operations.toArray());
    query.setArray(1, wanted);
    query.setArray(2, wanted);
    return 3;
  }

  private static int rows(PreparedStatement query, Consumer<Row> into) throws SQLException {
    int count = 0;
    try (ResultSet rows = query.executeQuery()) {
      while (rows.next()) {
        long id = rows.getLong(1);
        into.accept(
            new Row(
                id,
                rows.getBoolean(6)
                    ? new ChangelogReader.Change(
                        id,
                        rows.getObject(2, UUID.class),
                        rows.getString(3),
                        rows.getString(4),
                        rows.getTimestamp(5).toInstant(),
                        0)
                    : null));
        count++;
      }
    }
    return count;
  }

  /** The lowest id left in the change log, or {@code null} when it is empty. */
  static Long lowestId(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet row = statement.executeQuery("SELECT min(id) FROM datastore_changelog")) {
      row.next();
      return (Long) row.getObject(1);
    }
  }

  /** The {@code changed_at} of row {@code id} in microseconds since the epoch; null without it. */
  static Long changedAtMicros(Connection connection, long id) throws SQLException {
    try (PreparedStatement query =
        connection.prepareStatement(
            "SELECT (extract(epoch FROM changed_at) * 1000000)::bigint FROM datastore_changelog"
                + " WHERE id = ?")) {
      query.setLong(1, id);
      try (ResultSet row = query.executeQuery()) {
        return row.next() ? row.getLong(1) : null;
      }
    }
  }

  /** The last id the change log's sequence handed out, read before the snapshot is taken. */
  long lastDrawn(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet row =
            statement.executeQuery(
                "SELECT coalesce(pg_sequence_last_value('" + sequence + "'::regclass), 0)")) {
      row.next();
      return row.getLong(1);
    }
  }

  /** A transaction id of this reader's own, newer than that of every transaction running now. */
  static long newTransactionId(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet row = statement.executeQuery("SELECT pg_current_xact_id()::text")) {
      row.next();
      return Long.parseLong(row.getString(1));
    }
  }

  /** The oldest transaction id still running; every older one has committed or rolled back. */
  static long oldestRunning(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet row =
            statement.executeQuery("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")) {
      row.next();
      return Long.parseLong(row.getString(1));
    }
  }
}
