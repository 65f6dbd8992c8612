package io.nvsentinel.exporter.store;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.bson.BsonDocument;

/**
 * A {@link WindowReader} over a store's keyset pages: each page starts after the key of the event
 * handed out last (never skip/offset), and that key is the state a restart continues from. The next
 * page is fetched on a thread of its own while the current one is exported.
 *
 * @param <K> the store's key of an event in storage order
 */
public final class PagedWindowReader<K> implements WindowReader {

  /** Saved with the key: how many events the window has handed out. */
  public static final String READ = "reader.read";

  /** What a store supplies: its page query and its key as plain values. */
  public interface Pages<K> {

    /** Up to {@code limit} events of the window after {@code last} (all from the start if null). */
    List<Keyed<K>> after(K last, int limit);

    /** The key as plain values to save. */
    Map<String, Object> save(K key);

    /** The key saved by {@link #save}, or by an earlier version of the reader; null if none. */
    K restore(Map<String, Object> saved);

    /** How many events the saved run handed out. */
    default long count(Map<String, Object> saved) {
      return saved.get(READ) instanceof Number n ? n.longValue() : 0;
    }
  }

  /** An event with its key and storage time. */
  public record Keyed<K>(K key, Instant createdAt, BsonDocument document) {}

  private final Pages<K> pages;
  private final long maxEvents;
  private final int pageSize;
  private final Deque<Keyed<K>> page = new ArrayDeque<>();
  private final ExecutorService prefetch =
      Executors.newSingleThreadExecutor(
          runnable -> {
            Thread thread = new Thread(runnable, "backfill-prefetch");
            thread.setDaemon(true);
            return thread;
          });
  private K last;
  private long read;
  private boolean exhausted;
  private Page<K> ahead;

  public PagedWindowReader(Pages<K> pages, long maxEvents, int pageSize) {
    this.pages = pages;
    this.maxEvents = maxEvents;
    this.pageSize = pageSize;
  }

  @Override
  public void open(Map<String, Object> saved) {
    last = pages.restore(saved);
    read = pages.count(saved);
  }

  @Override
  public BsonDocument read() {
    if (read >= maxEvents) {
      return null;
    }
    if (page.isEmpty() && !exhausted) {
      Page<K> fetched = ahead != null ? ahead : fetch();
      ahead = null;
      try {
        page.addAll(fetched.events().join());
      } catch (CompletionException e) {
        throw e.getCause() instanceof RuntimeException cause ? cause : e;
      }
      exhausted = page.size() < fetched.limit();
    }
    Keyed<K> next = page.pollFirst();
    if (next == null) {
      return null;
    }
    last = next.key();
    read++;
    if (page.isEmpty() && !exhausted && read < maxEvents) {
      // the chunk is read: fetch the next page while the writer delivers this one
      ahead = fetch();
    }
    return next.document();
  }

  @Override
  public Instant firstLeftOut() {
    if (read < maxEvents || last == null) {
      return null;
    }
    List<Keyed<K>> next = pages.after(last, 1);
    return next.isEmpty() ? null : next.get(0).createdAt();
  }

  private record Page<K>(CompletableFuture<List<Keyed<K>>> events, int limit) {}

  private Page<K> fetch() {
    K after = last;
    int limit = (int) Math.min(pageSize, maxEvents - read);
    return new Page<>(
        CompletableFuture.supplyAsync(() -> pages.after(after, limit), prefetch), limit);
  }

  @Override
  public Map<String, Object> state() {
    Map<String, Object> state = new HashMap<>();
    if (last != null) {
      state.putAll(pages.save(last));
    }
    state.put(READ, read);
    return state;
  }

  @Override
  public void close() {
    if (ahead != null) {
      ahead.events().cancel(true);
      ahead = null;
    }
    page.clear();
    prefetch.shutdownNow();
  }
}
