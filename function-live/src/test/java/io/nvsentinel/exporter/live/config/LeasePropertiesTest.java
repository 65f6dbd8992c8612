package io.nvsentinel.exporter.live.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;

class LeasePropertiesTest {

  @Configuration(proxyBeanMethods = false)
  @EnableConfigurationProperties(LeaseProperties.class)
  static class Bound {}

  final ApplicationContextRunner runner =
      new ApplicationContextRunner().withUserConfiguration(Bound.class);

  @Test
  void theDefaultsFailOverWithinTheLeaseAndNameThePod() {
    runner.run(
        context -> {
          LeaseProperties lease = context.getBean(LeaseProperties.class);
          assertThat(lease.enabled()).isFalse();
          assertThat(lease.duration()).isEqualTo(Duration.ofSeconds(6));
          assertThat(lease.renewInterval()).isEqualTo(Duration.ofSeconds(2));
          assertThat(lease.retryInterval()).isEqualTo(Duration.ofMillis(200));
          assertThat(lease.holder()).isNotBlank();
        });
  }

  @ParameterizedTest(name = "renewInterval {0} with duration {1} stops start-up naming both")
  @CsvSource({"6s, 6s", "10s, 6s"})
  void aRenewalNoShorterThanTheLeaseStopsStartUpNamingBothKeys(String renew, String duration) {
    runner
        .withPropertyValues(
            "exporter.live.lease.renewInterval=" + renew,
            "exporter.live.lease.duration=" + duration)
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessageContaining("exporter.live.lease.renewInterval (PT")
                    .hasMessageContaining("must be shorter than exporter.live.lease.duration")
                    .hasMessageContaining("e.g. duration 6s and renewInterval 2s"));
  }

  @Test
  void aLeaseShorterThanASecondIsRefusedNamingTheKey() {
    runner
        .withPropertyValues(
            "exporter.live.lease.duration=500ms", "exporter.live.lease.renewInterval=100ms")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .hasStackTraceContaining("exporter.live.lease.duration")
                    .hasStackTraceContaining("must be at least 1s"));
  }
}
