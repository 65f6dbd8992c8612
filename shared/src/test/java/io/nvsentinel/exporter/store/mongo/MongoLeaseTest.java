package io.nvsentinel.exporter.store.mongo;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.LeaseContract;
import io.nvsentinel.exporter.checkpoint.StreamPosition;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.junit.jupiter.api.AfterEach;

/** The lease in the checkpoint document MongoDB shares with the Go exporter. */
class MongoLeaseTest extends LeaseContract {

  final EmbeddedMongo mongo = EmbeddedMongo.start();
  final MongoClient client = MongoClients.create(mongo.connectionString());

  @AfterEach
  void stop() {
    client.close();
    mongo.close();
  }

  @Override
  protected CheckpointStore store() {
    return new MongoCheckpointStore(
        client,
        new ExporterProperties.ResumeToken(
            "HealthEventsDatabase", "ResumeTokens", "exportergaps", CLIENT));
  }

  @Override
  protected StreamPosition position(int n) {
    return new ResumeToken(new BsonDocument("_data", new BsonString("82000000" + n)));
  }
}
