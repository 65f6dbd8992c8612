package io.nvsentinel.exporter.store.mongo;

import static org.assertj.core.api.Assertions.assertThat;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.config.ExporterProperties;
import java.time.Instant;
import org.bson.BsonBinary;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonObjectId;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.RawBsonDocument;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The checkpoint document is shared with the replaced (Go) exporter: found by {@code clientName},
 * its {@code resumeToken} in the form that exporter reads.
 */
class MongoCheckpointStoreTest {

  static final BsonDocument TOKEN =
      new BsonDocument("_data", new BsonString("82692A0B5C000000012B0229296E04"));
  static final ResumeToken POSITION = new ResumeToken(TOKEN);
  static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");

  final MongoServer server = new MongoServer(new MemoryBackend());
  final MongoClient client = MongoClients.create("mongodb://" + hostPort());
  final ExporterProperties.ResumeToken settings =
      new ExporterProperties.ResumeToken(
          "HealthEventsDatabase", "ResumeTokens", "exportergaps", "event-exporter");
  final CheckpointStore store = new MongoCheckpointStore(client, settings);

  private String hostPort() {
    var address = server.bind();
    return address.getHostString() + ":" + address.getPort();
  }

  @AfterEach
  void stop() {
    client.close();
    server.shutdownNow();
  }

  MongoCollection<BsonDocument> tokens() {
    return client
        .getDatabase("HealthEventsDatabase")
        .getCollection("ResumeTokens", BsonDocument.class);
  }

  void goExporterStored(Object token) {
    BsonDocument doc =
        new BsonDocument("_id", new BsonObjectId(new ObjectId()))
            .append("clientName", new BsonString("event-exporter"));
    if (token instanceof BsonDocument d) {
      doc.append("resumeToken", d);
    } else if (token instanceof BsonBinary b) {
      doc.append("resumeToken", b);
    } else if (token instanceof BsonString s) {
      doc.append("resumeToken", s);
    }
    tokens().insertOne(doc);
  }

  @Test
  void aPositionOfTheGoExporterIsOfferedForATakeoverNotTakenForOurs() {
    goExporterStored(TOKEN);

    assertThat(store.load("event-exporter")).isEmpty();
    assertThat(store.replacedExporterPosition("event-exporter"))
        .hasValueSatisfying(
            p -> {
              assertThat(p.position()).isEqualTo(POSITION);
              assertThat(p.problem()).isNull();
            });
    assertThat(store.replacedExporterPosition("another-client")).isEmpty();
  }

  @Test
  void theTokenBytesTheGoExporterStoresAsBinaryAreReadAsTheToken() {
    RawBsonDocument raw = RawBsonDocument.parse(TOKEN.toJson());
    byte[] bytes = new byte[raw.getByteBuffer().remaining()];
    raw.getByteBuffer().get(bytes);
    goExporterStored(new BsonBinary(bytes));

    assertThat(store.replacedExporterPosition("event-exporter").orElseThrow().position())
        .isEqualTo(POSITION);
  }

  @Test
  void aStoredValueThatIsNoTokenIsReportedWithWhy() {
    goExporterStored(new BsonBinary(new byte[] {1, 2, 3}));
    assertThat(store.replacedExporterPosition("event-exporter").orElseThrow())
        .satisfies(
            p -> {
              assertThat(p.position()).isNull();
              assertThat(p.problem()).contains("binary data");
            });

    tokens().deleteMany(new BsonDocument());
    goExporterStored(new BsonString("garbage"));
    assertThat(store.replacedExporterPosition("event-exporter").orElseThrow().problem())
        .contains("STRING");
  }

  @Test
  void savingWritesTheGoFormatIntoTheSameDocumentSoARollBackContinuesFromIt() {
    goExporterStored(new BsonDocument("_data", new BsonString("820000000000000001")));

    store.save(new Checkpoint("event-exporter", POSITION, null, null, NOW, NOW, NOW));

    assertThat(tokens().countDocuments()).isOne();
    BsonDocument doc = tokens().find().first();
    assertThat(doc.getString("clientName").getValue()).isEqualTo("event-exporter");
    // what the Go exporter decodes into bson.Raw: the token document itself
    assertThat(doc.getDocument("resumeToken")).isEqualTo(TOKEN);
    assertThat(store.load("event-exporter").orElseThrow().takenOverAt()).isEqualTo(NOW);
    assertThat(store.replacedExporterPosition("event-exporter")).isEmpty();
  }

  @Test
  void aTokenTheGoExporterWroteAfterARollBackIsTheOneOurCheckpointContinuesFrom() {
    store.save(Checkpoint.firstStart("event-exporter", Instant.ofEpochSecond(1), NOW, NOW));
    // rolled back: the Go exporter $sets its newer token into the shared document
    tokens()
        .updateOne(
            new BsonDocument("clientName", new BsonString("event-exporter")),
            new BsonDocument("$set", new BsonDocument("resumeToken", TOKEN)));

    Checkpoint checkpoint = store.load("event-exporter").orElseThrow();
    assertThat(checkpoint.position()).isEqualTo(POSITION);
    assertThat(checkpoint.backfillCutoff()).isEqualTo(NOW);
  }

  @Test
  void aCheckpointWrittenBeforeTheDocumentWasSharedIsStillOurs() {
    tokens()
        .insertOne(
            new BsonDocument("_id", new BsonString("event-exporter"))
                .append("resumeToken", TOKEN)
                .append("updatedAt", new BsonDateTime(NOW.toEpochMilli()))
                .append("backfillCutoff", new BsonDateTime(NOW.toEpochMilli())));

    assertThat(store.load("event-exporter").orElseThrow().position()).isEqualTo(POSITION);
    store.save(
        store.load("event-exporter").orElseThrow().advancedTo(POSITION, NOW, NOW.plusSeconds(1)));

    assertThat(tokens().countDocuments()).isOne();
    assertThat(tokens().find().first().getString("clientName").getValue())
        .isEqualTo("event-exporter");
  }

  @Test
  void noTokenYetLeavesNoTokenFieldForTheGoExporterToTrip() {
    store.save(Checkpoint.firstStart("event-exporter", Instant.ofEpochSecond(1), NOW, NOW));

    BsonDocument doc = tokens().find().first();
    assertThat(doc.containsKey("resumeToken")).isFalse();
    assertThat(doc.get("_id")).isEqualTo(new BsonString("event-exporter"));
    assertThat(doc.get("startAtOperationTime")).isEqualTo(new BsonTimestamp(1, 0));
    assertThat(doc.containsKey("clientName")).isTrue();
  }

  @Test
  void theClusterTimeIsReadFromAMongoDbTokenAndNothingIsMadeUpForAnotherShape() {
    assertThat(POSITION.time()).contains(Instant.ofEpochSecond(0x692A0B5CL));
    assertThat(new ResumeToken(new BsonDocument("_data", new BsonString("00ff"))).time()).isEmpty();
    assertThat(new ResumeToken(new BsonDocument("other", new BsonString("82"))).time()).isEmpty();
  }
}
