package io.nvsentinel.exporter.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import io.nvsentinel.exporter.config.ExporterProperties;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.util.backoff.BackOffExecution;

class RetryScheduleTest {

  private static ExporterProperties.FailureHandling documentedDefaults() {
    return new ExporterProperties.FailureHandling(
        17, Duration.ofSeconds(1), Duration.ofMinutes(5), 2.0);
  }

  @Test
  void withoutJitterTheDelayDoublesFromInitialBackoffUntilTheCap() {
    RetrySchedule schedule = new RetrySchedule(documentedDefaults(), () -> 0.5);
    List<Long> seconds = new ArrayList<>();
    for (int retry = 1; retry <= 17; retry++) {
      seconds.add(schedule.delayBefore(retry).toSeconds());
    }
    assertThat(seconds)
        .containsExactly(
            1L, 2L, 4L, 8L, 16L, 32L, 64L, 128L, 256L, 300L, 300L, 300L, 300L, 300L, 300L, 300L,
            300L);
  }

  @Test
  void documentedDefaultsAddUpToAboutHalfAnHour() {
    RetrySchedule schedule = new RetrySchedule(documentedDefaults(), () -> 0.5);
    Duration total = Duration.ZERO;
    for (int retry = 1; retry <= 17; retry++) {
      total = total.plus(schedule.delayBefore(retry));
    }
    assertThat(total).isEqualTo(Duration.ofSeconds(511 + 8 * 300));
    assertThat(total.toMinutes()).isBetween(45L, 50L);
  }

  @Test
  void jitterStaysWithinTenPercentAndNeverPassesTheCap() {
    RetrySchedule low = new RetrySchedule(documentedDefaults(), () -> 0.0);
    RetrySchedule high = new RetrySchedule(documentedDefaults(), () -> 0.999_999);
    assertThat(low.delayBefore(1)).isEqualTo(Duration.ofMillis(900));
    assertThat(high.delayBefore(1)).isBetween(Duration.ofMillis(1099), Duration.ofMillis(1100));
    assertThat(low.delayBefore(3)).isEqualTo(Duration.ofMillis(3600));
    assertThat(high.delayBefore(12)).isEqualTo(Duration.ofMinutes(5));
    assertThat(low.delayBefore(12)).isEqualTo(Duration.ofSeconds(270));
  }

  @Test
  void fastRetriesExampleGrowsByOneAndAHalf() {
    RetrySchedule schedule =
        new RetrySchedule(
            new ExporterProperties.FailureHandling(
                10, Duration.ofMillis(100), Duration.ofSeconds(10), 1.5),
            () -> 0.5);
    assertThat(schedule.delayBefore(1)).isEqualTo(Duration.ofMillis(100));
    assertThat(schedule.delayBefore(2)).isEqualTo(Duration.ofMillis(150));
    assertThat(schedule.delayBefore(3)).isEqualTo(Duration.ofMillis(225));
    assertThat(schedule.delayBefore(10)).isEqualTo(Duration.ofNanos(3_844_335_937L));
  }

  @Test
  void backOffStopsAfterMaxRetries() {
    RetrySchedule schedule = new RetrySchedule(documentedDefaults(), () -> 0.5);
    BackOffExecution execution = schedule.backOff(() -> null).start();
    List<Long> waits = new ArrayList<>();
    long next;
    while ((next = execution.nextBackOff()) != BackOffExecution.STOP) {
      waits.add(next);
    }
    assertThat(waits).hasSize(17).startsWith(1000L, 2000L, 4000L).endsWith(300_000L);
  }

  @Test
  void zeroMaxRetriesMeansNoRetry() {
    RetrySchedule schedule =
        new RetrySchedule(
            new ExporterProperties.FailureHandling(
                0, Duration.ofSeconds(1), Duration.ofSeconds(1), 1),
            () -> 0.5);
    assertThat(schedule.backOff(() -> null).start().nextBackOff()).isEqualTo(BackOffExecution.STOP);
  }

  @Test
  void retryAfterReplacesTheComputedWaitBoundedByMaxBackoff() {
    RetrySchedule schedule = new RetrySchedule(documentedDefaults(), () -> 0.5);
    BackOffExecution asked = schedule.backOff(() -> Duration.ofSeconds(7)).start();
    assertThat(asked.nextBackOff()).isEqualTo(7_000L);
    BackOffExecution tooLong = schedule.backOff(() -> Duration.ofHours(2)).start();
    assertThat(tooLong.nextBackOff()).isEqualTo(300_000L);
    assertThat(schedule.honouring(Duration.ofSeconds(Long.MAX_VALUE)))
        .as("beyond any long of nanoseconds")
        .isEqualTo(Duration.ofMinutes(5));
  }
}
