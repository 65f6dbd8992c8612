package io.nvsentinel.exporter.cloudevent;

import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * What a stored document becomes: a CloudEvent to deliver, or the document set aside with the
 * reason it cannot become one. Both triggers get it from {@link EventConverter}.
 */
public sealed interface Conversion {

  /** The stored document's {@code _id}, or {@code null} if it has none. */
  BsonValue documentId();

  /** A CloudEvent ready for the sink. */
  record Converted(OutgoingEvent event) implements Conversion {
    @Override
    public BsonValue documentId() {
      return event.documentId();
    }
  }

  /** The document holds no usable health event; {@code reason} says why. */
  record Undecodable(BsonDocument document, String reason) implements Conversion {
    @Override
    public BsonValue documentId() {
      return document.get("_id");
    }
  }
}
