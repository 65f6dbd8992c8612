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

  private static final String ROWS =
      "SELECT id, created_at, document::text FROM health_events"
          + " WHERE created_at >= ? AND created_at < ?";

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
    String sql =
        ROWS
            + (last == null ? "" : " AND (created_at, id) > (?, ?)")
            + " ORDER BY created_at, id LIMIT ?";
    return db.with(
        "reading the window's health events",
        connection -> {
          try (PreparedStatement query = connection.prepareStatement(sql)) {
            int p = 1;
            query.setTimestamp(p++, Timestamp.from(start));
            query.setTimestamp(p++, Timestamp.from(end));
            if (last != null) {
              query.setTimestamp(p++, Timestamp.from(last.createdAt()));
              query.setObject(p++, last.id());
            }
            query.setInt(p, limit);
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
