package io.nvsentinel.exporter.cloudevent;

import io.cloudevents.CloudEvent;
import io.micrometer.tracing.Span;
import org.bson.BsonValue;

/**
 * A CloudEvent ready for the sink: the event, its structured-mode JSON, the datastore document it
 * came from, and the span of its export (the no-op span with tracing off).
 */
public record OutgoingEvent(CloudEvent event, byte[] json, BsonValue documentId, Span span) {

  /** An event outside any trace (a re-driven dead letter, a benchmark's). */
  public OutgoingEvent(CloudEvent event, byte[] json, BsonValue documentId) {
    this(event, json, documentId, Span.NOOP);
  }

  public String id() {
    return event.getId();
  }
}
