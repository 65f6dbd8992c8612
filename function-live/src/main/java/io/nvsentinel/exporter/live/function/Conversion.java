package io.nvsentinel.exporter.live.function;

import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import org.bson.BsonDocument;

/**
 * The first function's result: a CloudEvent to deliver, or the document and why it holds no usable
 * health event.
 */
public record Conversion(OutgoingEvent event, BsonDocument rejectedDocument, String rejection) {

  static Conversion of(OutgoingEvent event) {
    return new Conversion(event, null, null);
  }

  static Conversion rejected(BsonDocument document, String reason) {
    return new Conversion(null, document, reason);
  }
}
