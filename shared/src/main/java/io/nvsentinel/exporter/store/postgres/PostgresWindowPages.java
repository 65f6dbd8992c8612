package io.nvsentinel.exporter.store.postgres;

import io.nvsentinel.exporter.store.PagedWindowReader;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;

/**
 * The window's rows of NVSentinel's {@code health_events} in ({@code created_at}, {@code id})
 * order, a page at a time after the key of the row handed out last. Each row becomes the document
 * the decoder reads, with the row's {@code created_at} as its {@code createdAt}.
 */
final class PostgresWindowPages implements PagedWindowReader.Pages<PostgresWindowPages.Key> {

  static final String LAST_CREATED_AT_MICROS = "reader.lastCreatedAtMicros";
  static final String LAST_ID = "reader.lastId";

  /** What Spring Batch's paging reader saved, which runs before this reader may continue from. */
  static final String PAGING_READER_KEY = "reader.start.after";

  static final String PAGING_READER_COUNT = "reader.read.count";

  /**
   * A page after a key: the row comparison is the lower bound itself, so the index on ({@code
   * created_at}, {@code id}) starts there. Written as {@code created_at >= start AND (created_at,
   * id) > key}, the server scanned the window from its start for every page and discarded what came
   * before the key: 240 ms a page of 500 at 50,000 rows (bench/README.md).
   */
  private static final String PAGE =
      "SELECT id, created_at, document::text FROM health_events"
          + " WHERE (created_at, id) %s (?, ?) AND created_at < ?"
          + " ORDER BY created_at, id LIMIT ?";

  /** Below every id, so that the first page starts at the window's start. */
  private static final UUID LOWEST = new UUID(0, 0);

  /** A row's place in storage order. */
  record Key(Instant createdAt, UUID id) {}

  private final PostgresConnections db;
  private final Instant start;
  private final Instant end;

  PostgresWindowPages(PostgresConnections db, Instant start, Instant end) {
    this.db = db;
    this.start = start;
    this.end = end;
  }

  /** How many rows {@code [start, end)} holds. */
  static long count(PostgresConnections db, Instant start, Instant end) {
    return db.with(
        "counting the window's health events",
        connection -> {
          try (PreparedStatement query =
              connection.prepareStatement(
                  "SELECT count(*) FROM health_events WHERE created_at >= ? AND created_at < ?")) {
            query.setTimestamp(1, Timestamp.from(start));
            query.setTimestamp(2, Timestamp.from(end));
            try (ResultSet row = query.executeQuery()) {
              row.next();
              return row.getLong(1);
            }
          }
        });
  }

  @Override
  public List<PagedWindowReader.Keyed<Key>> after(Key last, int limit) {
    String sql = page(last == null);
    return db.with(
        "reading the window's health events",
        connection -> {
          try (PreparedStatement query = connection.prepareStatement(sql)) {
            query.setTimestamp(1, Timestamp.from(last == null ? start : last.createdAt()));
            query.setObject(2, last == null ? LOWEST : last.id());
            query.setTimestamp(3, Timestamp.from(end));
            query.setInt(4, limit);
            List<PagedWindowReader.Keyed<Key>> page = new ArrayList<>(limit);
            try (ResultSet rows = query.executeQuery()) {
              while (rows.next()) {
                UUID id = rows.getObject(1, UUID.class);
                Instant createdAt = rows.getTimestamp(2).toInstant();
                BsonDocument document = StoredDocuments.of(id, rows.getString(3));
                document.put("createdAt", new BsonDateTime(createdAt.toEpochMilli()));
                page.add(
                    new PagedWindowReader.Keyed<>(new Key(createdAt, id), createdAt, document));
              }
            }
            return page;
          }
        });
  }

  /** The query of the first page, or of a page after a key. */
  private static String page(boolean first) {
    return String.format(PAGE, first ? ">=" : ">");
  }

  @Override
  public Map<String, Object> save(Key key) {
    return Map.of(
        LAST_CREATED_AT_MICROS,
        ChronoUnit.MICROS.between(Instant.EPOCH, key.createdAt()),
        LAST_ID,
        key.id().toString());
  }

  @Override
  public Key restore(Map<String, Object> saved) {
    if (saved.get(LAST_CREATED_AT_MICROS) instanceof Number micros) {
      return new Key(
          Instant.EPOCH.plus(micros.longValue(), ChronoUnit.MICROS),
          UUID.fromString((String) saved.get(LAST_ID)));
    }
    if (saved.get(PAGING_READER_KEY) instanceof Map<?, ?> after
        && after.get("created_at") instanceof Timestamp createdAt
        && after.get("id") instanceof UUID id) {
      return new Key(createdAt.toInstant(), id);
    }
    return null;
  }

  @Override
  public long count(Map<String, Object> saved) {
    if (saved.get(PAGING_READER_COUNT) instanceof Number n
        && !saved.containsKey(PagedWindowReader.READ)) {
      return n.longValue();
    }
    return PagedWindowReader.Pages.super.count(saved);
  }
}
