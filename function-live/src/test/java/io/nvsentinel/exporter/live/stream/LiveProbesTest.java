package io.nvsentinel.exporter.live.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.AvailabilityState;
import org.springframework.boot.availability.LivenessState;
import org.springframework.boot.availability.ReadinessState;

class LiveProbesTest {

  final List<AvailabilityState> states = new CopyOnWriteArrayList<>();
  final AtomicReference<Duration> attempt = new AtomicReference<>(Duration.ZERO);
  final AtomicBoolean sinkAvailable = new AtomicBoolean(true);
  final LiveProbes probes =
      new LiveProbes(
          event -> states.add(((AvailabilityChangeEvent<?>) event).getState()),
          this,
          Clock.systemUTC(),
          Duration.ofMinutes(2),
          Duration.ofSeconds(60),
          attempt::get,
          sinkAvailable::get);

  AvailabilityState last(Class<? extends AvailabilityState> type) {
    for (int i = states.size() - 1; i >= 0; i--) {
      if (type.isInstance(states.get(i))) {
        return states.get(i);
      }
    }
    return null;
  }

  @Test
  void aDeliveryAttemptStuckPastItsBoundFailsLiveness() {
    probes.beat();
    attempt.set(Duration.ofSeconds(100));
    probes.update();
    assertThat(last(LivenessState.class)).isEqualTo(LivenessState.CORRECT);

    attempt.set(Duration.ofMinutes(4));
    probes.update();
    assertThat(last(LivenessState.class)).isEqualTo(LivenessState.BROKEN);
  }

  @Test
  void readyOnlyWhileTheStreamIsOpenAndTheSinkCanTakeEvents() {
    probes.streamOpened();
    assertThat(last(ReadinessState.class)).isEqualTo(ReadinessState.ACCEPTING_TRAFFIC);

    sinkAvailable.set(false);
    probes.update();
    assertThat(last(ReadinessState.class)).isEqualTo(ReadinessState.REFUSING_TRAFFIC);
    assertThat(last(LivenessState.class))
        .as("an unavailable sink is no reason to restart")
        .isEqualTo(LivenessState.CORRECT);

    sinkAvailable.set(true);
    probes.update();
    assertThat(last(ReadinessState.class)).isEqualTo(ReadinessState.ACCEPTING_TRAFFIC);
  }
}
