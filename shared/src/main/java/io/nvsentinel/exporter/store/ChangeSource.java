package io.nvsentinel.exporter.store;

import io.nvsentinel.exporter.checkpoint.StreamPosition;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/** Opens the health-event change stream of a datastore at a position. */
public interface ChangeSource {

  /** How long one read waits for a change before it returns none. */
  Duration POLL_WAIT = Duration.ofMillis(500);

  /**
   * Opens the stream after {@code after} if given, else at {@code startAt}.
   *
   * @param after a position this store made, or {@code null}
   * @throws DatastoreUnavailableException when the store cannot be read now
   * @throws ChangeHistoryLostException when the history after {@code after} is gone
   */
  Cursor open(StreamPosition after, Instant startAt);

  /** The database server's clock, where it tells it; empty otherwise. */
  default Optional<Instant> serverTime() {
    return Optional.empty();
  }

  /** An open stream; its reads throw what {@link #open} does. */
  interface Cursor extends AutoCloseable {

    /** The next change, or {@code null} if none arrived within the poll wait. */
    ChangeEvent tryNext();

    @Override
    void close();
  }
}
