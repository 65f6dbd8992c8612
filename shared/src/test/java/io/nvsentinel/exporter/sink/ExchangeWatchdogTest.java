package io.nvsentinel.exporter.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ExchangeWatchdogTest {

  final ExchangeWatchdog watchdog = new ExchangeWatchdog();
  final CountDownLatch never = new CountDownLatch(1);

  @Test
  void anExchangePastItsDeadlineIsInterruptedAndTheInterruptIsClearedWhenItEnds() {
    ExchangeWatchdog.Exchange exchange = watchdog.watch(Duration.ofMillis(100));
    long start = System.nanoTime();

    assertThatThrownBy(() -> never.await(10, TimeUnit.SECONDS))
        .isInstanceOf(InterruptedException.class);

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(exchange.end()).isTrue();
    assertThat(Thread.currentThread().isInterrupted()).isFalse();
  }

  @Test
  void anExchangeEndedInTimeIsNeverInterruptedLater() throws Exception {
    ExchangeWatchdog.Exchange exchange = watchdog.watch(Duration.ofMillis(100));
    assertThat(exchange.end()).isFalse();

    // long past the deadline: nothing may interrupt this thread now
    assertThat(never.await(400, TimeUnit.MILLISECONDS)).isFalse();
    assertThat(Thread.currentThread().isInterrupted()).isFalse();
  }
}
