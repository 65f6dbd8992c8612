package io.nvsentinel.exporter.live.config;

import io.nvsentinel.exporter.config.AboveDefaults;
import java.util.Map;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * {@code exporter.workers}, the key operators of the replaced exporter already set (10 in
 * NVSentinel's values), is the live exporter's {@code exporter.live.workers}. Set alone it applies;
 * set both with different values, start-up fails naming both rather than pick one silently.
 */
public final class WorkersSynonym implements EnvironmentPostProcessor, Ordered {

  static final String SYNONYM = "exporter.workers";
  static final String KEY = "exporter.live.workers";

  @Override
  public void postProcessEnvironment(
      ConfigurableEnvironment environment, SpringApplication application) {
    String synonym = environment.getProperty(SYNONYM);
    if (synonym == null || synonym.isBlank()) {
      return;
    }
    String own = environment.getProperty(KEY);
    if (own != null && !own.isBlank()) {
      if (!own.strip().equals(synonym.strip())) {
        throw new IllegalStateException(
            SYNONYM
                + " ("
                + synonym.strip()
                + ") and "
                + KEY
                + " ("
                + own.strip()
                + ") are both set and differ; they are one setting, the deliveries in flight"
                + " at once: keep one of them");
      }
      return;
    }
    MapPropertySource source =
        new MapPropertySource("exporterWorkersSynonym", Map.of(KEY, synonym.strip()));
    AboveDefaults.add(environment, source);
  }

  /** After the configuration files are loaded, so that both keys can be seen. */
  @Override
  public int getOrder() {
    return Ordered.LOWEST_PRECEDENCE;
  }
}
