package io.nvsentinel.exporter.delivery;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.tracing.Span;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.config.ClientSecret;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.delivery.SinkAttempts.Attempts;
import io.nvsentinel.exporter.tracing.EventTracing;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.core.retry.RetryException;
import org.springframework.core.retry.RetryPolicy;
import org.springframework.core.retry.RetryTemplate;
import org.springframework.util.backoff.BackOff;

/**
 * Delivers one CloudEvent until the sink acknowledges it or it is set aside as a dead letter:
 * Spring's {@link RetryTemplate} with the {@link RetrySchedule}, retrying only what {@link
 * DeliveryFailure} calls transient. A 401 drops the cached token and re-sends at once with a fresh
 * one before any back-off. Only what is the event's own fault makes a dead letter: a refusal by the
 * sink, or retries running out while other events got through. A misconfiguration or an outage for
 * every event is reported to {@link SinkAvailability} and, depending on the caller, held until it
 * is over or failed. Safe to call from many threads.
 */
public final class EventDeliverer {

  private static final Logger log = LoggerFactory.getLogger(EventDeliverer.class);

  /** The log context key holding the CloudEvent id while an event is delivered. */
  public static final String EVENT_ID = "eventId";

  /** The longest wait between two attempts of a held event. */
  static final Duration MAX_HOLD_INTERVAL = Duration.ofSeconds(30);

  private final SinkAttempts sink;
  private final SinkAuthorization authorization;
  private final RetrySchedule schedule;
  private final DeadLetterStore deadLetters;
  private final DeliveryMetrics metrics;
  private final SinkAvailability availability;
  private final Duration holdInterval;
  private final Clock clock;
  private final EventTracing tracing;

  EventDeliverer(
      SinkClient sink,
      SinkAuthorization authorization,
      RetrySchedule schedule,
      DeadLetterStore deadLetters,
      MeterRegistry meters,
      Clock clock,
      EventTracing tracing) {
    this.authorization = authorization;
    this.schedule = schedule;
    this.deadLetters = deadLetters;
    this.metrics = new DeliveryMetrics(meters);
    this.sink = new SinkAttempts(sink, authorization, metrics, tracing);
    this.availability = new SinkAvailability();
    Duration cap = schedule.maxBackoff();
    this.holdInterval = cap.compareTo(MAX_HOLD_INTERVAL) < 0 ? cap : MAX_HOLD_INTERVAL;
    this.clock = clock;
    this.tracing = tracing;
  }

  /** Wires the sink client, OIDC and retries from the configuration, without tracing. */
  public static EventDeliverer create(
      ExporterProperties properties,
      ClientSecret secret,
      DeadLetterStore deadLetters,
      MeterRegistry meters,
      Clock clock) {
    return create(properties, secret, deadLetters, meters, clock, EventTracing.OFF);
  }

  /**
   * Wires the sink client, OIDC and retries from the configuration; every attempt is a span below
   * the event's, and its context goes to the sink as {@code traceparent}.
   */
  public static EventDeliverer create(
      ExporterProperties properties,
      ClientSecret secret,
      DeadLetterStore deadLetters,
      MeterRegistry meters,
      Clock clock,
      EventTracing tracing) {
    SinkAuthorization authorization =
        new SinkAuthorization(properties.oidc(), secret, properties.sink().timeout(), meters);
    SinkClient sink = new SinkClient(properties.sink(), clock);
    return new EventDeliverer(
        sink,
        authorization,
        new RetrySchedule(properties.failureHandling()),
        deadLetters,
        meters,
        clock,
        tracing);
  }

  /** What to do while the sink cannot take any event (an outage, a wrong setting). */
  public enum WhenSinkUnavailable {
    /**
     * Keep the event and try it again every {@code min(maxBackoff, 30s)}, and at once when the sink
     * recovers: the live stream pauses rather than turn an outage into dead letters.
     */
    HOLD,
    /**
     * Throw {@link DeliveryExhaustedException}: a backfill chunk fails and is rerun later, instead
     * of dead-lettering a whole window while the sink is down.
     */
    FAIL
  }

  /** The sink's availability, as the deliveries found it. */
  public SinkAvailability availability() {
    return availability;
  }

  /**
   * How long the oldest attempt still waiting for the sink has been running; zero when none is. A
   * whole attempt is bounded by {@code sink.timeout}, so a much longer one is stuck.
   */
  public Duration longestAttemptInProgress() {
    return sink.longestInProgress();
  }

  /** Delivers {@code event}, holding it while the sink is unavailable. */
  public DeliveryOutcome deliver(OutgoingEvent event) {
    return deliver(event, WhenSinkUnavailable.HOLD);
  }

  /**
   * Delivers {@code event}; returns once it is acknowledged or dead-lettered.
   *
   * @throws DeliveryInterruptedException if the thread is interrupted first; nothing was recorded
   * @throws DeliveryExhaustedException with {@link WhenSinkUnavailable#FAIL}, when the sink is
   *     unavailable for every event or a setting is wrong
   */
  public DeliveryOutcome deliver(OutgoingEvent event, WhenSinkUnavailable whenUnavailable) {
    // every log line about this event, here and below, carries its CloudEvent id
    Span span = tracing.startChild(event.span(), EventTracing.PUBLISH_WITH_RETRY);
    try (MDC.MDCCloseable ignored = MDC.putCloseable(EVENT_ID, event.id())) {
      Attempts attempts = new Attempts(span);
      DeliveryOutcome outcome = deliverWithRetries(event, whenUnavailable, attempts);
      span.tag(EventTracing.ATTEMPT, attempts.count);
      EventTracing.finish(span, outcome.label());
      return outcome;
    } catch (RuntimeException | Error e) {
      span.error(e);
      span.end();
      throw e;
    }
  }

