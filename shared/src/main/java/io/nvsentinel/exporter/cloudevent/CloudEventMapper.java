package io.nvsentinel.exporter.cloudevent;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.cloudevents.CloudEvent;
import io.cloudevents.core.builder.CloudEventBuilder;
import io.cloudevents.core.format.EventFormat;
import io.cloudevents.jackson.JsonFormat;
import io.micrometer.tracing.Span;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.event.Entity;
import io.nvsentinel.exporter.event.HealthEvent;
import io.nvsentinel.exporter.event.Overrides;
import io.nvsentinel.exporter.event.StoredHealthEvent;
import io.nvsentinel.exporter.tracing.EventTracing;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.TreeMap;
import org.bson.BsonValue;

/**
 * Maps a stored health event to the CloudEvent the exporter we replace sends: its five attributes
 * and its {@code data} object key for key and value for value (NVSentinel's {@code
 * event-exporter/pkg/transformer/cloudevents.go}, held to its own test cases by {@code
 * ConformanceTest}), but with a deterministic {@code id} (see {@link EventIds}), the node as {@code
 * subject} ({@code exporter.sink.subject}) and, opt-in ({@code
 * exporter.sink.traceContextExtension}), the CloudEvents distributed-tracing extension carrying the
 * context of the event's export.
 */
public final class CloudEventMapper {

  public static final String TYPE = "com.nvidia.nvsentinel.health.v1";
  public static final String CONTENT_TYPE = "application/cloudevents+json";

  /** The CloudEvents JSON batch format: an array of structured-mode events in one request. */
  public static final String BATCH_CONTENT_TYPE = "application/cloudevents-batch+json";

  private static final JsonFactory JSON = new JsonFactory();
  private static final EventFormat FORMAT = new JsonFormat();

  private final URI source;
  private final Map<String, String> metadata;
  private final String database;
  private final String collection;
  private final Clock clock;
  private final boolean subject;
  private final boolean traceContextExtension;
  private final EventTracing tracing;

  public CloudEventMapper(ExporterProperties properties, Clock clock, EventTracing tracing) {
    this.source = URI.create("nvsentinel://" + properties.cluster() + "/healthevents");
    this.metadata = new TreeMap<>(properties.metadata());
    this.database = properties.datastore().eventDatabase();
    this.collection = properties.datastore().eventCollection();
    this.clock = clock;
    this.subject = properties.sink().subject();
    this.traceContextExtension = properties.sink().traceContextExtension();
    this.tracing = tracing;
  }

  /** Without tracing. */
  public CloudEventMapper(ExporterProperties properties, Clock clock) {
    this(properties, clock, EventTracing.OFF);
  }

  /** The CloudEvent id of the stored document with {@code _id} {@code documentId}. */
  public String eventId(BsonValue documentId) {
    return EventIds.of(database, collection, documentId);
  }

  /** The CloudEvent for {@code stored}, serialized in structured mode, outside any trace. */
  public OutgoingEvent map(StoredHealthEvent stored) {
    return map(stored, Span.NOOP);
  }

  /** The CloudEvent for {@code stored}, serialized in structured mode, exported in {@code span}. */
  public OutgoingEvent map(StoredHealthEvent stored, Span span) {
    Instant time = stored.eventTime();
    if (time == null) {
      time = clock.instant();
    }
    String id = eventId(stored.id());
    span.tag(EventTracing.EVENT_ID, id);
    byte[] data = data(stored.event(), time);
    CloudEventBuilder builder =
        CloudEventBuilder.v1()
            .withId(id)
            .withSource(source)
            .withType(TYPE)
            .withTime(time.atOffset(ZoneOffset.UTC))
            .withDataContentType("application/json")
            .withData(data);
    String node = stored.event().nodeName();
    if (subject && !node.isEmpty()) {
      // sinks route by node; the spec defines subject for exactly this (and forbids it empty)
      builder.withSubject(node);
    }
    if (traceContextExtension) {
      // the distributed-tracing extension: traceparent and, if any, tracestate of this export
      tracing.headers(span).forEach(builder::withExtension);
    }
    CloudEvent event = builder.build();
    return new OutgoingEvent(event, structured(event, data), stored.id(), span);
  }

