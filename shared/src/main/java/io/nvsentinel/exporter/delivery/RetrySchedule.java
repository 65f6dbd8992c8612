package io.nvsentinel.exporter.delivery;

import io.nvsentinel.exporter.config.ExporterProperties;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;
import org.springframework.core.retry.RetryPolicy;
import org.springframework.util.backoff.BackOff;
import org.springframework.util.backoff.BackOffExecution;

/**
 * The wait before each retry: {@code initialBackoff × backoffMultiplier^(n-1)}, capped at {@code
 * maxBackoff}, spread by ±10% jitter (never past the cap), for at most {@code maxRetries} retries.
 * A {@code Retry-After} from the sink replaces the computed wait, still bounded by {@code
 * maxBackoff}.
 */
public final class RetrySchedule {

  static final double JITTER = 0.10;

  private final int maxRetries;
  private final double initialNanos;
  private final double maxNanos;
  private final double multiplier;
  private final DoubleSupplier random;

  public RetrySchedule(ExporterProperties.FailureHandling settings) {
    this(settings, () -> ThreadLocalRandom.current().nextDouble());
  }

  RetrySchedule(ExporterProperties.FailureHandling settings, DoubleSupplier random) {
    this.maxRetries = settings.maxRetries();
    this.initialNanos = settings.initialBackoff().toNanos();
    this.maxNanos = settings.maxBackoff().toNanos();
    this.multiplier = settings.backoffMultiplier();
    this.random = random;
  }

  public int maxRetries() {
    return maxRetries;
  }

  /** The cap on any wait between two attempts. */
  public Duration maxBackoff() {
    return Duration.ofNanos((long) maxNanos);
  }

  /**
   * The longest one delivery can take before its retries run out: every wait at its jittered
   * maximum, plus {@code attemptTimeout} for each attempt and its immediate re-send after a 401.
   */
  public Duration worstCase(Duration attemptTimeout) {
    double waits = 0;
    for (int retry = 1; retry <= maxRetries; retry++) {
      waits += Math.min(maxNanos, initialNanos * Math.pow(multiplier, retry - 1) * (1 + JITTER));
    }
    return Duration.ofNanos((long) waits).plus(attemptTimeout.multipliedBy(2L * (maxRetries + 1)));
  }

  /** The wait before retry number {@code retry} (1 is the first retry). */
  public Duration delayBefore(int retry) {
    double base = Math.min(maxNanos, initialNanos * Math.pow(multiplier, retry - 1));
    double jittered = base * (1 + JITTER * (2 * random.getAsDouble() - 1));
    return Duration.ofNanos((long) Math.min(maxNanos, jittered));
  }

  /** The wait the sink asked for, bounded by {@code maxBackoff}. */
  public Duration honouring(Duration retryAfter) {
    Duration cap = maxBackoff();
    // compared, not converted: a wait of centuries has no nanoseconds in a long
    return retryAfter.isNegative()
        ? Duration.ZERO
        : retryAfter.compareTo(cap) > 0 ? cap : retryAfter;
  }

  /**
   * A back-off for one delivery, for Spring's {@code RetryTemplate}. {@code retryAfter} is read
   * before each wait and, when it has a value, replaces the computed one.
   */
  BackOff backOff(Supplier<Duration> retryAfter) {
    return () ->
        new BackOffExecution() {
          private int retries;

          @Override
          public long nextBackOff() {
            if (retries >= maxRetries) {
              return STOP;
            }
            retries++;
            Duration asked = retryAfter.get();
            return (asked != null ? honouring(asked) : delayBefore(retries)).toMillis();
          }
        };
  }

  /**
   * Spring's retry policy for one delivery: retry what {@link DeliveryFailure} calls retryable,
   * with this back-off ({@code retryAfter} read before each wait).
   */
  RetryPolicy retryPolicy(Supplier<Duration> retryAfter) {
    BackOff backOff = backOff(retryAfter);
    return new RetryPolicy() {
      @Override
      public boolean shouldRetry(Throwable failure) {
        return failure instanceof DeliveryFailure f && f.retryable();
      }

      @Override
      public BackOff getBackOff() {
        return backOff;
      }
    };
  }
}
