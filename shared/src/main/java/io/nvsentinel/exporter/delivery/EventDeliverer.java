package io.nvsentinel.exporter.delivery;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.tracing.Span;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.config.ClientSecret;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.deadletter.DeadLetter;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import io.nvsentinel.exporter.delivery.SinkAttempts.Attempts;
import io.nvsentinel.exporter.sink.SinkAuthorization;
import io.nvsentinel.exporter.sink.SinkClient;
import io.nvsentinel.exporter.tracing.EventTracing;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.core.retry.RetryException;
import org.springframework.core.retry.RetryTemplate;

/**
 * Delivers one CloudEvent until the sink acknowledges it or it is set aside as a dead letter:
 * Spring's {@link RetryTemplate} with the {@link RetrySchedule}, retrying only what {@link
 * DeliveryFailure} calls transient. A 401 drops the cached token and re-sends at once with a fresh
 * one before any back-off. Only what is the event's own fault makes a dead letter: a refusal by the
 * sink, or retries running out while the sink takes other events ({@link FaultIsolation}: a payload
 * it chokes on costs that one event, never the stream). A misconfiguration or an outage for every
 * event is reported to {@link SinkAvailability} and, depending on the caller, held until it is over
 * or failed. Safe to call from many threads.
 */
public final class EventDeliverer {

  private static final Logger log = LoggerFactory.getLogger(EventDeliverer.class);

  /** The log context key holding the CloudEvent id while an event is delivered. */
  public static final String EVENT_ID = "eventId";

  private static final String UNDECIDED =
      "event {} ran out of retries and nothing else was sent yet to tell a payload the sink refuses"
          + " from an outage: it is held, others go on, and the next event decides";

  /** The longest wait between two attempts of a held event. */
  static final Duration MAX_HOLD_INTERVAL = Duration.ofSeconds(30);

  private final SinkAttempts sink;
  private final SinkAuthorization authorization;
  private final RetrySchedule schedule;
  private final DeadLetterStore deadLetters;
  private final DeliveryMetrics metrics;
  private final SinkAvailability availability;
  private final FaultIsolation isolation;
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
    this.availability = new SinkAvailability();
    this.sink = new SinkAttempts(sink, authorization, availability, metrics, tracing);
    this.isolation = new FaultIsolation(availability, this.sink);
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

  /** The sink's availability, as the deliveries found it. */
  /** Fetches the access token ahead of need, as a standby does; see {@link SinkAttempts}. */
  public void warmUp() {
    sink.warmUp();
  }

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
    RetryTemplate retries = new RetryTemplate(schedule.retryPolicy(retryAfter::get));
    try {
      int status =
          retries.execute(
              () -> {
                try {
                  retryAfter.set(null);
                  return sink.send(event, attempts);
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
      DeliveryOutcome verdict = judge(event, attempts, last, first, firstNanos);
      if (verdict != null) {
        return verdict;
      }
      if (whenUnavailable == WhenSinkUnavailable.FAIL) {
        availability.settled(event.id());
        throw new DeliveryExhaustedException(event.id(), attempts.count, last);
      }
      return hold(event, attempts, first, firstNanos);
    }
  }

  /**
   * After a final failure: a dead letter when it is the event's own fault, a delivery if the last
   * try that decides it succeeds, or {@code null} while the sink takes no event or nothing tells
   * yet ({@link FaultIsolation}).
   */
  private DeliveryOutcome judge(
      OutgoingEvent event,
      Attempts attempts,
      DeliveryFailure last,
      Instant first,
      long firstNanos) {
    if (last.kind() == DeliveryFailure.Kind.REFUSED) {
      return deadLettered(event, last, attempts, first);
    }
    if (!last.retryable()) {
      availability.unavailable(last);
      return null;
    }
    switch (isolation.judge(event, attempts)) {
      case PAYLOAD:
        return deadLettered(event, last, attempts, first);
      case CONFIRM:
        try {
          return delivered(event, attempts, sink.send(event, attempts), firstNanos);
        } catch (DeliveryFailure again) {
          // the probe was taken between this failure and the last one
          return judge(event, attempts, again, first, firstNanos);
        }
      case OUTAGE:
        availability.unavailable(last);
        return null;
      default:
        log.warn(UNDECIDED, event.id());
        return null;
    }
  }

  /**
   * Tries the event again until the sink takes it, or the evidence makes it a dead letter, or the
   * thread is interrupted.
   */
  private DeliveryOutcome hold(
      OutgoingEvent event, Attempts attempts, Instant first, long firstNanos) {
    try {
      while (true) {
        try {
          availability.awaitAcceptance(holdInterval, attempts.lastStartNanos);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new DeliveryInterruptedException(event.id(), e);
        }
        try {
          return delivered(event, attempts, sink.send(event, attempts), firstNanos);
        } catch (DeliveryFailure failure) {
          DeliveryOutcome verdict = judge(event, attempts, failure, first, firstNanos);
          if (verdict != null) {
            return verdict;
          }
          log.debug("event {}: still held ({})", event.id(), failure.getMessage());
        }
      }
    } finally {
      availability.settled(event.id());
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
    deadLetters.deliveryFailed(event, kind, last.asAttempt(), attempts.count, first);
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
}
