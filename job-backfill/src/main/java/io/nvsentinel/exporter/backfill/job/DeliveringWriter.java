package io.nvsentinel.exporter.backfill.job;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.delivery.DeliveryOutcome;
import io.nvsentinel.exporter.delivery.EventDeliverer;
import io.nvsentinel.exporter.delivery.WhenSinkUnavailable;
import io.nvsentinel.exporter.metrics.ExporterMetric;
import io.nvsentinel.exporter.tracing.EventTracing;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.springframework.batch.infrastructure.item.Chunk;
import org.springframework.batch.infrastructure.item.ItemWriter;

/**
 * Delivers a chunk, several events in flight, each one through the rate limiter; with batched
 * delivery ({@code batchEvents} above 1) several requests in flight, each carrying up to that many
 * of the chunk's events in the JSON batch format. The chunk (and with it the reader's position)
 * commits only when every event is acknowledged or dead-lettered; if the sink can take no event
 * (retries ran out for all, or a setting is wrong) the chunk fails, and a rerun starts again at its
 * first event. No wait is unbounded: a delivery that outlives {@code deliveryBound} — longer than
 * its retries can take — fails the chunk.
 */
final class DeliveringWriter implements ItemWriter<OutgoingEvent> {

  private final EventDeliverer deliverer;
  private final RateLimiter limiter;
  private final ExecutorService pool;
  private final Duration deliveryBound;
  private final int batchEvents;
  private final Counter delivered;

  /**
   * @param batchEvents the most events in one request: 1 sends each event on its own
   */
  DeliveringWriter(
      EventDeliverer deliverer,
      RateLimiter limiter,
      ExecutorService pool,
      Duration deliveryBound,
      int batchEvents,
      MeterRegistry meters) {
    this.deliverer = deliverer;
    this.batchEvents = batchEvents;
    this.limiter = limiter;
    this.pool = pool;
    this.deliveryBound = deliveryBound;
    // the replaced exporter's meaning: events its backfill published
    this.delivered =
        Counter.builder(ExporterMetric.BACKFILL_EVENTS_PROCESSED.meterName())
            .description("Events the backfill delivered")
            .register(meters);
  }

  /** Delivers {@code event} and ends its span with how it ended. */
  private DeliveryOutcome deliver(OutgoingEvent event) {
    try {
      DeliveryOutcome outcome = deliverer.deliver(event, WhenSinkUnavailable.FAIL);
      if (outcome instanceof DeliveryOutcome.Delivered) {
        delivered.increment();
      }
      EventTracing.finish(event.span(), outcome.label());
      return outcome;
    } catch (RuntimeException | Error e) {
      event.span().error(e);
      event.span().end();
      throw e;
    }
  }

  /** Delivers {@code events} in one request and ends each one's span with how it ended. */
  private void deliverBatch(List<OutgoingEvent> events) {
    try {
      List<DeliveryOutcome> outcomes = deliverer.deliverBatch(events, WhenSinkUnavailable.FAIL);
      for (int i = 0; i < outcomes.size(); i++) {
        if (outcomes.get(i) instanceof DeliveryOutcome.Delivered) {
          delivered.increment();
        }
        EventTracing.finish(events.get(i).span(), outcomes.get(i).label());
      }
    } catch (RuntimeException | Error e) {
      for (OutgoingEvent event : events) {
        event.span().error(e);
        event.span().end();
      }
      throw e;
    }
  }

  @Override
  public void write(Chunk<? extends OutgoingEvent> chunk) throws Exception {
    List<Future<?>> inFlight = new ArrayList<>(chunk.size());
    try {
      if (batchEvents > 1) {
        List<OutgoingEvent> batch = new ArrayList<>(batchEvents);
        for (OutgoingEvent event : chunk) {
          limiter.acquire();
          batch.add(event);
          if (batch.size() == batchEvents) {
            List<OutgoingEvent> full = batch;
            inFlight.add(pool.submit(() -> deliverBatch(full)));
            batch = new ArrayList<>(batchEvents);
          }
        }
        if (!batch.isEmpty()) {
          List<OutgoingEvent> rest = batch;
          inFlight.add(pool.submit(() -> deliverBatch(rest)));
        }
      } else {
        for (OutgoingEvent event : chunk) {
          limiter.acquire();
          inFlight.add(pool.submit(() -> deliver(event)));
        }
      }
      long deadline = System.nanoTime() + deliveryBound.toNanos();
      for (Future<?> delivery : inFlight) {
        delivery.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      }
    } catch (TimeoutException e) {
      inFlight.forEach(f -> f.cancel(true));
      throw new IllegalStateException(
          "a delivery of this chunk did not end within "
              + deliveryBound
              + ", longer than its retries can take; the chunk is rerun",
          e);
    } catch (ExecutionException e) {
      inFlight.forEach(f -> f.cancel(true));
      throw e.getCause() instanceof Exception cause ? cause : e;
    } catch (InterruptedException e) {
      inFlight.forEach(f -> f.cancel(true));
      Thread.currentThread().interrupt();
      throw e;
    }
  }
}
