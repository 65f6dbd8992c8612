package io.nvsentinel.exporter.live.function;

/**
 * How the export of one change ended; what the HTTP trigger answers.
 *
 * @param outcome {@code delivered}, {@code dead-lettered} or {@code undecodable}
 */
public record ExportResult(
    String eventId, String documentId, String outcome, int attempts, String reason) {

  public static final String DELIVERED = "delivered";
  public static final String DEAD_LETTERED = "dead-lettered";
  public static final String UNDECODABLE = "undecodable";
}
