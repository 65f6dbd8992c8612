package io.nvsentinel.exporter.live.function;

import io.micrometer.tracing.Span;
import io.nvsentinel.exporter.cloudevent.Conversion;
import io.nvsentinel.exporter.cloudevent.EventConverter;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import io.nvsentinel.exporter.delivery.DeliveryOutcome;
import io.nvsentinel.exporter.delivery.EventDeliverer;
import io.nvsentinel.exporter.delivery.WhenSinkUnavailable;
import io.nvsentinel.exporter.store.ChangeEvent;
import io.nvsentinel.exporter.tracing.EventTracing;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Function;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.json.JsonMode;
import org.bson.json.JsonWriterSettings;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The export as two stateless Spring Cloud Function beans, composed as the application's function
 * definition {@value #DEFINITION}: {@code toCloudEvent} converts a change with the shared {@link
 * EventConverter} (decode, filter, map), {@code deliver} sends the CloudEvent, sets the document
 * aside, or accounts for an event the filter dropped, and ends the event's span. Any trigger can
 * invoke the composition.
 */
@Configuration(proxyBeanMethods = false)
public class ExportFunctions {

  public static final String DEFINITION = "toCloudEvent|deliver";

  private static final JsonWriterSettings RELAXED =
      JsonWriterSettings.builder().outputMode(JsonMode.RELAXED).build();

  @Bean
  public Function<ChangeEvent, Conversion> toCloudEvent(EventConverter converter) {
    return change -> converter.convert(change.document());
  }

  @Bean
  public Function<Conversion, ExportResult> deliver(
      EventDeliverer deliverer, DeadLetterStore deadLetters) {
    return conversion -> {
      Span span = conversion.span();
      try {
        ExportResult result = account(conversion, deliverer, deadLetters);
        EventTracing.finish(span, result.outcome().toString());
        return result;
      } catch (RuntimeException | Error e) {
        // not accounted for: the caller tries the change again, in a span of its own
        span.error(e);
        span.end();
        throw e;
      }
    };
  }

  /**
   * The batched export: {@code toCloudEvent} for each change, the documents that hold no event set
   * aside first, then the events delivered in one request ({@link EventDeliverer#deliverBatch}).
   * The delivery's spans hang below the first event's span.
   */
  public static BatchExport batched(
      Function<ChangeEvent, Conversion> toCloudEvent,
      EventDeliverer deliverer,
      DeadLetterStore deadLetters) {
    return changes -> {
      List<Conversion> conversions = new ArrayList<>(changes.size());
      try {
        List<OutgoingEvent> events = new ArrayList<>(changes.size());
        for (ChangeEvent change : changes) {
          Conversion conversion = toCloudEvent.apply(change);
          conversions.add(conversion);
          if (conversion instanceof Conversion.Converted converted) {
            events.add(converted.event());
          }
        }
        List<ExportResult> results = new ArrayList<>(changes.size());
        for (Conversion conversion : conversions) {
          if (!(conversion instanceof Conversion.Converted)) {
            results.add(account(conversion, null, deadLetters));
          }
        }
        Iterator<DeliveryOutcome> outcomes =
            deliverer.deliverBatch(events, WhenSinkUnavailable.HOLD).iterator();
        Iterator<ExportResult> others = results.iterator();
        List<ExportResult> inOrder = new ArrayList<>(changes.size());
        for (Conversion conversion : conversions) {
          ExportResult result =
              conversion instanceof Conversion.Converted
                  ? result(outcomes.next(), idText(conversion.documentId()))
                  : others.next();
          EventTracing.finish(conversion.span(), result.outcome().toString());
          inOrder.add(result);
        }
        return inOrder;
      } catch (RuntimeException | Error e) {
        // not accounted for: the caller tries the changes again, in spans of their own
        for (Conversion conversion : conversions) {
          conversion.span().error(e);
          conversion.span().end();
        }
        throw e;
      }
    };
  }

  private static ExportResult account(
      Conversion conversion, EventDeliverer deliverer, DeadLetterStore deadLetters) {
    String documentId = idText(conversion.documentId());
    if (conversion instanceof Conversion.Undecodable undecodable) {
      deadLetters.undecodable(undecodable.document(), undecodable.reason());
      return new ExportResult(
          null, documentId, ExportResult.Outcome.UNDECODABLE, 0, undecodable.reason());
    }
    if (conversion instanceof Conversion.Filtered filtered) {
      return new ExportResult(
          filtered.eventId(), documentId, ExportResult.Outcome.FILTERED, 0, null);
    }
    return result(deliverer.deliver(((Conversion.Converted) conversion).event()), documentId);
  }

  private static ExportResult result(DeliveryOutcome outcome, String documentId) {
    if (outcome instanceof DeliveryOutcome.DeadLettered dead) {
      return new ExportResult(
          dead.eventId(),
          documentId,
          ExportResult.Outcome.DEAD_LETTERED,
          dead.attempts(),
          dead.reason());
    }
    return new ExportResult(
        outcome.eventId(), documentId, ExportResult.Outcome.DELIVERED, outcome.attempts(), null);
  }

  static String idText(BsonValue id) {
    if (id == null) {
      return null;
    }
    if (id.isString()) {
      return id.asString().getValue();
    }
    if (id.isObjectId()) {
      return id.asObjectId().getValue().toHexString();
    }
    String json = new BsonDocument("_id", id).toJson(RELAXED);
    return json.substring(json.indexOf(':') + 1, json.length() - 1).strip();
  }
}
