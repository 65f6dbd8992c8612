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
          // no web server: /metrics and the probes are served on exporter.live.metricsPort
          Map.entry("spring.main.web-application-type", "none"),
          Map.entry("logging.structured.format.console", "ecs"));

  /** The application with its defaults, for {@code main}, tests and the demo. */
  public static SpringApplicationBuilder application() {
    return new SpringApplicationBuilder(LiveExporterApplication.class).properties(DEFAULTS);
  }

  public static void main(String[] args) {
    application().run(args);
  }
}
