package io.nvsentinel.exporter.backfill.job;

import io.nvsentinel.exporter.backfill.window.BackfillWindow;
import io.nvsentinel.exporter.datastore.postgres.PostgresConnections;
import io.nvsentinel.exporter.datastore.postgres.StoredDocuments;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.batch.infrastructure.item.database.JdbcPagingItemReader;
import org.springframework.batch.infrastructure.item.database.Order;
import org.springframework.batch.infrastructure.item.database.builder.JdbcPagingItemReaderBuilder;

/**
 * The window's rows of NVSentinel's PostgreSQL {@code health_events}, in ({@code created_at},
 * {@code id}) order, through Spring Batch's own paging reader: pages by key, never by offset, and
 * the key of the last row handed out is saved with every committed chunk, so a restart goes on
 * after it. Each row becomes the document the decoder reads, with the row's {@code created_at} as
 * its {@code createdAt}.
 */
final class PostgresWindowReader implements WindowReader {

  private final JdbcPagingItemReader<Row> rows;
  private final PostgresConnections db;
  private final BackfillWindow window;
  private Row last;

  private record Row(UUID id, Instant createdAt, BsonDocument document) {}

  PostgresWindowReader(PostgresConnections db, BackfillWindow window, int pageSize) {
    this.db = db;
    this.window = window;
    Map<String, Order> order = new LinkedHashMap<>();
    order.put("created_at", Order.ASCENDING);
    order.put("id", Order.ASCENDING);
    try {
      rows =
          new JdbcPagingItemReaderBuilder<Row>()
              .name("reader")
              .dataSource(db.dataSource())
              .selectClause("SELECT id, created_at, document::text AS document")
              .fromClause("FROM health_events")
              .whereClause("WHERE created_at >= :start AND created_at < :end")
              .parameterValues(
                  Map.of(
                      "start", Timestamp.from(window.start()), "end", Timestamp.from(window.end())))
              .sortKeys(order)
              .pageSize(pageSize)
              .maxItemCount((int) Math.min(Integer.MAX_VALUE, window.maxEvents()))
              .rowMapper(
                  (result, n) -> {
                    UUID id = result.getObject("id", UUID.class);
                    Instant createdAt = result.getTimestamp("created_at").toInstant();
                    BsonDocument document = StoredDocuments.of(id, result.getString("document"));
                    document.put("createdAt", new BsonDateTime(createdAt.toEpochMilli()));
                    return new Row(id, createdAt, document);
                  })
              .build();
      rows.afterPropertiesSet();
    } catch (Exception e) {
      throw new IllegalStateException("cannot build the health_events reader: " + e, e);
    }
  }

  /** How many rows the window holds. */
  static long count(PostgresConnections db, BackfillWindow window) {
    return db.with(
        "counting the window's health events",
        connection -> {
          try (PreparedStatement query =
              connection.prepareStatement(
                  "SELECT count(*) FROM health_events WHERE created_at >= ? AND created_at < ?")) {
            query.setTimestamp(1, Timestamp.from(window.start()));
            query.setTimestamp(2, Timestamp.from(window.end()));
            try (ResultSet row = query.executeQuery()) {
              row.next();
              return row.getLong(1);
            }
          }
        });
  }

  @Override
  public void open(ExecutionContext context) {
    rows.open(context);
  }

  @Override
  public BsonDocument read() throws Exception {
    Row row = rows.read();
    if (row == null) {
      return null;
    }
    last = row;
    return row.document();
  }

  @Override
  public Instant firstLeftOut() {
    if (last == null || rows.getCurrentItemCount() < window.maxEvents()) {
      return null;
    }
    return db.with(
        "finding the first event left out",
        connection -> {
          try (PreparedStatement query =
              connection.prepareStatement(
                  "SELECT created_at FROM health_events WHERE created_at < ? AND"
                      + " (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT 1")) {
            query.setTimestamp(1, Timestamp.from(window.end()));
            query.setTimestamp(2, Timestamp.from(last.createdAt()));
            query.setObject(3, last.id());
            try (ResultSet row = query.executeQuery()) {
              return row.next() ? row.getTimestamp(1).toInstant() : null;
            }
          }
        });
  }

  @Override
  public void update(ExecutionContext context) {
    rows.update(context);
  }

  @Override
  public void close() {
    rows.close();
  }
}
