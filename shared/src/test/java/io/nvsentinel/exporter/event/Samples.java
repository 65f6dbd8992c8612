package io.nvsentinel.exporter.event;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bson.BsonDocument;

/** The sample and malformed datastore documents shipped with the tests. */
public final class Samples {

  private Samples() {}

  /** Every document of {@code health-events.sample.jsonl}. */
  public static List<BsonDocument> good() {
    return lines("data/health-events.sample.jsonl").stream().map(BsonDocument::parse).toList();
  }

  /** Every document of {@code health-events.malformed.jsonl}, keyed by the case it represents. */
  public static Map<String, BsonDocument> malformed() {
    return cases("data/health-events.malformed.jsonl");
  }

  /**
   * Every document of {@code health-events.poison.jsonl}: values that once made the decoder or the
   * mapper throw, keyed by the case.
   */
  public static Map<String, BsonDocument> poison() {
    return cases("data/health-events.poison.jsonl");
  }

  private static Map<String, BsonDocument> cases(String resource) {
    Map<String, BsonDocument> cases = new LinkedHashMap<>();
    for (String line : lines(resource)) {
      BsonDocument entry = BsonDocument.parse(line);
      cases.put(entry.getString("case").getValue(), entry.getDocument("document"));
    }
    return cases;
  }

  private static List<String> lines(String resource) {
    try (BufferedReader reader =
        new BufferedReader(
            new InputStreamReader(
                Objects.requireNonNull(
                    Samples.class.getClassLoader().getResourceAsStream(resource), resource),
                StandardCharsets.UTF_8))) {
      return reader.lines().filter(line -> !line.isBlank()).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
