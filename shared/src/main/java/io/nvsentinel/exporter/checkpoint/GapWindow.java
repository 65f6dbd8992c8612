package io.nvsentinel.exporter.checkpoint;

import java.time.Instant;
import java.util.Locale;

/**
 * An interval of history waiting for the backfill: one the live stream lost (its resume token was
 * no longer usable), or the rest of a backfill window that {@code maxEvents} cut short.
 *
 * @param start for a gap, the cluster time of the last event committed before the stream broke,
 *     less the overlap; for a remainder, the first event not exported
 * @param end when the stream restarted, or the end of the cut window
 */
public record GapWindow(
    String id,
    String client,
    Kind kind,
    Instant start,
    Instant end,
    String reason,
    Instant recordedAt,
    Status status) {

  /** What left the interval unexported. */
  public enum Kind {
    /** The live stream lost it; exported whole, never capped by {@code maxEvents}. */
    GAP,
    /** A backfill window stopped at {@code maxEvents}; the rest, capped again per run. */
    REMAINDER;

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Kind of(String label) {
      return label == null ? GAP : valueOf(label.toUpperCase(Locale.ROOT));
    }
  }

  /** Whether a backfill exported it yet. */
  public enum Status {
    PENDING,
    DONE;

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Status of(String label) {
      return valueOf(label.toUpperCase(Locale.ROOT));
    }
  }
}
