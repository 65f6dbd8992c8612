package io.nvsentinel.exporter.checkpoint;

import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * The cluster time a MongoDB change-stream token points at. Since MongoDB 4.2 the token's {@code
 * _data} is a hex-encoded key string that starts with the event's cluster time: type byte {@code
 * 0x82} (timestamp), then four bytes of seconds and four of increment, big-endian. A position in
 * the PostgreSQL change log holds its time as a date. Any other shape (another server, a foreign
 * token) has no readable time.
 */
public final class ResumeTokenTime {

  private static final String TIMESTAMP_TYPE = "82";

  private ResumeTokenTime() {}

  public static Optional<Instant> of(BsonDocument token) {
    // a position in NVSentinel's PostgreSQL change log carries its time
    for (String time : new String[] {"changedAt", "afterChangedAt"}) {
      if (token != null && token.isDateTime(time)) {
        return Optional.of(Instant.ofEpochMilli(token.getDateTime(time).getValue()));
      }
    }
    BsonValue data = token == null ? null : token.get("_data");
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
