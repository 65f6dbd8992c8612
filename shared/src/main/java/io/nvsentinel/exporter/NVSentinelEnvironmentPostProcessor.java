package io.nvsentinel.exporter;

import io.nvsentinel.exporter.config.AboveDefaults;
import io.nvsentinel.exporter.datastore.DatastoreEnvironment;
import io.nvsentinel.exporter.tracing.TracingEnvironment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * What NVSentinel's environment contract gives a component — the datastore ({@link
 * DatastoreEnvironment}) and the tracing collector ({@link TracingEnvironment}) — as settings just
 * above the applications' built-in defaults: every other source (arguments, environment, {@code
 * application.yaml}) wins.
 */
public final class NVSentinelEnvironmentPostProcessor implements EnvironmentPostProcessor, Ordered {

  static final String NAME = "nvsentinelEnvironment";

  private final Function<String, String> env;

  /**
   * Reading the variables from the environment being prepared: the process's, and the same names
   * given as arguments or properties (as tests and local runs do).
   */
  public NVSentinelEnvironmentPostProcessor() {
    this(null);
  }

  /** Reading the variables from {@code env} instead of the process: a rendered pod's, say. */
  public NVSentinelEnvironmentPostProcessor(Function<String, String> env) {
    this.env = env;
  }

  @Override
  public void postProcessEnvironment(
      ConfigurableEnvironment environment, SpringApplication application) {
    Function<String, String> variables = env != null ? env : environment::getProperty;
    Map<String, Object> settings = new LinkedHashMap<>(TracingEnvironment.settings(variables));
    settings.putAll(DatastoreEnvironment.settings(variables));
    AboveDefaults.add(environment, new MapPropertySource(NAME, settings));
  }

  /** After the configuration files are loaded, so that the defaults are last already. */
  @Override
  public int getOrder() {
    return Ordered.LOWEST_PRECEDENCE;
  }
}
