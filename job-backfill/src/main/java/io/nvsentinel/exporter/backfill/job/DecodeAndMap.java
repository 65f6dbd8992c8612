package io.nvsentinel.exporter.backfill.job;

import io.nvsentinel.exporter.cloudevent.Conversion;
import io.nvsentinel.exporter.cloudevent.EventConverter;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.delivery.DeadLetterStore;
import org.bson.BsonDocument;
import org.springframework.batch.infrastructure.item.ItemProcessor;

/**
 * Converts with the shared {@link EventConverter}, the same step as the live exporter's. A document
 * that cannot become a CloudEvent is set aside as a dead letter with its reason and filtered out;
 * it never fails the job.
 */
final class DecodeAndMap implements ItemProcessor<BsonDocument, OutgoingEvent> {

  private final EventConverter converter;
  private final DeadLetterStore deadLetters;

  DecodeAndMap(EventConverter converter, DeadLetterStore deadLetters) {
    this.converter = converter;
    this.deadLetters = deadLetters;
  }

  @Override
  public OutgoingEvent process(BsonDocument document) {
    Conversion conversion = converter.convert(document);
    if (conversion instanceof Conversion.Converted converted) {
      return converted.event();
    }
    Conversion.Undecodable undecodable = (Conversion.Undecodable) conversion;
    deadLetters.undecodable(undecodable.document(), undecodable.reason());
    return null;
  }
}
