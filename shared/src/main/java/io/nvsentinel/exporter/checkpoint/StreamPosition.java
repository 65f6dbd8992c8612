package io.nvsentinel.exporter.checkpoint;

import java.time.Instant;
import java.util.Optional;

/**
 * Where a change stream stands after a change. Each store makes and stores its own kind (a MongoDB
 * resume token, a place in PostgreSQL's change log); the runner, the checkpoint policy and the
 * backfill carry it without opening it.
 */
public interface StreamPosition {

  /** When the change this position follows was applied, where the position tells. */
  Optional<Instant> time();
}
