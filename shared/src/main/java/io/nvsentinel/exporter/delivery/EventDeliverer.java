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
import java.util.ArrayList;
import java.util.List;
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

  /** Fetches the access token ahead of need, as a standby does; see {@link SinkAttempts}. */
  public void warmUp() {
    sink.warmUp();
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
    return deliver(Parcel.of(event), whenUnavailable).get(0);
  }

  /**
   * Delivers {@code events} in one request in the CloudEvents JSON batch format, each under its own
   * id; returns once every one of them is acknowledged or dead-lettered, their outcomes in the same
   * order. The sink takes or refuses the batch as a whole: retries, {@code Retry-After} and holding
   * during an outage are those of a single event. A batch the sink refuses (a client error, or a
   * 5xx it keeps answering while it takes other events) is sent again in halves, down to the one
   * event it refuses, which alone becomes a dead letter.
   *
   * @throws DeliveryInterruptedException if the thread is interrupted first; events already
   *     accounted for stay so, the others were not recorded
   * @throws DeliveryExhaustedException with {@link WhenSinkUnavailable#FAIL}, as {@link
   *     #deliver(OutgoingEvent, WhenSinkUnavailable)}
   */
  public List<DeliveryOutcome> deliverBatch(
      List<OutgoingEvent> events, WhenSinkUnavailable whenUnavailable) {
    return events.isEmpty() ? List.of() : deliver(Parcel.batch(events), whenUnavailable);
  }

  /** How a parcel's delivery ended, before it is accounted for event by event. */
  private sealed interface Ending {}

  private record Accepted(int status) implements Ending {}

  /** The sink refuses the parcel itself: a dead letter for one event, halves for a batch. */
  private record Refused(DeliveryFailure last) implements Ending {}

  private List<DeliveryOutcome> deliver(Parcel parcel, WhenSinkUnavailable whenUnavailable) {
    // every log line about this parcel, here and below, carries its CloudEvent id
    Span span = tracing.startChild(parcel.span(), EventTracing.PUBLISH_WITH_RETRY);
    Instant first = clock.instant();
    long firstNanos = System.nanoTime();
    Attempts attempts = new Attempts(span);
    Refused refused;
    try (MDC.MDCCloseable ignored = MDC.putCloseable(EVENT_ID, parcel.id())) {
      Ending ending = deliverWithRetries(parcel, whenUnavailable, attempts);
      span.tag(EventTracing.ATTEMPT, attempts.count);
      if (ending instanceof Accepted accepted) {
        EventTracing.finish(span, "delivered");
        return delivered(parcel, attempts, accepted.status(), firstNanos);
      }
      refused = (Refused) ending;
      if (parcel.size() == 1) {
        DeliveryOutcome dead =
            deadLettered(parcel.events().get(0), refused.last(), attempts, first);
        EventTracing.finish(span, dead.label());
        return List.of(dead);
      }
      EventTracing.finish(span, "split");
    } catch (RuntimeException | Error e) {
      span.error(e);
      span.end();
      throw e;
    }
    return split(parcel, refused.last(), whenUnavailable);
  }

  /** Sends a refused batch again in halves, so that only the events it refuses are set aside. */
  private List<DeliveryOutcome> split(
      Parcel batch, DeliveryFailure refusal, WhenSinkUnavailable whenUnavailable) {
    metrics.batchSplit();
    log.warn(
        "the sink refused the batch of {} events starting with {} ({}); sending it again in"
            + " halves to find the event it refuses (a sink that refuses every batch takes no"
            + " batch: set exporter.sink.batch.enabled=false)",
        batch.size(),
        batch.events().get(0).id(),
        refusal.getMessage());
    List<DeliveryOutcome> outcomes = new ArrayList<>(batch.size());
    for (Parcel half : batch.halves()) {
      outcomes.addAll(deliver(half, whenUnavailable));
    }
    return outcomes;
  }

  private Ending deliverWithRetries(
      Parcel parcel, WhenSinkUnavailable whenUnavailable, Attempts attempts) {
    AtomicReference<Duration> retryAfter = new AtomicReference<>();
    RetryTemplate retries = new RetryTemplate(schedule.retryPolicy(retryAfter::get));
    try {
      int status =
          retries.execute(
              () -> {
                try {
                  retryAfter.set(null);
                  return sink.send(parcel, attempts);
                } catch (DeliveryFailure failure) {
                  retryAfter.set(failure.retryAfter());
                  logFailure(parcel, attempts, failure);
                  throw failure;
                }
              });
      return new Accepted(status);
    } catch (RetryException e) {
      if (Thread.currentThread().isInterrupted()) {
        throw new DeliveryInterruptedException(parcel.id(), e);
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
      metrics.givenUp(parcel.size());
      Ending verdict = judge(parcel, attempts, last);
      if (verdict != null) {
        return verdict;
      }
      if (whenUnavailable == WhenSinkUnavailable.FAIL) {
        availability.settled(parcel.id());
        throw new DeliveryExhaustedException(parcel.id(), attempts.count, last);
      }
      return hold(parcel, attempts);
    }
  }

  /**
   * After a final failure: refused when it is the parcel's own fault, accepted if the last try that
   * decides it succeeds, or {@code null} while the sink takes nothing or nothing tells yet ({@link
   * FaultIsolation}).
   */
  private Ending judge(Parcel parcel, Attempts attempts, DeliveryFailure last) {
    if (last.kind() == DeliveryFailure.Kind.REFUSED) {
      return new Refused(last);
    }
    if (!last.retryable()) {
      availability.unavailable(last);
      return null;
    }
    switch (isolation.judge(parcel, attempts)) {
      case PAYLOAD:
        return new Refused(last);
      case CONFIRM:
        try {
          return new Accepted(sink.send(parcel, attempts));
        } catch (DeliveryFailure again) {
          // the probe was taken between this failure and the last one
          return judge(parcel, attempts, again);
        }
      case OUTAGE:
        availability.unavailable(last);
        return null;
      default:
        log.warn(UNDECIDED, parcel.id());
        return null;
    }
  }

  /**
   * Tries the parcel again until the sink takes it, or the evidence says the sink refuses it, or
   * the thread is interrupted.
   */
  private Ending hold(Parcel parcel, Attempts attempts) {
    try {
      while (true) {
        try {
          availability.awaitAcceptance(holdInterval, attempts.lastStartNanos);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new DeliveryInterruptedException(parcel.id(), e);
        }
        try {
          return new Accepted(sink.send(parcel, attempts));
        } catch (DeliveryFailure failure) {
          Ending verdict = judge(parcel, attempts, failure);
          if (verdict != null) {
            return verdict;
          }
          log.debug("event {}: still held ({})", parcel.id(), failure.getMessage());
        }
      }
    } finally {
      availability.settled(parcel.id());
    }
  }

  private List<DeliveryOutcome> delivered(
      Parcel parcel, Attempts attempts, int status, long firstNanos) {
    Duration took = Duration.ofNanos(System.nanoTime() - firstNanos);
    if (parcel.size() == 1) {
      metrics.delivered(took);
      return List.of(new DeliveryOutcome.Delivered(parcel.id(), attempts.count, status));
    }
    List<DeliveryOutcome> outcomes = new ArrayList<>(parcel.size());
    for (OutgoingEvent event : parcel.events()) {
      metrics.delivered(took);
      outcomes.add(new DeliveryOutcome.Delivered(event.id(), attempts.count, status));
    }
    return outcomes;
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

  private static void logFailure(Parcel parcel, Attempts attempts, DeliveryFailure failure) {
    log.warn(
        "event {}: attempt {} failed ({}): {}",
        parcel.id(),
        attempts.count,
        failure.kind().name().toLowerCase(Locale.ROOT),
        failure.getMessage());
  }
}
