package io.nvsentinel.exporter.event;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * One health event as stored by NVSentinel, after tolerant decoding. Absent scalar fields carry the
 * defaults the Go exporter would send (0, "", false); the optional parts are {@code null} when the
 * document does not hold them.
 *
 * @param recommendedAction the {@link ProtoEnum#RECOMMENDED_ACTION} name, as the Go exporter sends
 *     it
 * @param generatedTimestamp when the monitor generated the event; {@code null} if not stored
 * @param metadata the event's own metadata map; {@code null} if not stored
 * @param processingStrategy the {@link ProtoEnum#PROCESSING_STRATEGY} name
 * @param customRecommendedAction the action when {@code recommendedAction} is {@code CUSTOM};
 *     {@code ""} when not stored
 */
public record HealthEvent(
    int version,
    String agent,
    String componentClass,
    String checkName,
    boolean isFatal,
    boolean isHealthy,
    String message,
    String recommendedAction,
    List<String> errorCode,
    List<Entity> entitiesImpacted,
    Map<String, String> metadata,
    Instant generatedTimestamp,
    String nodeName,
    Overrides quarantineOverrides,
    Overrides drainOverrides,
    String processingStrategy,
    String customRecommendedAction) {

  public HealthEvent {
    errorCode = List.copyOf(errorCode);
    entitiesImpacted = List.copyOf(entitiesImpacted);
    metadata = metadata == null ? null : Map.copyOf(metadata);
  }
}
