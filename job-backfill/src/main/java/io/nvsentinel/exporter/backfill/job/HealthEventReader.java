package io.nvsentinel.exporter.backfill.job;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Sorts;
import io.nvsentinel.exporter.backfill.window.BackfillWindow;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Date;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.conversions.Bson;
import org.springframework.batch.infrastructure.item.ExecutionContext;

/**
 * Reads the window's health events in ({@code createdAt}, {@code _id}) order, a page at a time by
 * key (never skip/offset), at most {@code maxEvents}. Its position — the key of the last event
 * handed out — is saved with every committed chunk, so a restart goes on after it. The next page is
 * fetched while the writer delivers the current chunk.
 */
class HealthEventReader implements WindowReader {

  static final String LAST_CREATED_AT = "reader.lastCreatedAt";
  static final String LAST_ID = "reader.lastId";
  static final String READ = "reader.read";

  private final MongoCollection<BsonDocument> events;
  private final BackfillWindow window;
  private final int pageSize;
  private final Deque<BsonDocument> page = new ArrayDeque<>();
  private Long lastCreatedAt;
  private BsonValue lastId;
  private long read;
  private boolean exhausted;
  private Page ahead;
  private final ExecutorService prefetch =
      Executors.newSingleThreadExecutor(
          runnable -> {
            Thread thread = new Thread(runnable, "backfill-prefetch");
            thread.setDaemon(true);
            return thread;
          });

  HealthEventReader(MongoCollection<BsonDocument> events, BackfillWindow window, int pageSize) {
    this.events = events;
    this.window = window;
    this.pageSize = pageSize;
  }

  /** The window's filter on {@code createdAt}. */
  static Bson inWindow(BackfillWindow window) {
    return Filters.and(
        Filters.gte("createdAt", Date.from(window.start())),
        Filters.lt("createdAt", Date.from(window.end())));
  }

  @Override
  public void open(ExecutionContext context) {
    if (context.containsKey(LAST_CREATED_AT)) {
      lastCreatedAt = context.getLong(LAST_CREATED_AT);
      lastId = BsonDocument.parse(context.getString(LAST_ID)).get("_id");
    }
    read = context.containsKey(READ) ? context.getLong(READ) : 0;
  }

  @Override
  public BsonDocument read() {
    if (read >= window.maxEvents()) {
      return null;
    }
    if (page.isEmpty() && !exhausted) {
      Page fetched = ahead != null ? ahead : fetch();
      ahead = null;
      page.addAll(fetched.documents().join());
      exhausted = page.size() < fetched.limit();
    }
    BsonDocument next = page.pollFirst();
    if (next == null) {
      return null;
    }
    lastCreatedAt = next.getDateTime("createdAt").getValue();
    lastId = next.get("_id");
    read++;
    if (page.isEmpty() && !exhausted && read < window.maxEvents()) {
      // the chunk is read: fetch the next page while the writer delivers this one
      ahead = fetch();
    }
    return next;
  }

  @Override
  public Instant firstLeftOut() {
    if (read < window.maxEvents() || lastCreatedAt == null) {
      return null;
    }
    BsonDocument next =
        events.find(after(inWindow(window))).sort(Sorts.ascending("createdAt", "_id")).first();
    return next == null ? null : Instant.ofEpochMilli(next.getDateTime("createdAt").getValue());
  }

  private Bson after(Bson filter) {
    if (lastCreatedAt == null) {
      return filter;
    }
    Date last = new Date(lastCreatedAt);
    return Filters.and(
        filter,
        Filters.or(
            Filters.gt("createdAt", last),
            Filters.and(Filters.eq("createdAt", last), Filters.gt("_id", lastId))));
  }

  /** A page being fetched, after the event handed out last, on the prefetch thread. */
  private record Page(CompletableFuture<List<BsonDocument>> documents, int limit) {}

  private Page fetch() {
    Bson query = after(inWindow(window));
    int limit = (int) Math.min(pageSize, window.maxEvents() - read);
    return new Page(
        CompletableFuture.supplyAsync(
            () ->
                events
                    .find(query)
                    .sort(Sorts.ascending("createdAt", "_id"))
                    .limit(limit)
                    .into(new ArrayList<>()),
            prefetch),
        limit);
  }

  @Override
  public void update(ExecutionContext context) {
    if (lastCreatedAt != null) {
      context.putLong(LAST_CREATED_AT, lastCreatedAt);
      context.putString(LAST_ID, new BsonDocument("_id", lastId).toJson());
    }
    context.putLong(READ, read);
  }

  @Override
  public void close() {
    if (ahead != null) {
      ahead.documents().cancel(true);
      ahead = null;
    }
    page.clear();
    prefetch.shutdownNow();
  }
}
