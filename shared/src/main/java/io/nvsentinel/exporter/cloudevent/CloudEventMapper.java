package io.nvsentinel.exporter.cloudevent;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.TreeMap;
import org.bson.BsonValue;

/**
 * Maps a stored health event to the CloudEvent the exporter we replace sends, byte for byte in its
 * fields, but with a deterministic {@code id} (see {@link EventIds}), the node as {@code subject}
 * ({@code exporter.sink.subject}) and, opt-in ({@code exporter.sink.traceContextExtension}), the
 * CloudEvents distributed-tracing extension carrying the context of the event's export.
 */
public final class CloudEventMapper {

  public static final String TYPE = "com.nvidia.nvsentinel.health.v1";
  public static final String CONTENT_TYPE = "application/cloudevents+json";

  private static final ObjectMapper JSON = new ObjectMapper();
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
    ObjectNode data = JSON.createObjectNode();
    ObjectNode meta = data.putObject("metadata");
    metadata.forEach(meta::put);
    data.set("healthEvent", healthEvent(stored.event(), time));
    String id = eventId(stored.id());
    span.tag(EventTracing.EVENT_ID, id);
    CloudEventBuilder builder =
        CloudEventBuilder.v1()
            .withId(id)
            .withSource(source)
            .withType(TYPE)
            .withTime(time.atOffset(ZoneOffset.UTC))
            .withDataContentType("application/json")
            .withData(toBytes(data));
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
    return new OutgoingEvent(event, FORMAT.serialize(event), stored.id(), span);
  }

  private static ObjectNode healthEvent(HealthEvent e, Instant fallbackTime) {
    ObjectNode node = JSON.createObjectNode();
    node.put("version", e.version());
    node.put("agent", e.agent());
    node.put("componentClass", e.componentClass());
    node.put("checkName", e.checkName());
    node.put("isFatal", e.isFatal());
    node.put("isHealthy", e.isHealthy());
    node.put("message", e.message());
    node.put("recommendedAction", e.recommendedAction().code());
    ArrayNode codes = node.putArray("errorCode");
    e.errorCode().forEach(codes::add);
    ArrayNode entities = node.putArray("entitiesImpacted");
    for (Entity entity : e.entitiesImpacted()) {
      entities
          .addObject()
          .put("entityType", entity.entityType())
          .put("entityValue", entity.entityValue());
    }
    Instant generated = e.generatedTimestamp() != null ? e.generatedTimestamp() : fallbackTime;
    node.put("generatedTimestamp", generated.toString());
    node.put("nodeName", e.nodeName());
    if (e.metadata() != null) {
      ObjectNode own = node.putObject("metadata");
      new TreeMap<>(e.metadata()).forEach(own::put);
    }
    putOverrides(node, "quarantineOverrides", e.quarantineOverrides());
    putOverrides(node, "drainOverrides", e.drainOverrides());
    e.gpuUuid().ifPresent(uuid -> node.put("gpuUUID", uuid));
    return node;
  }

  private static void putOverrides(ObjectNode node, String name, Overrides overrides) {
    if (overrides != null) {
      node.putObject(name).put("force", overrides.force()).put("skip", overrides.skip());
    }
  }

  private static byte[] toBytes(ObjectNode node) {
    try {
      return JSON.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree always serializes", e);
    }
  }
}
