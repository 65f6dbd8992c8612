package io.nvsentinel.exporter.store.mongo;

import static org.assertj.core.api.Assertions.assertThat;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.event.CommandListener;
import com.mongodb.event.CommandStartedEvent;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.config.TestProperties;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import io.nvsentinel.exporter.store.ChangeEvent;
import io.nvsentinel.exporter.store.ChangeSource;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.bson.BsonDocument;
import org.junit.jupiter.api.Test;

class MongoChangeSourceTest {

  /**
   * The embedded server answers an empty read at once instead of waiting for the poll wait; read in
   * a loop, as the runner does, an idle stream must not turn into thousands of reads a second.
   */
  @Test
  void anIdleStreamOnAServerThatDoesNotWaitIsReadAtMostOnceAPause() throws Exception {
    AtomicInteger reads = new AtomicInteger();
    CommandListener counter =
        new CommandListener() {
          @Override
          public void commandStarted(CommandStartedEvent event) {
            if (event.getCommandName().equals("getMore")) {
              reads.incrementAndGet();
            }
          }
        };
    ExporterProperties.Datastore datastore = TestProperties.mongoDatastore("unused", null);
    try (EmbeddedMongo mongo = EmbeddedMongo.start();
        MongoClient client =
            MongoClients.create(
                MongoClientSettings.builder()
                    .applyConnectionString(new ConnectionString(mongo.connectionString()))
                    .addCommandListener(counter)
                    .build())) {
      var source = new MongoChangeSource(client, datastore, List.of("insert"));
      try (ChangeSource.Cursor cursor = source.open(null, null)) {
        long end = System.nanoTime() + Duration.ofSeconds(1).toNanos();
        while (System.nanoTime() < end) {
          assertThat(cursor.tryNext()).isNull();
        }
        int idleReads = reads.get();
        assertThat(idleReads)
            .as("reads of an idle stream in one second")
            .isPositive()
            .isLessThanOrEqualTo((int) (1000 / MongoChangeSource.EMPTY_READ_PAUSE.toMillis()) + 5);

        // an event still arrives within about one pause
        client
            .getDatabase("HealthEventsDatabase")
            .getCollection("HealthEvents", BsonDocument.class)
            .insertOne(BsonDocument.parse("{_id: 1, healthevent: {nodeName: 'n1'}}"));
        long asked = System.nanoTime();
        ChangeEvent change = null;
        while (change == null && System.nanoTime() - asked < Duration.ofSeconds(5).toNanos()) {
          change = cursor.tryNext();
        }
        assertThat(change).isNotNull();
        assertThat(change.document().getDocument("healthevent").getString("nodeName").getValue())
            .isEqualTo("n1");
      }
    }
  }
}
