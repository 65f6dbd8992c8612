package io.nvsentinel.exporter.config;

import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MutablePropertySources;
import org.springframework.core.env.PropertySource;

/**
 * Where settings derived from other settings or from NVSentinel's environment go: just above the
 * applications' built-in defaults ({@code defaultProperties}), below every source an operator
 * writes (arguments, environment, {@code application.yaml}).
 */
public final class AboveDefaults {

  private static final String DEFAULTS = "defaultProperties";

  private AboveDefaults() {}

  public static void add(ConfigurableEnvironment environment, PropertySource<?> source) {
    MutablePropertySources sources = environment.getPropertySources();
    if (sources.contains(DEFAULTS)) {
      sources.addBefore(DEFAULTS, source);
    } else {
      sources.addLast(source);
    }
  }
}
