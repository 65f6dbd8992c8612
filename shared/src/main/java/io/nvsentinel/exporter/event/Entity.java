package io.nvsentinel.exporter.event;

/** Something a health event affects, such as a GPU by UUID or a PCI address. */
public record Entity(String entityType, String entityValue) {

  public static final String GPU_UUID = "GPU_UUID";
}
