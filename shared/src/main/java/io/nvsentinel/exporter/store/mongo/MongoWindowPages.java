package io.nvsentinel.exporter.store.mongo;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Sorts;
import io.nvsentinel.exporter.store.PagedWindowReader;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.conversions.Bson;

/**
 * The window's health events in ({@code createdAt}, {@code _id}) order, a page at a time after the
 * key of the event handed out last.
 */
final class MongoWindowPages implements PagedWindowReader.Pages<MongoWindowPages.Key> {

  static final String LAST_CREATED_AT = "reader.lastCreatedAt";
  static final String LAST_ID = "reader.lastId";

  /** An event's place in storage order. */
  record Key(long createdAt, BsonValue id) {}

  private final MongoCollection<BsonDocument> events;
  private final Bson window;

  MongoWindowPages(MongoCollection<BsonDocument> events, Instant start, Instant end) {
    this.events = events;
    this.window = inWindow(start, end);
  }

  /** The window's filter on {@code createdAt}. */
  static Bson inWindow(Instant start, Instant end) {
    return Filters.and(
        Filters.gte("createdAt", Date.from(start)), Filters.lt("createdAt", Date.from(end)));
  }

  @Override
  public List<PagedWindowReader.Keyed<Key>> after(Key last, int limit) {
    Bson query = window;
    if (last != null) {
      Date at = new Date(last.createdAt());
      query =
          Filters.and(
              window,
              Filters.or(
                  Filters.gt("createdAt", at),
                  Filters.and(Filters.eq("createdAt", at), Filters.gt("_id", last.id()))));
    }
    List<PagedWindowReader.Keyed<Key>> page = new ArrayList<>();
    for (BsonDocument event :
        events.find(query).sort(Sorts.ascending("createdAt", "_id")).limit(limit)) {
      long createdAt = event.getDateTime("createdAt").getValue();
      page.add(
          new PagedWindowReader.Keyed<>(
              new Key(createdAt, event.get("_id")), Instant.ofEpochMilli(createdAt), event));
    }
    return page;
  }

  @Override
  public Map<String, Object> save(Key key) {
    return Map.of(
        LAST_CREATED_AT, key.createdAt(), LAST_ID, new BsonDocument("_id", key.id()).toJson());
  }

  @Override
  public Key restore(Map<String, Object> saved) {
    if (!(saved.get(LAST_CREATED_AT) instanceof Number createdAt)) {
      return null;
    }
    return new Key(
        createdAt.longValue(), BsonDocument.parse((String) saved.get(LAST_ID)).get("_id"));
  }
}
