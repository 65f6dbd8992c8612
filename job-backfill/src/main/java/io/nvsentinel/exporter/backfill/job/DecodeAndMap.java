package io.nvsentinel.exporter.backfill.job;

import io.nvsentinel.exporter.cloudevent.CloudEventMapper;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.delivery.DeadLetterStore;
import io.nvsentinel.exporter.event.DecodeResult;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import org.bson.BsonDocument;
import org.springframework.batch.infrastructure.item.ItemProcessor;

/**
 * Decodes and maps with the shared core. A document without a usable health event is set aside as a
 * dead letter with its reason and filtered out; it never fails the job.
 */
final class DecodeAndMap implements ItemProcessor<BsonDocument, OutgoingEvent> {

  private final HealthEventDecoder decoder;
  private final CloudEventMapper mapper;
  private final DeadLetterStore deadLetters;

  DecodeAndMap(HealthEventDecoder decoder, CloudEventMapper mapper, DeadLetterStore deadLetters) {
    this.decoder = decoder;
    this.mapper = mapper;
    this.deadLetters = deadLetters;
  }

  @Override
  public OutgoingEvent process(BsonDocument document) {
    DecodeResult result = decoder.decode(document);
    if (result instanceof DecodeResult.Decoded decoded) {
      return mapper.map(decoded.event());
    }
    deadLetters.undecodable(document, ((DecodeResult.Rejected) result).reason());
    return null;
  }
}
