package io.nvsentinel.exporter.cloudevent;

import io.cloudevents.CloudEvent;
import org.bson.BsonValue;

/**
 * A CloudEvent ready for the sink: the event, its structured-mode JSON, and the datastore document
 * it came from.
 */
public record OutgoingEvent(CloudEvent event, byte[] json, BsonValue documentId) {

  public String id() {
    return event.getId();
  }
}
