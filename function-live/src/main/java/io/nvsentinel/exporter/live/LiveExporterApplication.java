package io.nvsentinel.exporter.live;

import java.util.Map;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;

/**
 * The live exporter: health-event changes in, CloudEvents delivered out.
 *
 * <p>It leaves out the auto-configurations its class path brings but it never uses: Spring's HTTP
 * clients and converters (the sink client and the token client build their own), task executors and
 * schedulers (the runner owns its threads), proxies, Kotlin functions and SSL-bundle metrics. Each
 * costs start-up time under one CPU; together about 0.4 s of it (bench/README.md).
 */
@SpringBootApplication(
    excludeName = {
      "org.springframework.boot.autoconfigure.aop.AopAutoConfiguration",
      "org.springframework.boot.autoconfigure.task.TaskExecutionAutoConfiguration",
      "org.springframework.boot.autoconfigure.task.TaskSchedulingAutoConfiguration",
      "org.springframework.boot.http.client.autoconfigure.HttpClientAutoConfiguration",
      "org.springframework.boot.http.client.autoconfigure.imperative.ImperativeHttpClientAutoConfiguration",
      "org.springframework.boot.http.client.autoconfigure.metrics.HttpClientMetricsAutoConfiguration",
      "org.springframework.boot.http.client.autoconfigure.reactive.ReactiveHttpClientAutoConfiguration",
      "org.springframework.boot.http.converter.autoconfigure.HttpMessageConvertersAutoConfiguration",
      "org.springframework.boot.micrometer.metrics.autoconfigure.ssl.SslMetricsAutoConfiguration",
      "org.springframework.boot.micrometer.metrics.autoconfigure.task.TaskExecutorMetricsAutoConfiguration",
      "org.springframework.boot.micrometer.observation.autoconfigure.ScheduledTasksObservationAutoConfiguration",
      "org.springframework.boot.restclient.autoconfigure.RestClientAutoConfiguration",
      "org.springframework.boot.restclient.autoconfigure.RestClientObservationAutoConfiguration",
      "org.springframework.boot.restclient.autoconfigure.RestTemplateAutoConfiguration",
      "org.springframework.boot.restclient.autoconfigure.RestTemplateObservationAutoConfiguration",
      "org.springframework.cloud.function.context.config.KotlinLambdaToFunctionAutoConfiguration"
    })
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
