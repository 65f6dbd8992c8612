package io.nvsentinel.exporter.devstack;

import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * What a sink written for NVSentinel's own exporter relies on in a CloudEvent, checked as
 * NVSentinel's end-to-end test checks what its mock sink received ({@code
 * tests/helpers/event_exporter.go}, {@code ValidateCloudEvent}, NVIDIA/NVSentinel commit c196bcc):
 * the envelope, {@code data.healthEvent} as a map, the strings it compares ({@code checkName},
 * {@code nodeName}, {@code message}, {@code processingStrategy}) and {@code errorCode} as a list.
 * Beyond that test, {@code recommendedAction} must be the enum name the Go exporter writes (a
 * string since NVSentinel PR #486), the check that a number on the wire would fail.
 */
public final class NVSentinelShape {

  static final String TYPE = "com.nvidia.nvsentinel.health.v1";

  private NVSentinelShape() {}

  /** Why {@code event} is not what NVSentinel's consumers expect; empty when it is. */
  public static Optional<String> violation(JsonNode event) {
    if (!"1.0".equals(text(event, "specversion"))) {
      return Optional.of("specversion is not \"1.0\"");
    }
    if (!TYPE.equals(text(event, "type"))) {
      return Optional.of("type is not " + TYPE);
    }
    String source = text(event, "source");
    if (source == null || !source.contains("nvsentinel")) {
      return Optional.of("source does not contain \"nvsentinel\"");
    }
    for (String attribute : new String[] {"id", "time"}) {
      if (text(event, attribute) == null || text(event, attribute).isEmpty()) {
        return Optional.of(attribute + " is empty");
      }
    }
    JsonNode data = event.path("data");
    if (!data.isObject() || !data.path("healthEvent").isObject()) {
      return Optional.of("data.healthEvent is not a map");
    }
    JsonNode healthEvent = data.path("healthEvent");
    for (String field :
        new String[] {
          "checkName", "nodeName", "message", "processingStrategy", "recommendedAction"
        }) {
      if (!healthEvent.path(field).isString()) {
        return Optional.of("data.healthEvent." + field + " is not a string");
      }
    }
    if (healthEvent.path("processingStrategy").asString().isEmpty()
        || healthEvent.path("recommendedAction").asString().isEmpty()) {
      return Optional.of("an enum of data.healthEvent is empty");
    }
    if (!healthEvent.path("errorCode").isArray()) {
      return Optional.of("data.healthEvent.errorCode is not a list");
    }
    return Optional.empty();
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.path(field);
    return value.isString() ? value.asString() : null;
  }
}