  /**
   * The event in structured mode, byte for byte as the SDK's JSON format writes it (attributes in
   * its order, then {@code data} as it is), without its object mapper: that took a twentieth of the
   * live path's CPU (bench/README.md). An extension that is not a string goes the SDK's way.
   */
  static byte[] structured(CloudEvent event, byte[] data) {
    for (String name : event.getExtensionNames()) {
      if (!(event.getExtension(name) instanceof String)) {
        return FORMAT.serialize(event);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(data.length + 384);
    out.write('{');
    attribute(out, "specversion", event.getSpecVersion().toString(), true);
    attribute(out, "id", event.getId(), false);
    attribute(out, "source", event.getSource().toString(), false);
    attribute(out, "type", event.getType(), false);
    if (event.getDataContentType() != null) {
      attribute(out, "datacontenttype", event.getDataContentType(), false);
    }
    if (event.getDataSchema() != null) {
      attribute(out, "dataschema", event.getDataSchema().toString(), false);
    }
    if (event.getSubject() != null) {
      attribute(out, "subject", event.getSubject(), false);
    }
    if (event.getTime() != null) {
      attribute(out, "time", DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(event.getTime()), false);
    }
    for (String name : event.getExtensionNames()) {
      attribute(out, name, (String) event.getExtension(name), false);
    }
    out.writeBytes(DATA);
    out.writeBytes(data);
    out.write('}');
    return out.toByteArray();
  }

  private static final byte[] DATA = ",\"data\":".getBytes(StandardCharsets.UTF_8);

  private static void attribute(
      ByteArrayOutputStream out, String name, String value, boolean first) {
    if (!first) {
      out.write(',');
    }
    out.write('"');
    out.writeBytes(QUOTE.quoteAsUTF8(name));
    out.write('"');
    out.write(':');
    out.write('"');
    out.writeBytes(QUOTE.quoteAsUTF8(value));
    out.write('"');
  }

  private static final JsonStringEncoder QUOTE = JsonStringEncoder.getInstance();

  /**
   * {@code data} as the Go exporter's {@code ToCloudEvent} builds it, keys in the order Go's {@code
   * encoding/json} writes a map (sorted), so the object is the same key for key and value for
   * value.
   */
  private byte[] data(HealthEvent e, Instant fallbackTime) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(768);
    try (JsonGenerator json = JSON.createGenerator(out)) {
      json.writeStartObject();
      json.writeObjectFieldStart("healthEvent");
      json.writeStringField("agent", e.agent());
      json.writeStringField("checkName", e.checkName());
      json.writeStringField("componentClass", e.componentClass());
      if (!e.customRecommendedAction().isEmpty()) {
        json.writeStringField("customRecommendedAction", e.customRecommendedAction());
      }
      writeOverrides(json, "drainOverrides", e.drainOverrides());
      json.writeArrayFieldStart("entitiesImpacted");
      for (Entity entity : e.entitiesImpacted()) {
        json.writeStartObject();
        json.writeStringField("entityType", entity.entityType());
        json.writeStringField("entityValue", entity.entityValue());
        json.writeEndObject();
      }
      json.writeEndArray();
      json.writeArrayFieldStart("errorCode");
      for (String code : e.errorCode()) {
        json.writeString(code);
      }
      json.writeEndArray();
      Instant generated = e.generatedTimestamp() != null ? e.generatedTimestamp() : fallbackTime;
      json.writeStringField("generatedTimestamp", rfc3339Nano(generated));
      json.writeBooleanField("isFatal", e.isFatal());
      json.writeBooleanField("isHealthy", e.isHealthy());
      json.writeStringField("message", e.message());
      if (e.metadata() != null && !e.metadata().isEmpty()) {
        writeMap(json, "metadata", e.metadata());
      }
      json.writeStringField("nodeName", e.nodeName());
      json.writeStringField("processingStrategy", e.processingStrategy());
      writeOverrides(json, "quarantineOverrides", e.quarantineOverrides());
      json.writeStringField("recommendedAction", e.recommendedAction());
      json.writeNumberField("version", e.version());
      json.writeEndObject();
      writeMap(json, "metadata", metadata);
      json.writeEndObject();
    } catch (IOException impossible) {
      throw new UncheckedIOException("writing to memory", impossible);
    }
    return out.toByteArray();
  }

  /** As Go's {@code time.RFC3339Nano} in UTC: fractional seconds without trailing zeros. */
  static String rfc3339Nano(Instant time) {
    return DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(time.atOffset(ZoneOffset.UTC));
  }

  private static void writeMap(JsonGenerator json, String name, Map<String, String> map)
      throws IOException {
    json.writeObjectFieldStart(name);
    Map<String, String> sorted = map instanceof TreeMap ? map : new TreeMap<>(map);
    for (Map.Entry<String, String> entry : sorted.entrySet()) {
      json.writeStringField(entry.getKey(), entry.getValue());
    }
    json.writeEndObject();
  }

  private static void writeOverrides(JsonGenerator json, String name, Overrides overrides)
      throws IOException {
    if (overrides != null) {
      json.writeObjectFieldStart(name);
      json.writeBooleanField("force", overrides.force());
      json.writeBooleanField("skip", overrides.skip());
      json.writeEndObject();
    }
  }
}
