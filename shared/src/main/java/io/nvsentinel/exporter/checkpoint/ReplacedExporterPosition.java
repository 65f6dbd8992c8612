package io.nvsentinel.exporter.checkpoint;

/**
 * The position the replaced (Go) exporter stored for a client — {@code {clientName, resumeToken}}
 * in the datastore's token collection — found where this exporter has no checkpoint of its own.
 *
 * @param client the client name both exporters use
 * @param position where that exporter stood, or {@code null} when the stored value is missing or
 *     cannot be read as one
 * @param problem why there is no token, or {@code null}
 */
public record ReplacedExporterPosition(String client, StreamPosition position, String problem) {}
