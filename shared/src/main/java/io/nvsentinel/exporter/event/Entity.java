package io.nvsentinel.exporter.event;

/** Something a health event affects, such as a GPU by UUID or a PCI address. */
public record Entity(String entityType, String entityValue) {}
