package io.nvsentinel.exporter.store;

import java.time.Instant;
import java.util.Map;
import org.bson.BsonDocument;

/**
 * Reads a window's stored health events in storage order ({@code createdAt}, then the store's key),
 * at most {@code maxEvents}, and can continue after the last event a previous run handed out.
 */
public interface WindowReader extends AutoCloseable {

  /** Starts reading, after the place {@code saved} names; empty on a first run. */
  void open(Map<String, Object> saved);

  /** The next event, or {@code null} at the end of the window or at {@code maxEvents}. */
  BsonDocument read();

  /** Where reading stands, to save with a committed chunk: plain values only. */
  Map<String, Object> state();

  /**
   * When the window stopped at {@code maxEvents}: the storage time of the first event it left
   * unexported. {@code null} when it was not cut short.
   */
  Instant firstLeftOut();

  @Override
  void close();
}