  private DeliveryOutcome deliverWithRetries(
      OutgoingEvent event, WhenSinkUnavailable whenUnavailable, Attempts attempts) {
    Instant first = clock.instant();
    long firstNanos = System.nanoTime();
    AtomicReference<Duration> retryAfter = new AtomicReference<>();
    RetryTemplate retries = new RetryTemplate(policy(retryAfter::get));
    try {
      int status =
          retries.execute(
              () -> {
                try {
                  retryAfter.set(null);
                  return attempt(event, attempts);
                } catch (DeliveryFailure failure) {
                  retryAfter.set(failure.retryAfter());
                  logFailure(event, attempts, failure);
                  throw failure;
                }
              });
      return delivered(event, attempts, status, firstNanos);
    } catch (RetryException e) {
      if (Thread.currentThread().isInterrupted()) {
        throw new DeliveryInterruptedException(event.id(), e);
      }
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      DeliveryFailure last =
          e.getLastException() instanceof DeliveryFailure failure
              ? failure
              : DeliveryFailure.unexpected(
                  new IllegalStateException(String.valueOf(e.getLastException())));
      // where the Go exporter gives the event up (and exits): counted once, whatever comes next
      metrics.givenUp();
      if (last.kind() == DeliveryFailure.Kind.REFUSED
          || (last.retryable() && availability.acceptedSince(attempts.previousStartNanos))) {
        // the sink refused this event, or took others sent while this one kept failing: its own
        // fault
        return deadLettered(event, last, attempts, first);
      }
      availability.unavailable(last);
      if (whenUnavailable == WhenSinkUnavailable.FAIL) {
        throw new DeliveryExhaustedException(event.id(), attempts.count, last);
      }
      return hold(event, attempts, first, firstNanos);
    }
  }

  /** Tries the event again until the sink takes it, refuses it, or the thread is interrupted. */
  private DeliveryOutcome hold(
      OutgoingEvent event, Attempts attempts, Instant first, long firstNanos) {
    while (true) {
      try {
        availability.awaitRecovery(holdInterval);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new DeliveryInterruptedException(event.id(), e);
      }
      try {
        return delivered(event, attempts, attempt(event, attempts), firstNanos);
      } catch (DeliveryFailure failure) {
        if (failure.kind() == DeliveryFailure.Kind.REFUSED) {
          return deadLettered(event, failure, attempts, first);
        }
        log.debug("event {}: still held ({})", event.id(), failure.getMessage());
        availability.unavailable(failure);
      }
    }
  }

  private DeliveryOutcome delivered(
      OutgoingEvent event, Attempts attempts, int status, long firstNanos) {
    metrics.delivered(Duration.ofNanos(System.nanoTime() - firstNanos));
    return new DeliveryOutcome.Delivered(event.id(), attempts.count, status);
  }

  private DeliveryOutcome deadLettered(
      OutgoingEvent event, DeliveryFailure last, Attempts attempts, Instant first) {
    DeadLetter.Kind kind = last.retryable() ? DeadLetter.Kind.EXHAUSTED : DeadLetter.Kind.REJECTED;
    deadLetters.deliveryFailed(event, kind, last, attempts.count, first);
    String reason =
        (last.retryable() ? "gave up after " + attempts.count + " attempts: " : "refused: ")
            + last.getMessage();
    log.error("event {} was dead-lettered ({}): {}", event.id(), kind.label(), reason);
    return new DeliveryOutcome.DeadLettered(event.id(), attempts.count, reason);
  }

  private static void logFailure(OutgoingEvent event, Attempts attempts, DeliveryFailure failure) {
    log.warn(
        "event {}: attempt {} failed ({}): {}",
        event.id(),
        attempts.count,
        failure.kind().name().toLowerCase(Locale.ROOT),
        failure.getMessage());
  }

  private RetryPolicy policy(Supplier<Duration> retryAfter) {
    BackOff backOff = schedule.backOff(retryAfter);
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

  /** One POST, plus one immediate re-send with a fresh token if the sink answered 401. */
  private int attempt(OutgoingEvent event, Attempts attempts) {
    SinkResponse response = sink.post(event, attempts);
    if (response.status() == 401) {
      metrics.requestFailed("unauthorized");
      log.info(
          "event {}: the sink refused the token (401); retrying once with a fresh token",
          event.id());
      authorization.invalidate();
      response = sink.post(event, attempts);
    }
    if (response.accepted()) {
      availability.accepted(attempts.lastStartNanos);
      return response.status();
    }
    DeliveryFailure failure =
        DeliveryFailure.status(response.status(), response.retryAfter(), response.body());
    metrics.requestFailed(failure.errorType());
    throw failure;
  }
}
