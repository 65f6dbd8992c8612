package io.nvsentinel.exporter.live.changestream;

import io.nvsentinel.exporter.live.function.ChangeEvent;
import java.time.Instant;
import java.util.Optional;
import org.bson.BsonDocument;
import org.bson.BsonTimestamp;

/** Opens the health-event change stream at a position. */
public interface ChangeStreamSource {

  /**
   * Opens the stream after {@code resumeAfter} if given, else at {@code startAt}.
   *
   * @throws com.mongodb.MongoException when the server refuses, e.g. for a token it no longer knows
   */
  Cursor open(BsonDocument resumeAfter, BsonTimestamp startAt);

  /** The database server's clock, where it tells it; empty otherwise. */
  default Optional<Instant> serverTime() {
    return Optional.empty();
  }

  /** An open stream. */
  interface Cursor extends AutoCloseable {

    /** The next change, or {@code null} if none arrived within the poll wait. */
    ChangeEvent tryNext();

    @Override
    void close();
  }
}
