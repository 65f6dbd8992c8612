package io.nvsentinel.exporter.store.postgres;

import io.nvsentinel.exporter.checkpoint.GapWindow;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Gap windows in the exporter's table {@code event_exporter_gap_windows}. */
public final class PostgresGapWindowStore implements GapWindowStore {

  private static final String COLUMNS =
      "id, client_name, kind, start_at, end_at, reason, recorded_at, status";

  private final PostgresConnections db;

  public PostgresGapWindowStore(PostgresConnections db) {
    this.db = db;
  }

  @Override
  public GapWindow record(
      String client, GapWindow.Kind kind, Instant start, Instant end, String reason, Instant now) {
    return db.with(
        "recording a gap window",
        connection -> {
          try (PreparedStatement insert =
              connection.prepareStatement(
                  "INSERT INTO event_exporter_gap_windows (client_name, kind, start_at, end_at,"
                      + " reason, recorded_at, status) VALUES (?, ?, ?, ?, ?, ?, ?)"
                      + " ON CONFLICT (client_name, kind, start_at) DO NOTHING")) {
            insert.setString(1, client);
            insert.setString(2, kind.label());
            insert.setTimestamp(3, Timestamp.from(start));
            insert.setTimestamp(4, Timestamp.from(end));
            insert.setString(5, reason);
            insert.setTimestamp(6, Timestamp.from(now));
            insert.setString(7, GapWindow.Status.PENDING.label());
            insert.executeUpdate();
          }
          try (PreparedStatement query =
              connection.prepareStatement(
                  "SELECT "
                      + COLUMNS
                      + " FROM event_exporter_gap_windows"
                      + " WHERE client_name = ? AND kind = ? AND start_at = ?")) {
            query.setString(1, client);
            query.setString(2, kind.label());
            query.setTimestamp(3, Timestamp.from(start));
            try (ResultSet row = query.executeQuery()) {
              row.next();
              return window(row);
            }
          }
        });
  }

  @Override
  public List<GapWindow> all() {
    return db.with(
        "listing gap windows",
        connection -> {
          List<GapWindow> windows = new ArrayList<>();
          try (PreparedStatement query =
                  connection.prepareStatement(
                      "SELECT "
                          + COLUMNS
                          + " FROM event_exporter_gap_windows ORDER BY start_at, id");
              ResultSet rows = query.executeQuery()) {
            while (rows.next()) {
              windows.add(window(rows));
            }
          }
          return windows;
        });
  }

  @Override
  public void markDone(String id, Instant now) {
    db.with(
        "marking a gap window done",
        connection -> {
          try (PreparedStatement update =
              connection.prepareStatement(
                  "UPDATE event_exporter_gap_windows SET status = ?, done_at = ? WHERE id = ?")) {
            update.setString(1, GapWindow.Status.DONE.label());
            update.setTimestamp(2, Timestamp.from(now));
            update.setLong(3, Long.parseLong(id));
            return update.executeUpdate();
          }
        });
  }

  private static GapWindow window(ResultSet row) throws SQLException {
    return new GapWindow(
        String.valueOf(row.getLong(1)),
        row.getString(2),
        GapWindow.Kind.of(row.getString(3)),
        row.getTimestamp(4).toInstant(),
        row.getTimestamp(5).toInstant(),
        row.getString(6),
        row.getTimestamp(7).toInstant(),
        GapWindow.Status.of(row.getString(8)));
  }
}
