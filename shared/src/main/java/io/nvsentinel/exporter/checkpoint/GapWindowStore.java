package io.nvsentinel.exporter.checkpoint;

import java.time.Instant;
import java.util.List;

/** Intervals the live stream lost or a command asked for, which the backfill exports. */
public interface GapWindowStore {

  /** Records an interval the live stream lost; recording the same start again changes nothing. */
  default GapWindow record(String client, Instant start, Instant end, String reason, Instant now) {
    return record(client, GapWindow.Kind.GAP, start, end, reason, now);
  }

  /**
   * Records an interval for the backfill. Idempotent: an interval of the same client, kind and
   * start is recorded once, so a recording retried after a failure does not double it.
   */
  GapWindow record(
      String client, GapWindow.Kind kind, Instant start, Instant end, String reason, Instant now);

  /** Every window, oldest first. */
  List<GapWindow> all();

  default List<GapWindow> pending() {
    return all().stream().filter(w -> w.status() == GapWindow.Status.PENDING).toList();
  }

  void markDone(String id, Instant now);
}
