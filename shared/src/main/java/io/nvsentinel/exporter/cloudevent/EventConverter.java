package io.nvsentinel.exporter.cloudevent;

import io.nvsentinel.exporter.event.DecodeResult;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import io.nvsentinel.exporter.event.StoredHealthEvent;
import java.util.function.Function;
import org.bson.BsonDocument;

/**
 * The one conversion step of both triggers: stored document in, {@link Conversion} out. It never
 * throws for a document: whatever about a document keeps it from becoming a CloudEvent is
 * deterministic, so retrying it would stall the stream on that document forever. Such a document is
 * {@link Conversion.Undecodable undecodable}, with the reason, and the caller sets it aside.
 */
public final class EventConverter {

  private final Function<BsonDocument, DecodeResult> decoder;
  private final Function<StoredHealthEvent, OutgoingEvent> mapper;
  private final Runnable countRejection;

  public EventConverter(HealthEventDecoder decoder, CloudEventMapper mapper) {
    this(decoder::decode, mapper::map, decoder::countRejection);
  }

  EventConverter(
      Function<BsonDocument, DecodeResult> decoder,
      Function<StoredHealthEvent, OutgoingEvent> mapper,
      Runnable countRejection) {
    this.decoder = decoder;
    this.mapper = mapper;
    this.countRejection = countRejection;
  }

  public Conversion convert(BsonDocument document) {
    if (document.get("_id") == null) {
      // every stored document has one; the CloudEvent id is derived from it
      return new Conversion.Undecodable(document, "the document has no _id");
    }
    try {
      DecodeResult result = decoder.apply(document);
      if (result instanceof DecodeResult.Rejected rejected) {
        return new Conversion.Undecodable(document, rejected.reason());
      }
      return new Conversion.Converted(mapper.apply(((DecodeResult.Decoded) result).event()));
    } catch (RuntimeException e) {
      countRejection.run();
      return new Conversion.Undecodable(document, "cannot be converted: " + e);
    }
  }
}
