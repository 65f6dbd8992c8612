package io.nvsentinel.exporter.live.stream;

import java.time.Duration;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.LivenessState;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationEventPublisher;

/**
 * What a standby tells Kubernetes and keeps ready. It is live; it is ready while it can reach the
 * lease, because it can lead as soon as the lease is free. It keeps what it needs to lead warm (an
 * access token) so that the first event after a takeover waits for no token request.
 */
final class Standby {

  /** How often a standby fetches a token again: well inside any token's lifetime. */
  static final Duration WARM_UP_EVERY = Duration.ofSeconds(30);

  private final ApplicationEventPublisher events;
  private final Object source;
  private final Runnable warmUp;
  private long warmedUpNanos;

  Standby(ApplicationEventPublisher events, Object source, Runnable warmUp) {
    this.events = events;
    this.source = source;
    this.warmUp = warmUp;
  }

  /** Says whether the lease can be reached, and warms up now and then while it can. */
  void ready(boolean reachable) {
    AvailabilityChangeEvent.publish(events, source, LivenessState.CORRECT);
    AvailabilityChangeEvent.publish(
        events,
        source,
        reachable ? ReadinessState.ACCEPTING_TRAFFIC : ReadinessState.REFUSING_TRAFFIC);
    long now = System.nanoTime();
    if (reachable && (warmedUpNanos == 0 || now - warmedUpNanos >= WARM_UP_EVERY.toNanos())) {
      warmedUpNanos = now;
      // off the lease thread: a slow token endpoint must not delay taking the lease
      DaemonThreads.named("standby-warm-up").newThread(warmUp).start();
    }
  }
}
