package io.nvsentinel.exporter.datastore;

import io.nvsentinel.exporter.config.AboveDefaults;
import java.util.Map;
import java.util.function.Function;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Puts {@link DatastoreEnvironment}'s settings just above the applications' built-in defaults:
 * every other source (arguments, environment, {@code application.yaml}) wins.
 */
public final class DatastoreEnvironmentPostProcessor implements EnvironmentPostProcessor, Ordered {

  static final String NAME = "nvsentinelDatastoreEnvironment";

  private final Function<String, String> env;

  public DatastoreEnvironmentPostProcessor() {
    this(System::getenv);
  }

  /** Reading the variables from {@code env} instead of the process: a rendered pod's, say. */
  public DatastoreEnvironmentPostProcessor(Function<String, String> env) {
    this.env = env;
  }

  @Override
  public void postProcessEnvironment(
      ConfigurableEnvironment environment, SpringApplication application) {
    Map<String, Object> settings = DatastoreEnvironment.settings(env);
    if (settings.isEmpty()) {
      return;
    }
    MapPropertySource source = new MapPropertySource(NAME, settings);
    AboveDefaults.add(environment, source);
  }

  /** After the configuration files are loaded, so that the defaults are last already. */
  @Override
  public int getOrder() {
    return Ordered.LOWEST_PRECEDENCE;
  }
}
