package io.nvsentinel.exporter.backfill.job;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.BlockingStrategy;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.TimeMeter;
import java.time.Duration;

/**
 * {@code exporter.backfill.rateLimit} events per second across the whole job, as a token bucket
 * (Bucket4j) that holds at most a tenth of a second's worth, so bursts stay small. 0 means
 * unlimited.
 */
final class RateLimiter {

  private final Bucket bucket;
  private final BlockingStrategy blocking;

  RateLimiter(int eventsPerSecond) {
    this(eventsPerSecond, TimeMeter.SYSTEM_NANOTIME, BlockingStrategy.PARKING);
  }

  /** With the limiter's own time source and way of waiting, so tests need no wall clock. */
  RateLimiter(int eventsPerSecond, TimeMeter time, BlockingStrategy blocking) {
    this.blocking = blocking;
    if (eventsPerSecond <= 0) {
      this.bucket = null;
      return;
    }
    long capacity = Math.max(1, eventsPerSecond / 10);
    this.bucket =
        Bucket.builder()
            .addLimit(
                Bandwidth.builder()
                    .capacity(capacity)
                    .refillGreedy(eventsPerSecond, Duration.ofSeconds(1))
                    .initialTokens(capacity)
                    .build())
            .withCustomTimePrecision(time)
            .build();
  }

  /** Waits until one more event may go. */
  void acquire() throws InterruptedException {
    if (bucket != null) {
      bucket.asBlocking().consume(1, blocking);
    }
  }
}
