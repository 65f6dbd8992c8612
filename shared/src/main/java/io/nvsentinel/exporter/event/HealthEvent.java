package io.nvsentinel.exporter.event;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One health event as stored by NVSentinel, after tolerant decoding. Absent scalar fields carry the
 * defaults the Go exporter would send (0, "", false); the optional parts are {@code null} when the
 * document does not hold them.
 *
 * @param generatedTimestamp when the monitor generated the event; {@code null} if not stored
 * @param metadata the event's own metadata map; {@code null} if not stored
 */
public record HealthEvent(
    int version,
    String agent,
    String componentClass,
    String checkName,
    boolean isFatal,
    boolean isHealthy,
    String message,
    RecommendedAction recommendedAction,
    List<String> errorCode,
    List<Entity> entitiesImpacted,
    Map<String, String> metadata,
    Instant generatedTimestamp,
    String nodeName,
    Overrides quarantineOverrides,
    Overrides drainOverrides,
    String processingStrategy) {

  public HealthEvent {
    errorCode = List.copyOf(errorCode);
    entitiesImpacted = List.copyOf(entitiesImpacted);
    metadata = metadata == null ? null : Map.copyOf(metadata);
  }

  /** The value of the first impacted entity of type {@code GPU_UUID}, if it has one. */
  public Optional<String> gpuUuid() {
    return entitiesImpacted.stream()
        .filter(e -> Entity.GPU_UUID.equals(e.entityType()))
        .findFirst()
        .map(Entity::entityValue)
        .filter(v -> !v.isEmpty());
  }
}
