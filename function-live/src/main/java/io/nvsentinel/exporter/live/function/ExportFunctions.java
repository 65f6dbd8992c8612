package io.nvsentinel.exporter.live.function;

import io.nvsentinel.exporter.cloudevent.CloudEventMapper;
import io.nvsentinel.exporter.delivery.DeadLetterStore;
import io.nvsentinel.exporter.delivery.DeliveryOutcome;
import io.nvsentinel.exporter.delivery.EventDeliverer;
import io.nvsentinel.exporter.event.DecodeResult;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import java.util.function.Function;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.json.JsonMode;
import org.bson.json.JsonWriterSettings;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The export as two stateless Spring Cloud Function beans, composed as the application's function
 * definition {@value #DEFINITION}: {@code toCloudEvent} decodes and maps a change, {@code deliver}
 * sends the CloudEvent or sets the change aside. Any trigger can invoke the composition.
 */
@Configuration(proxyBeanMethods = false)
public class ExportFunctions {

  public static final String DEFINITION = "toCloudEvent|deliver";

  private static final JsonWriterSettings RELAXED =
      JsonWriterSettings.builder().outputMode(JsonMode.RELAXED).build();

  @Bean
  public Function<ChangeEvent, Conversion> toCloudEvent(
      HealthEventDecoder decoder, CloudEventMapper mapper) {
    return change -> {
      DecodeResult result = decoder.decode(change.document());
      if (result instanceof DecodeResult.Decoded decoded) {
        return Conversion.of(mapper.map(decoded.event()));
      }
      return Conversion.rejected(change.document(), ((DecodeResult.Rejected) result).reason());
    };
  }

  @Bean
  public Function<Conversion, ExportResult> deliver(
      EventDeliverer deliverer, DeadLetterStore deadLetters) {
    return conversion -> {
      if (conversion.event() == null) {
        deadLetters.undecodable(conversion.rejectedDocument(), conversion.rejection());
        return new ExportResult(
            null,
            idText(conversion.rejectedDocument().get("_id")),
            ExportResult.UNDECODABLE,
            0,
            conversion.rejection());
      }
      String documentId = idText(conversion.event().documentId());
      DeliveryOutcome outcome = deliverer.deliver(conversion.event());
      if (outcome instanceof DeliveryOutcome.DeadLettered dead) {
        return new ExportResult(
            dead.eventId(), documentId, ExportResult.DEAD_LETTERED, dead.attempts(), dead.reason());
      }
      return new ExportResult(
          outcome.eventId(), documentId, ExportResult.DELIVERED, outcome.attempts(), null);
    };
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
