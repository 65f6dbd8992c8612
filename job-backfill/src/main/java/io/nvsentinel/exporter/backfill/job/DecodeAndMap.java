package io.nvsentinel.exporter.backfill.job;

import io.nvsentinel.exporter.cloudevent.Conversion;
import io.nvsentinel.exporter.cloudevent.EventConverter;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import io.nvsentinel.exporter.tracing.EventTracing;
import org.bson.BsonDocument;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.batch.infrastructure.item.ItemProcessor;
import org.springframework.batch.infrastructure.item.ItemStream;

/**
 * Converts with the shared {@link EventConverter}, the same step as the live exporter's. A document
 * that cannot become a CloudEvent is set aside as a dead letter with its reason and filtered out;
 * it never fails the job. An event {@code exporter.filter.expression} drops is filtered out too,
 * and counted apart (Spring Batch's filter count holds both), in the step's execution context so
 * that a restarted window goes on counting where the last committed chunk left it.
 */
final class DecodeAndMap implements ItemProcessor<BsonDocument, OutgoingEvent>, ItemStream {

  /** Step execution-context key of the events the filter expression dropped. */
  static final String FILTERED = "backfill.filtered";

  private final EventConverter converter;
  private final DeadLetterStore deadLetters;
  private long committed;
  private long pending;

  DecodeAndMap(EventConverter converter, DeadLetterStore deadLetters) {
    this.converter = converter;
    this.deadLetters = deadLetters;
  }

  @Override
  public OutgoingEvent process(BsonDocument document) {
    Conversion conversion = converter.convert(document);
    if (conversion instanceof Conversion.Converted converted) {
      return converted.event(); // its span ends with its delivery
    }
    if (conversion instanceof Conversion.Filtered) {
      pending++;
      EventTracing.finish(conversion.span(), "filtered");
      return null;
    }
    Conversion.Undecodable undecodable = (Conversion.Undecodable) conversion;
    deadLetters.undecodable(undecodable.document(), undecodable.reason());
    EventTracing.finish(conversion.span(), "undecodable");
    return null;
  }

  @Override
  public void open(ExecutionContext context) {
    committed = context.getLong(FILTERED, 0);
    pending = 0;
  }

  /** Called as a chunk commits: what it filtered becomes part of the committed count. */
  @Override
  public void update(ExecutionContext context) {
    committed += pending;
    pending = 0;
    context.putLong(FILTERED, committed);
  }

  /** The events the filter expression dropped in {@code context}'s step, as far as committed. */
  static long filtered(ExecutionContext context) {
    return context.getLong(FILTERED, 0);
  }
}
