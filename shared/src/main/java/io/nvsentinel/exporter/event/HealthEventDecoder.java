package io.nvsentinel.exporter.event;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.metrics.ExporterMetric;
import java.time.Instant;
import java.util.Locale;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * Turns a datastore document into a {@link StoredHealthEvent} without ever throwing for bad data.
 *
 * <p>Whatever can be exported is exported: wrong types are converted, enum values the enum does not
 * declare become their digits (or {@code UNKNOWN} when they are no number at all), and each such
 * repair is listed in the result and counted in {@code
 * health_events_exporter_decode_repairs_total{field}}. A document without a usable {@code
 * healthevent} sub-document is {@link DecodeResult.Rejected rejected} with the reason and counted
 * in {@code health_events_exporter_transform_errors_total}, so the caller can set it aside.
 */
public final class HealthEventDecoder {

  static final String REPAIRS_METRIC = ExporterMetric.DECODE_REPAIRS.meterName();
  static final String TRANSFORM_ERRORS_METRIC = ExporterMetric.TRANSFORM_ERRORS.meterName();

  private final int maxMessageLength;
  private final MeterRegistry meters;
  private final Counter rejections;

  /**
   * @param maxMessageLength longest message exported as is, in characters; 0 for no limit
   */
  public HealthEventDecoder(int maxMessageLength, MeterRegistry meters) {
    this.maxMessageLength = maxMessageLength;
    this.meters = meters;
    this.rejections =
        Counter.builder(TRANSFORM_ERRORS_METRIC)
            .description("Documents that could not be turned into a CloudEvent")
            .register(meters);
  }

  public DecodeResult decode(BsonDocument document) {
    BsonValue id = document.get("_id");
    BsonValue raw = document.get("healthevent");
    String reason = null;
    if (raw == null) {
      reason = "the document has no healthevent field";
    } else if (raw.isNull()) {
      reason = "healthevent is null";
    } else if (!raw.isDocument()) {
      reason = "healthevent is a " + DocumentFields.typeName(raw) + ", expected a document";
    }
    if (reason != null) {
      rejections.increment();
      return new DecodeResult.Rejected(id, reason);
    }
    DocumentFields fields = new DocumentFields(raw.asDocument());
    Instant createdAt = fields.instant(document.get("createdAt"), "createdAt");
    HealthEvent event =
        new HealthEvent(
            fields.integer("version"),
            fields.string("agent"),
            fields.string("componentClass"),
            fields.string("checkName"),
            fields.bool("isFatal"),
            fields.bool("isHealthy"),
            fields.message(maxMessageLength),
            fields.enumName(ProtoEnum.RECOMMENDED_ACTION),
            fields.errorCodes(),
            fields.entities(),
            fields.metadata(),
            fields.instant(fields.get("generatedTimestamp"), "generatedTimestamp"),
            fields.string("nodeName"),
            fields.overrides("quarantineOverrides"),
            fields.overrides("drainOverrides"),
            fields.enumName(ProtoEnum.PROCESSING_STRATEGY),
            fields.string("customRecommendedAction"));
    for (DecodeWarning warning : fields.warnings) {
      meters.counter(REPAIRS_METRIC, "field", warning.field()).increment();
    }
    return new DecodeResult.Decoded(new StoredHealthEvent(id, createdAt, event, fields.warnings));
  }

  /**
   * Counts a document that failed after decoding, in {@code
   * health_events_exporter_transform_errors_total} like the ones rejected here.
   */
  public void countRejection() {
    rejections.increment();
  }

  private static String typeName(BsonValue value) {
    return value.getBsonType().name().toLowerCase(Locale.ROOT).replace("_", " ");
  }
}
