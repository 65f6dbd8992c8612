package io.nvsentinel.exporter.live.changestream;

import com.mongodb.client.MongoClient;
import io.nvsentinel.exporter.config.ExporterProperties;
import java.time.Duration;
import java.util.List;

/** Factory for the change-stream source of the health-event collection. */
public final class ChangeStreams {

  private ChangeStreams() {}

  public static ChangeStreamSource of(
      MongoClient mongo, ExporterProperties.Datastore datastore, List<String> operationTypes) {
    return new MongoChangeStreamSource(
        mongo, datastore, operationTypes, Duration.ofMillis(ChangeStreamRunner.POLL_MILLIS));
  }
}
