package io.nvsentinel.exporter.cloudevent;

import io.micrometer.tracing.Span;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * What a stored document becomes: a CloudEvent to deliver, an event the filter drops, or the
 * document set aside with the reason it cannot become one. Both triggers get it from {@link
 * EventConverter}; whoever accounts for it ends its {@link #span()}.
 */
public sealed interface Conversion {

  /** The stored document's {@code _id}, or {@code null} if it has none. */
  BsonValue documentId();

  /** The span of this event's export; the no-op span with tracing off. */
  Span span();

  /** A CloudEvent ready for the sink. */
  record Converted(OutgoingEvent event) implements Conversion {
    @Override
    public BsonValue documentId() {
      return event.documentId();
    }

    @Override
    public Span span() {
      return event.span();
    }
  }

  /**
   * {@code exporter.filter.expression} drops the event: it is accounted for as it is, never sent.
   */
  record Filtered(BsonValue documentId, String eventId, Span span) implements Conversion {}

  /** The document holds no usable health event; {@code reason} says why. */
  record Undecodable(BsonDocument document, String reason, Span span) implements Conversion {
    @Override
    public BsonValue documentId() {
      return document.get("_id");
    }
  }
}
