package io.nvsentinel.exporter.cloudevent;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.tracing.Span;
import io.nvsentinel.exporter.event.DecodeResult;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import io.nvsentinel.exporter.event.StoredHealthEvent;
import io.nvsentinel.exporter.filter.EventFilter;
import io.nvsentinel.exporter.tracing.EventTracing;
import java.util.Locale;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.bson.BsonDocument;

/**
 * The one conversion step of both triggers: stored document in, {@link Conversion} out — decode,
 * filter, map, each in the event's span. It never throws for a document: whatever about a document
 * keeps it from becoming a CloudEvent is deterministic, so retrying it would stall the stream on
 * that document forever. Such a document is {@link Conversion.Undecodable undecodable}, with the
 * reason, and the caller sets it aside. An event {@code exporter.filter.expression} drops is {@link
 * Conversion.Filtered filtered}: accounted for, never sent.
 */
public final class EventConverter {

  private final Function<BsonDocument, DecodeResult> decoder;
  private final BiFunction<StoredHealthEvent, Span, OutgoingEvent> mapper;
  private final CloudEventMapper ids;
  private final Runnable countRejection;
  private final EventFilter filter;
  private final EventTracing tracing;

  public EventConverter(
      HealthEventDecoder decoder,
      CloudEventMapper mapper,
      EventFilter filter,
      EventTracing tracing) {
    this(decoder::decode, mapper::map, mapper, decoder::countRejection, filter, tracing);
  }

  /** Without a filter or tracing. */
  public EventConverter(HealthEventDecoder decoder, CloudEventMapper mapper) {
    this(decoder, mapper, EventFilter.compile("", new SimpleMeterRegistry()), EventTracing.OFF);
  }

  EventConverter(
      Function<BsonDocument, DecodeResult> decoder,
      BiFunction<StoredHealthEvent, Span, OutgoingEvent> mapper,
      CloudEventMapper ids,
      Runnable countRejection,
      EventFilter filter,
      EventTracing tracing) {
    this.decoder = decoder;
    this.mapper = mapper;
    this.ids = ids;
    this.countRejection = countRejection;
    this.filter = filter;
    this.tracing = tracing;
  }

  /** Converts {@code document}; the result's span is open, for whoever accounts for it to end. */
  public Conversion convert(BsonDocument document) {
    Span span = tracing.startEvent(document);
    if (document.get("_id") == null) {
      // every stored document has one; the CloudEvent id is derived from it
      return new Conversion.Undecodable(document, "the document has no _id", span);
    }
    Span transform = tracing.startChild(span, EventTracing.TRANSFORM);
    try {
      DecodeResult result = decoder.apply(document);
      if (result instanceof DecodeResult.Rejected rejected) {
        return new Conversion.Undecodable(document, rejected.reason(), span);
      }
      StoredHealthEvent stored = ((DecodeResult.Decoded) result).event();
      if (!filtered(stored, transform)) {
        return new Conversion.Converted(mapper.apply(stored, span));
      }
      String eventId = ids.eventId(stored.id());
      span.tag(EventTracing.EVENT_ID, eventId);
      return new Conversion.Filtered(stored.id(), eventId, span);
    } catch (RuntimeException e) {
      countRejection.run();
      transform.error(e);
      return new Conversion.Undecodable(document, "cannot be converted: " + e, span);
    } finally {
      transform.end();
    }
  }

  private boolean filtered(StoredHealthEvent stored, Span transform) {
    if (!filter.active()) {
      return false;
    }
    Span span = tracing.startChild(transform, EventTracing.FILTER);
    try {
      EventFilter.Verdict verdict = filter.evaluate(stored.event());
      span.tag("event_exporter.filter.verdict", verdict.name().toLowerCase(Locale.ROOT));
      return !verdict.exported();
    } finally {
      span.end();
    }
  }
}
