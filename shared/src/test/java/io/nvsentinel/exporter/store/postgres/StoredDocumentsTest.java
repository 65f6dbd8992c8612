package io.nvsentinel.exporter.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nvsentinel.exporter.event.DecodeResult;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import io.nvsentinel.exporter.event.Samples;
import java.time.Instant;
import java.util.UUID;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.json.JsonMode;
import org.bson.json.JsonWriterSettings;
import org.junit.jupiter.api.Test;

class StoredDocumentsTest {

  static final UUID ROW = UUID.fromString("0b0c4d5e-1f2a-4b3c-8d9e-0f1a2b3c4d5e");

  @Test
  void theRowIdIsTheDocumentsIdWhateverTheJsonHolds() {
    BsonDocument doc =
        StoredDocuments.of(ROW, "{\"_id\": 7, \"createdAt\": \"2026-11-20T12:00:00Z\"}");
    assertThat(doc.get("_id")).isEqualTo(new BsonString(ROW.toString()));
  }

  /** Go writes createdAt as an RFC 3339 string: read to the nanosecond, not counted as a repair. */
  @Test
  void createdAtAsGoWritesItIsReadAsATimeToTheNanosecond() {
    BsonDocument doc =
        StoredDocuments.of(
            ROW, "{\"createdAt\": \"2026-11-20T12:00:00.123456789Z\", \"healthevent\": {}}");
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    DecodeResult.Decoded decoded =
        (DecodeResult.Decoded) new HealthEventDecoder(0, meters).decode(doc);
    assertThat(decoded.event().createdAt())
        .isEqualTo(Instant.parse("2026-11-20T12:00:00.123456789Z"));
    assertThat(decoded.event().warnings()).isEmpty();

    BsonDocument garbage = StoredDocuments.of(ROW, "{\"createdAt\": \"yesterday\"}");
    assertThat(garbage.getString("createdAt").getValue())
        .as("what is no time is left for the decoder to judge")
        .isEqualTo("yesterday");
  }

  /**
   * JSONB writes a float such as Go's 1e+30 as its 31 digits: read as a double, the rest of the
   * document as it is, instead of an exception that would stop the stream or fail a window.
   */
  @Test
  void aNumberBeyondLongAsJsonbWritesItIsReadAsADouble() {
    BsonDocument doc =
        StoredDocuments.of(
            ROW,
            "{\"healthevent\": {\"generatedTimestamp\": {\"seconds\": 1763640000,"
                + " \"nanos\": 1000000000000000000000000000000}, \"errorCode\": [\"79\"],"
                + " \"isFatal\": true, \"metadata\": null, \"version\": 1.5}}");
    BsonDocument event = doc.getDocument("healthevent");
    assertThat(event.getDocument("generatedTimestamp").get("nanos"))
        .isEqualTo(new BsonDouble(1e30));
    assertThat(event.getDocument("generatedTimestamp").get("seconds"))
        .isEqualTo(new BsonInt32(1763640000));
    assertThat(event.getArray("errorCode").get(0)).isEqualTo(new BsonString("79"));
    assertThat(event.getBoolean("isFatal").getValue()).isTrue();
    assertThat(event.isNull("metadata")).isTrue();
    assertThat(event.getDouble("version").getValue()).isEqualTo(1.5);
    assertThat(doc.get("_id")).isEqualTo(new BsonString(ROW.toString()));
  }

  /**
   * The one-pass reader gives the same document as the MongoDB JSON reader for every sample as
   * NVSentinel's PostgreSQL store writes it (plain JSON), numbers typed by size.
   */
  @Test
  void plainJsonIsReadAsTheMongoDbReaderReadsIt() throws Exception {
    String json =
        "{\"a\": 1, \"b\": 4294967296, \"c\": 1.5, \"d\": -2e3, \"e\": \"x\\u00e9\\\"\","
            + " \"f\": [true, false, null, {\"g\": []}], \"h\": {}}";
    assertThat(StoredDocuments.parse(json)).isEqualTo(BsonDocument.parse(json));
    for (BsonDocument sample : Samples.good()) {
      String plain =
          sample.toJson(JsonWriterSettings.builder().outputMode(JsonMode.RELAXED).build());
      if (!plain.contains("\"$")) {
        assertThat(StoredDocuments.parse(plain)).isEqualTo(BsonDocument.parse(plain));
      }
    }
    assertThat(StoredDocuments.parse("[1]")).isNull();
    assertThat(StoredDocuments.parse("{} {}")).isNull();
  }

  /** Documents copied from a MongoDB store keep their Extended JSON types. */
  @Test
  void extendedJsonKeepsItsTypes() {
    BsonDocument doc =
        StoredDocuments.of(
            ROW, "{\"healthevent\": {\"t\": {\"$date\": \"2026-11-20T12:00:00Z\"}}}");
    assertThat(doc.getDocument("healthevent").get("t").isDateTime()).isTrue();
  }

  @Test
  void jsonThatIsNoObjectIsKeptAsUnreadable() {
    assertThat(StoredDocuments.of(ROW, "[1, 2, 3]").getString("unreadable").getValue())
        .isEqualTo("[1, 2, 3]");
    assertThat(
            StoredDocuments.of(ROW, "[1e400, 100000000000000000000000]").containsKey("unreadable"))
        .isTrue();
  }
}
