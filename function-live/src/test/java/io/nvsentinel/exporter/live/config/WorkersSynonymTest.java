package io.nvsentinel.exporter.live.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;

class WorkersSynonymTest {

  private static StandardEnvironment environment(Map<String, Object> operator) {
    StandardEnvironment environment = new StandardEnvironment();
    environment.getPropertySources().addFirst(new MapPropertySource("operator", operator));
    new WorkersSynonym().postProcessEnvironment(environment, null);
    return environment;
  }

  private static int workers(StandardEnvironment environment) {
    return Binder.get(environment).bindOrCreate("exporter.live", LiveProperties.class).workers();
  }

  @Test
  void theReplacedExportersKeySetsTheLiveConcurrency() {
    assertThat(workers(environment(Map.of("exporter.workers", "7")))).isEqualTo(7);
  }

  @Test
  void withoutEitherKeyTheDefaultHolds() {
    assertThat(workers(environment(Map.of()))).as("NVSentinel's default").isEqualTo(10);
  }

  @Test
  void bothKeysWithTheSameValueAreFine() {
    assertThat(
            workers(environment(Map.of("exporter.workers", "12", "exporter.live.workers", "12"))))
        .isEqualTo(12);
  }

  @Test
  void bothKeysWithDifferentValuesStopStartUpNamingBoth() {
    assertThatThrownBy(
            () -> environment(Map.of("exporter.workers", "10", "exporter.live.workers", "4")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("exporter.workers (10)")
        .hasMessageContaining("exporter.live.workers (4)")
        .hasMessageContaining("keep one");
  }
}
