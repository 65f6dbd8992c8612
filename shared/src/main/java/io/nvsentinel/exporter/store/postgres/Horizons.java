package io.nvsentinel.exporter.store.postgres;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The points at which {@link ChangelogReader} noted the change log's sequence: each the last id
 * handed out then, and a transaction id taken right after. Every id up to such a point is settled
 * (committed or gone for good) once no transaction older than that transaction id runs.
 */
final class Horizons {

  private record Horizon(long lastDrawn, long xid) {}

  /** Horizons kept while a long transaction holds the watermark; every other one is dropped. */
  private static final int MAX_HORIZONS = 1024;

  private final Deque<Horizon> noted = new ArrayDeque<>();

  /** The last id noted, or {@code floor} when none is noted above it. */
  long lastNoted(long floor) {
    return noted.isEmpty() ? floor : noted.peekLast().lastDrawn();
  }

  void add(long lastDrawn, long xid) {
    noted.addLast(new Horizon(lastDrawn, xid));
  }

  /**
   * The highest id settled now that the oldest running transaction is {@code oldestRunning}, or
   * {@code -1}. Horizons are in transaction-id order: every one before a settled one is settled.
   */
  long settled(long oldestRunning) {
    long settled = -1;
    for (Horizon h : noted) {
      if (h.xid() <= oldestRunning) {
        settled = h.lastDrawn();
      }
    }
    if (settled < 0) {
      while (noted.size() > MAX_HORIZONS) {
        thin();
      }
    }
    return settled;
  }

  /** Forgets the horizons at or below {@code watermark}: it has passed them. */
  void dropThrough(long watermark) {
    while (!noted.isEmpty() && noted.peekFirst().lastDrawn() <= watermark) {
      noted.pollFirst();
    }
  }

  /** Drops every other horizon: the watermark then moves in larger steps, never past a row. */
  private void thin() {
    List<Horizon> kept = new ArrayList<>();
    int i = 0;
    for (Horizon h : noted) {
      if (i++ % 2 == 1 || i == noted.size()) {
        kept.add(h);
      }
    }
    noted.clear();
    noted.addAll(kept);
  }
}
