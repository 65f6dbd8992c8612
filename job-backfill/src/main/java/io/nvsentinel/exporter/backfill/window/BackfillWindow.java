package io.nvsentinel.exporter.backfill.window;

import java.time.Instant;

/**
 * A time window of stored events to export: {@code createdAt} in {@code [start, end)}.
 *
 * @param gapWindowId the live exporter's gap window this reruns, or {@code null}
 */
public record BackfillWindow(Instant start, Instant end, long maxEvents, String gapWindowId) {

  public BackfillWindow {
    if (!start.isBefore(end)) {
      throw new IllegalArgumentException(
          "the window start " + start + " must be before its end " + end);
    }
  }

  @Override
  public String toString() {
    return "["
        + start
        + ", "
        + end
        + ")"
        + (gapWindowId == null ? "" : " (gap window " + gapWindowId + ")");
  }
}
