package io.nvsentinel.exporter.store.mongo;

import io.nvsentinel.exporter.checkpoint.StreamPosition;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * A MongoDB change-stream resume token, as the server gives it and NVSentinel's components store
 * it.
 *
 * <p>Its time: since MongoDB 4.2 the token's {@code _data} is a hex-encoded key string that starts
 * with the event's cluster time: type byte {@code 0x82} (timestamp), then four bytes of seconds and
 * four of increment, big-endian. Any other shape (another server, a foreign token) has no readable
 * time.
 */
public record ResumeToken(BsonDocument token) implements StreamPosition {

  private static final String TIMESTAMP_TYPE = "82";

  /** The token of a position this store made. */
  static BsonDocument of(StreamPosition position) {
    if (position == null) {
      return null;
    }
    if (position instanceof ResumeToken resumeToken) {
      return resumeToken.token();
    }
    throw new IllegalArgumentException(
        "the MongoDB store cannot continue from a position of another store: " + position);
  }

  @Override
  public Optional<Instant> time() {
    BsonValue data = token.get("_data");
    if (data == null || !data.isString()) {
      return Optional.empty();
    }
    String hex = data.asString().getValue();
    if (hex.length() < 18 || !hex.regionMatches(true, 0, TIMESTAMP_TYPE, 0, 2)) {
      return Optional.empty();
    }
    try {
      long seconds = HexFormat.fromHexDigitsToLong(hex, 2, 10);
      return seconds > 0 ? Optional.of(Instant.ofEpochSecond(seconds)) : Optional.empty();
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
