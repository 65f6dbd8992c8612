package io.nvsentinel.exporter.live.stream;

import java.time.Clock;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.LivenessState;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationEventPublisher;

/**
 * What the runner tells Kubernetes. Ready while the stream is open and the sink can take events: a
 * datastore or sink outage, or a wrong setting, takes the pod out of service without restarting it.
 * Live unless something is stuck — the reader made no progress for {@code stuckAfter} (a hung
 * driver call), or one delivery attempt has run {@code stuckAfter} past the longest an attempt can
 * take — because only a restart helps then.
 */
final class LiveProbes {

  private static final Logger log = LoggerFactory.getLogger(LiveProbes.class);

  private final ApplicationEventPublisher events;
  private final Object source;
  private final Clock clock;
  private final Duration stuckAfter;
  private final Duration longestAttempt;
  private final Supplier<Duration> attemptInProgress;
  private final BooleanSupplier sinkAvailable;
  private volatile long heartbeat;
  private volatile boolean streamOpen;
  private Boolean live;

  /**
   * @param longestAttempt the most one delivery attempt can take when nothing is stuck
   * @param attemptInProgress how long the oldest attempt still running has taken
   */
  LiveProbes(
      ApplicationEventPublisher events,
      Object source,
      Clock clock,
      Duration stuckAfter,
      Duration longestAttempt,
      Supplier<Duration> attemptInProgress,
      BooleanSupplier sinkAvailable) {
    this.events = events;
    this.source = source;
    this.clock = clock;
    this.stuckAfter = stuckAfter;
    this.longestAttempt = longestAttempt;
    this.attemptInProgress = attemptInProgress;
    this.sinkAvailable = sinkAvailable;
    this.heartbeat = clock.millis();
  }

  /** The reader is responsive: it read, waited for room, paused or reconnected just now. */
  void beat() {
    heartbeat = clock.millis();
  }

  void streamOpened() {
    streamOpen = true;
    update();
  }

  void streamClosed() {
    streamOpen = false;
    update();
  }

  boolean streamOpen() {
    return streamOpen;
  }

  /**
   * Publishes both states; called every second and on stream changes. Published every time, not
   * only on a change, because Spring Boot itself declares the application ready once it started,
   * whether or not the stream is open.
   */
  synchronized void update() {
    boolean readerStuck = clock.millis() - heartbeat > stuckAfter.toMillis();
    Duration attempt = attemptInProgress.get();
    boolean deliveryStuck = attempt.compareTo(longestAttempt.plus(stuckAfter)) > 0;
    boolean nowLive = !readerStuck && !deliveryStuck;
    if (live == null || live != nowLive) {
      if (!nowLive) {
        log.error(
            readerStuck
                ? "the change-stream reader made no progress for {}; liveness fails so the pod is"
                    + " restarted"
                : "a delivery attempt has run for {}, longer than any attempt can; liveness fails"
                    + " so the pod is restarted",
            readerStuck ? stuckAfter : attempt);
      }
      live = nowLive;
    }
    AvailabilityChangeEvent.publish(
        events, source, nowLive ? LivenessState.CORRECT : LivenessState.BROKEN);
    AvailabilityChangeEvent.publish(
        events,
        source,
        streamOpen && sinkAvailable.getAsBoolean()
            ? ReadinessState.ACCEPTING_TRAFFIC
            : ReadinessState.REFUSING_TRAFFIC);
  }
}
