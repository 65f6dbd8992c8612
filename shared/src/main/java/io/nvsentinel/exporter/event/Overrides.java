package io.nvsentinel.exporter.event;

/** Operator overrides for quarantine or drain. */
public record Overrides(boolean force, boolean skip) {}
