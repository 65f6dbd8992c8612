package io.nvsentinel.exporter.store.mongo;

import static org.assertj.core.api.Assertions.assertThat;

import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import io.nvsentinel.exporter.delivery.DeliveryFixture;
import io.nvsentinel.exporter.event.Samples;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MongoDeadLetterStoreTest {

  final DeliveryFixture fixture = new DeliveryFixture();

  @AfterEach
  void tearDown() throws Exception {
    fixture.close();
  }

  Document stored() {
    return fixture
        .client
        .getDatabase("HealthEventsDatabase")
        .getCollection("exporterdeadletters")
        .find()
        .first();
  }

  @Test
  void aDocumentTooLargeForMongoDbIsStoredTruncatedWithTheFactRecorded() {
    BsonDocument huge = Samples.good().get(0).clone();
    huge.put("healthevent", new BsonString("x".repeat(17 * 1024 * 1024)));
    DeadLetterStore store = fixture.deadLetters();

    store.undecodable(huge, "healthevent is a string, expected a document");

    Document stored =
        fixture
            .client
            .getDatabase("HealthEventsDatabase")
            .getCollection("exporterdeadletters")
            .find()
            .first();
    assertThat(stored).isNotNull();
    assertThat(stored.get("document")).isNull();
    assertThat(stored.getString("documentPrefix")).hasSize(MongoDeadLetterStore.PREFIX_CHARS);
    Document truncated = stored.get("truncated", Document.class);
    assertThat(truncated.getString("field")).isEqualTo("document");
    assertThat(truncated.getInteger("originalBytes")).isGreaterThan(16 * 1024 * 1024);
    assertThat(store.list(10))
        .singleElement()
        .satisfies(l -> assertThat(l.documentId()).isEqualTo(huge.get("_id")));
  }

  @Test
  void anOrdinaryEntryIsStoredWhole() {
    BsonDocument doc = Samples.good().get(1);
    fixture.deadLetters().undecodable(doc, "reason");
    Document stored =
        fixture
            .client
            .getDatabase("HealthEventsDatabase")
            .getCollection("exporterdeadletters")
            .find()
            .first();
    assertThat(stored.get("truncated")).isNull();
    assertThat(stored.get("document", Document.class).getObjectId("_id"))
        .isEqualTo(doc.getObjectId("_id").getValue());
  }
}
