package io.nvsentinel.exporter.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ArrivalSeriesTest {

  private static final Instant NOW = Instant.parse("2026-11-28T12:00:10Z");
  private static final Instant CUTOFF = Instant.parse("2026-11-28T11:00:00Z");

  @Test
  void eventsFromBeforeTheCutoffCountAsBackfillAndTheRestAsLive() {
    ArrivalSeries series = new ArrivalSeries();
    series.backfillCutoff(CUTOFF);

    series.arrived(NOW.minusSeconds(3), CUTOFF.minusSeconds(3600));
    series.arrived(NOW.minusSeconds(3), CUTOFF.minusSeconds(60));
    series.arrived(NOW.minusSeconds(3), NOW.minusSeconds(3).minusMillis(40));
    series.arrived(NOW.minusSeconds(1), NOW.minusSeconds(1).minusMillis(10));

    ArrivalSeries.Window window = series.window(NOW, 5);
    assertThat(window.seconds())
        .containsExactly(
            NOW.getEpochSecond() - 5,
            NOW.getEpochSecond() - 4,
            NOW.getEpochSecond() - 3,
            NOW.getEpochSecond() - 2,
            NOW.getEpochSecond() - 1);
    assertThat(window.backfill()).containsExactly(0, 0, 2, 0, 0);
    assertThat(window.live()).containsExactly(0, 0, 1, 0, 1);
  }

  @Test
  void latencyPercentilesAreOverLiveEventsOnly() {
    ArrivalSeries series = new ArrivalSeries();
    series.backfillCutoff(CUTOFF);
    for (int millis = 1; millis <= 100; millis++) {
      series.arrived(NOW, NOW.minusMillis(millis));
    }
    series.arrived(NOW, CUTOFF.minusSeconds(86_400)); // a day old: backfill, not latency

    ArrivalSeries.Latency latency = series.latency();
    assertThat(latency.count()).isEqualTo(100);
    assertThat(latency.p50()).isEqualTo(50);
    assertThat(latency.p90()).isEqualTo(90);
    assertThat(latency.p99()).isEqualTo(99);
  }

  @Test
  void beforeTheCutoffIsKnownEverythingIsLiveAndSecondsOutOfRangeAreDropped() {
    ArrivalSeries series = new ArrivalSeries();
    series.arrived(NOW.minusSeconds(ArrivalSeries.SECONDS + 50), CUTOFF.minusSeconds(10));
    series.arrived(NOW.minusSeconds(2), CUTOFF.minusSeconds(10));

    assertThat(series.window(NOW, 3).live()).containsExactly(0, 1, 0);
    assertThat(series.window(NOW, ArrivalSeries.SECONDS + 60).live()).containsOnly(0, 1);
    assertThat(Arrays.stream(series.window(NOW, ArrivalSeries.SECONDS + 60).live()).sum())
        .as("the second older than the kept history was dropped")
        .isEqualTo(1);
    assertThat(new ArrivalSeries().latency().count()).isZero();
  }
}
