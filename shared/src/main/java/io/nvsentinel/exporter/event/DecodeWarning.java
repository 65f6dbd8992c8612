package io.nvsentinel.exporter.event;

/**
 * A repair the decoder made to export a document that did not match the schema.
 *
 * @param field the field that was repaired, e.g. {@code recommendedAction}
 * @param detail what was found and what was exported instead
 */
public record DecodeWarning(String field, String detail) {}
