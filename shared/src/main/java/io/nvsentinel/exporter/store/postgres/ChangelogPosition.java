package io.nvsentinel.exporter.store.postgres;

import io.nvsentinel.exporter.checkpoint.StreamPosition;
import java.time.Instant;
import java.util.Optional;
import org.bson.BsonDocument;

/**
 * A place in NVSentinel's PostgreSQL change log, in the form {@link PostgresChangelogSource} writes
 * ({@code {watermark, id, changedAt, changedAtMicros}}, with the replaced exporter's bound {@code
 * {afterChangedAtMicros, afterId}} carried on) and {@link PostgresCheckpointStore} keeps as JSON;
 * the replaced exporter's own position taken over has the bound only.
 */
public record ChangelogPosition(BsonDocument token) implements StreamPosition {

  /** The token of a position this store made. */
  static BsonDocument of(StreamPosition position) {
    if (position == null) {
      return null;
    }
    if (position instanceof ChangelogPosition changelog) {
      return changelog.token();
    }
    throw new IllegalArgumentException(
        "the PostgreSQL store cannot continue from a position of another store: " + position);
  }

  static ChangelogPosition parse(String json) {
    return json == null ? null : new ChangelogPosition(BsonDocument.parse(json));
  }

  String json() {
    return token.toJson();
  }

  @Override
  public Optional<Instant> time() {
    for (String time : new String[] {"changedAt", "afterChangedAt"}) {
      if (token.isDateTime(time)) {
        return Optional.of(Instant.ofEpochMilli(token.getDateTime(time).getValue()));
      }
    }
    return Optional.empty();
  }
}
