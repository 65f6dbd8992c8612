package io.nvsentinel.exporter.backfill.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.bucket4j.BlockingStrategy;
import io.github.bucket4j.TimeMeter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The limiter runs on its own time source here: waiting moves a fake clock, not the wall clock. */
class RateLimiterTest {

  /** A clock that only moves when the limiter waits on it. */
  static final class FakeTime implements TimeMeter, BlockingStrategy {
    final AtomicLong nanos = new AtomicLong();

    @Override
    public long currentTimeNanos() {
      return nanos.get();
    }

    @Override
    public boolean isWallClockBased() {
      return false;
    }

    @Override
    public void park(long nanosToPark) {
      nanos.addAndGet(nanosToPark);
    }
  }

  @Test
  void aThousandEventsAtOneHundredPerSecondTakeTenSecondsLessTheInitialBurst() throws Exception {
    FakeTime time = new FakeTime();
    RateLimiter limiter = new RateLimiter(100, time, time);
    for (int i = 0; i < 1000; i++) {
      limiter.acquire();
    }
    // 10 events (a tenth of a second's worth) go at once, the other 990 at 100 per second
    assertThat(time.nanos.get()).isEqualTo(9_900_000_000L);
  }

  @Test
  void everyEventWaitsItsTurnOnceTheBurstIsUsed() throws Exception {
    FakeTime time = new FakeTime();
    RateLimiter limiter = new RateLimiter(1000, time, time);
    for (int i = 0; i < 100; i++) {
      limiter.acquire();
    }
    long afterBurst = time.nanos.get();
    limiter.acquire();
    assertThat(time.nanos.get() - afterBurst).isEqualTo(1_000_000L);
  }

  @Test
  void zeroMeansUnlimited() throws Exception {
    FakeTime time = new FakeTime();
    RateLimiter limiter = new RateLimiter(0, time, time);
    for (int i = 0; i < 100_000; i++) {
      limiter.acquire();
    }
    assertThat(time.nanos.get()).isZero();
  }
}
