package io.nvsentinel.exporter.delivery;

import io.cloudevents.CloudEvent;
import io.cloudevents.jackson.JsonFormat;
import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.config.ClientSecret;
import io.nvsentinel.exporter.config.ExporterProperties;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.core.retry.RetryException;
import org.springframework.core.retry.RetryPolicy;
import org.springframework.core.retry.RetryTemplate;
import org.springframework.security.oauth2.core.OAuth2AuthorizationException;
import org.springframework.util.backoff.BackOff;

/**
 * Delivers one CloudEvent until the sink acknowledges it or it is set aside as a dead letter:
 * Spring's {@link RetryTemplate} with the {@link RetrySchedule}, retrying only what {@link
 * DeliveryFailure} calls retryable. A 401 drops the cached token and re-sends at once with a fresh
 * one before any back-off. Safe to call from many threads.
 */
public final class EventDeliverer {

  private static final Logger log = LoggerFactory.getLogger(EventDeliverer.class);
  private static final JsonFormat FORMAT = new JsonFormat();

  /** The log context key holding the CloudEvent id while an event is delivered. */
  public static final String EVENT_ID = "eventId";

  private final SinkClient sink;
  private final SinkAuthorization authorization;
  private final RetrySchedule schedule;
  private final DeadLetterStore deadLetters;
  private final DeliveryMetrics metrics;
  private final Clock clock;

  EventDeliverer(
      SinkClient sink,
      SinkAuthorization authorization,
      RetrySchedule schedule,
      DeadLetterStore deadLetters,
      MeterRegistry meters,
      Clock clock) {
    this.sink = sink;
    this.authorization = authorization;
    this.schedule = schedule;
    this.deadLetters = deadLetters;
    this.metrics = new DeliveryMetrics(meters);
    this.clock = clock;
  }

  /** Wires the sink client, OIDC and retries from the configuration. */
  public static EventDeliverer create(
      ExporterProperties properties,
      ClientSecret secret,
      DeadLetterStore deadLetters,
      MeterRegistry meters,
      Clock clock) {
    SinkAuthorization authorization =
        new SinkAuthorization(properties.oidc(), secret, properties.sink().timeout(), meters);
    SinkClient sink = new SinkClient(properties.sink(), clock);
    return new EventDeliverer(
        sink,
        authorization,
        new RetrySchedule(properties.failureHandling()),
        deadLetters,
        meters,
        clock);
  }

  /** What to do with an event whose retries ran out. */
  public enum WhenExhausted {
    /** Set it aside and go on: the live stream must not stall on one event. */
    DEAD_LETTER,
    /**
     * Throw {@link DeliveryExhaustedException}: a backfill chunk fails and is rerun later, instead
     * of dead-lettering a whole window while the sink is down.
     */
    FAIL
  }

  /**
   * Delivers {@code event}; returns once it is acknowledged or dead-lettered.
   *
   * @throws DeliveryInterruptedException if the thread is interrupted first; nothing was recorded
   */
  public DeliveryOutcome deliver(OutgoingEvent event) {
    return deliver(event, WhenExhausted.DEAD_LETTER);
  }

  /**
   * Delivers {@code event}. A refusal by the sink (a final 4xx) always makes a dead letter; what
   * happens when retries run out is up to {@code whenExhausted}.
   *
   * @throws DeliveryInterruptedException if the thread is interrupted first; nothing was recorded
   * @throws DeliveryExhaustedException with {@link WhenExhausted#FAIL}, when retries ran out
   */
  public DeliveryOutcome deliver(OutgoingEvent event, WhenExhausted whenExhausted) {
    // every log line about this event, here and below, carries its CloudEvent id
    try (MDC.MDCCloseable ignored = MDC.putCloseable(EVENT_ID, event.id())) {
      return deliverWithRetries(event, whenExhausted);
    }
  }

