package io.nvsentinel.exporter.backfill.job;

import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.delivery.EventDeliverer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import org.springframework.batch.infrastructure.item.Chunk;
import org.springframework.batch.infrastructure.item.ItemWriter;

/**
 * Delivers a chunk, several events in flight, each one through the rate limiter. The chunk (and
 * with it the reader's position) commits only when every event is acknowledged or dead-lettered; if
 * retries run out the chunk fails, and a rerun starts again at its first event.
 */
final class DeliveringWriter implements ItemWriter<OutgoingEvent> {

  private final EventDeliverer deliverer;
  private final RateLimiter limiter;
  private final ExecutorService pool;

  DeliveringWriter(EventDeliverer deliverer, RateLimiter limiter, ExecutorService pool) {
    this.deliverer = deliverer;
    this.limiter = limiter;
    this.pool = pool;
  }

  @Override
  public void write(Chunk<? extends OutgoingEvent> chunk) throws Exception {
    List<Future<?>> inFlight = new ArrayList<>(chunk.size());
    try {
      for (OutgoingEvent event : chunk) {
        limiter.acquire();
        inFlight.add(
            pool.submit(() -> deliverer.deliver(event, EventDeliverer.WhenExhausted.FAIL)));
      }
      for (Future<?> delivery : inFlight) {
        delivery.get();
      }
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
