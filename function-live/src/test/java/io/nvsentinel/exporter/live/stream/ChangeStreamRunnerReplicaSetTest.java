package io.nvsentinel.exporter.live.stream;

import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.mongodb.MongoDBContainer;

/**
 * The same contract against a real MongoDB replica set in a container; skipped where no Docker
 * engine runs (as on the build machines of this project).
 */
@Testcontainers(disabledWithoutDocker = true)
class ChangeStreamRunnerReplicaSetTest extends MongoRunnerContract {

  @Container static MongoDBContainer mongo = new MongoDBContainer("mongo:7.0").withReplicaSet();

  @Override
  String mongoUri() {
    return mongo.getReplicaSetUrl();
  }
}
