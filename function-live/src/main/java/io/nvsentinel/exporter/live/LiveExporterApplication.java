package io.nvsentinel.exporter.live;

import java.util.Map;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;

/** The live exporter: health-event changes in, CloudEvents delivered out. */
@SpringBootApplication
public class LiveExporterApplication {

  /**
   * The application's own defaults. They live here, as default properties (the lowest precedence),
   * rather than in an {@code application.yml}: an operator's {@code application.yml}, environment
   * or arguments override them, and the live exporter and the backfill job can share one class path
   * (the demo, the benchmarks) without one's file hiding the other's.
   */
  static final Map<String, Object> DEFAULTS =
      Map.ofEntries(
          Map.entry("spring.application.name", "event-exporter-live"),
          Map.entry("spring.main.banner-mode", "off"),
          Map.entry("spring.cloud.function.definition", "toCloudEvent|deliver"),
          Map.entry("server.port", "8080"),
          Map.entry("server.shutdown", "graceful"),
          Map.entry("management.endpoints.web.exposure.include", "health,prometheus,info"),
          Map.entry("management.endpoint.health.probes.enabled", "true"),
          Map.entry("management.endpoint.health.probes.add-additional-paths", "true"),
          Map.entry("logging.structured.format.console", "ecs"));

  /** The application with its defaults, for {@code main}, tests and the demo. */
  public static SpringApplicationBuilder application() {
    return new SpringApplicationBuilder(LiveExporterApplication.class).properties(DEFAULTS);
  }

  public static void main(String[] args) {
    application().run(args);
  }
}
