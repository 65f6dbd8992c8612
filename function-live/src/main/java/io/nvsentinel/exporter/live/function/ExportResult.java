package io.nvsentinel.exporter.live.function;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** How the export of one change ended; what the HTTP trigger answers. */
public record ExportResult(
    String eventId, String documentId, Outcome outcome, int attempts, String reason) {

  /** The ways an export is accounted for; each moves the checkpoint past the change. */
  public enum Outcome {
    DELIVERED,
    /** The sink refused the event itself; it waits in the dead letters for a re-drive. */
    DEAD_LETTERED,
    /** The stored document could not be made into an event; it is set aside with its reason. */
    UNDECODABLE,
    /** {@code exporter.filter.expression} dropped the event: done, never sent. */
    FILTERED;

    /**
     * As logs, answers and spans spell it: {@code delivered}, {@code dead-lettered}, {@code
     * undecodable}, {@code filtered}.
     */
    @JsonValue
    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }
}
