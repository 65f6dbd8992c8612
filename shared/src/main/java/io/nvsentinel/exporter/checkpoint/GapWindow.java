package io.nvsentinel.exporter.checkpoint;

import java.time.Instant;

/**
 * An interval of history the live stream could not deliver (its resume token was no longer usable),
 * recorded so the backfill exports it.
 *
 * @param start the cluster time of the last event delivered before the stream broke
 * @param end when the stream restarted
 * @param status {@code pending} until a backfill exported it, then {@code done}
 */
public record GapWindow(
    String id,
    String client,
    Instant start,
    Instant end,
    String reason,
    Instant recordedAt,
    String status) {

  public static final String PENDING = "pending";
  public static final String DONE = "done";
}
