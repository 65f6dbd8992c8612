package io.nvsentinel.exporter.live.stream;

import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import org.junit.jupiter.api.AfterEach;

/**
 * The runner contract against the in-JVM MongoDB wire-protocol server with its oplog. Each test
 * gets its own server: that server's change streams report changes of every database, not only the
 * watched collection's, so tests sharing one would see each other's events.
 */
class ChangeStreamRunnerEmbeddedTest extends MongoRunnerContract {

  private EmbeddedMongo mongo;

  @Override
  String mongoUri() {
    if (mongo == null) {
      mongo = EmbeddedMongo.start();
    }
    return mongo.connectionString();
  }

  @AfterEach
  void stopMongo() {
    mongo.close();
  }
}