  private DeliveryOutcome deliverWithRetries(OutgoingEvent event, WhenExhausted whenExhausted) {
    Instant first = clock.instant();
    AtomicInteger attempts = new AtomicInteger();
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
                  log.warn(
                      "event {}: attempt {} failed ({}): {}",
                      event.id(),
                      attempts.get(),
                      failure.retryable() ? "retryable" : "permanent",
                      failure.getMessage());
                  throw failure;
                }
              });
      metrics.delivered();
      return new DeliveryOutcome.Delivered(event.id(), attempts.get(), status);
    } catch (RetryException e) {
      if (Thread.currentThread().isInterrupted()) {
        throw new DeliveryInterruptedException(event.id(), e);
      }
      DeliveryFailure last =
          e.getLastException() instanceof DeliveryFailure failure
              ? failure
              : DeliveryFailure.unexpected(
                  new IllegalStateException(String.valueOf(e.getLastException())));
      if (last.retryable() && whenExhausted == WhenExhausted.FAIL) {
        metrics.failed();
        throw new DeliveryExhaustedException(event.id(), attempts.get(), last);
      }
      String kind = last.retryable() ? "exhausted" : "rejected";
      deadLetters.deliveryFailed(event, kind, last, attempts.get(), first);
      metrics.failed();
      String reason =
          (last.retryable() ? "gave up after " + attempts.get() + " attempts: " : "refused: ")
              + last.getMessage();
      log.error("event {} was dead-lettered ({}): {}", event.id(), kind, reason);
      return new DeliveryOutcome.DeadLettered(event.id(), attempts.get(), reason);
    }
  }

  private RetryPolicy policy(java.util.function.Supplier<Duration> retryAfter) {
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
  private int attempt(OutgoingEvent event, AtomicInteger attempts) {
    SinkResponse response = post(event, attempts);
    if (response.status() == 401) {
      metrics.error("unauthorized");
      log.info(
          "event {}: the sink refused the token (401); retrying once with a fresh token",
          event.id());
      authorization.invalidate();
      response = post(event, attempts);
    }
    if (response.accepted()) {
      return response.status();
    }
    DeliveryFailure failure =
        DeliveryFailure.status(response.status(), response.retryAfter(), response.body());
    metrics.error(failure.errorType());
    throw failure;
  }

  private SinkResponse post(OutgoingEvent event, AtomicInteger attempts) {
    attempts.incrementAndGet();
    long start = System.nanoTime();
    try {
      return sink.post(event, authorization.accessToken());
    } catch (IOException e) {
      throw counted(DeliveryFailure.io(e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DeliveryInterruptedException(event.id(), e);
    } catch (OAuth2AuthorizationException e) {
      throw counted(DeliveryFailure.token(e, authorization.tokenUrl()));
    } catch (RuntimeException e) {
      throw counted(DeliveryFailure.unexpected(e));
    } finally {
      metrics.attempt(Duration.ofNanos(System.nanoTime() - start));
    }
  }

  private DeliveryFailure counted(DeliveryFailure failure) {
    metrics.error(failure.errorType());
    return failure;
  }

  /**
   * Sends every dead letter that holds a CloudEvent again, removing those the sink now accepts.
   * Undecodable documents stay: they need their data fixed first.
   */
  public RedriveReport redrive(int limit) {
    int delivered = 0;
    int failedAgain = 0;
    int skipped = 0;
    for (DeadLetter letter : deadLetters.list(limit)) {
      if (letter.cloudEvent() == null) {
        skipped++;
        continue;
      }
      byte[] json = letter.cloudEvent().getBytes(StandardCharsets.UTF_8);
      CloudEvent cloudEvent = FORMAT.deserialize(json);
      DeliveryOutcome outcome = deliver(new OutgoingEvent(cloudEvent, json, letter.documentId()));
      if (outcome instanceof DeliveryOutcome.Delivered) {
        deadLetters.remove(letter.id());
        delivered++;
      } else {
        failedAgain++;
      }
    }
    return new RedriveReport(delivered, failedAgain, skipped);
  }

  /** What a re-drive did. */
  public record RedriveReport(int delivered, int failedAgain, int skippedUndecodable) {}
}
