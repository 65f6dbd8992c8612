package io.nvsentinel.exporter.live.stream;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The changes read for batched delivery ({@code exporter.sink.batch}) that no worker has yet:
 * handed over as one batch once {@code maxEvents} are gathered, or once the first of them waited
 * {@code maxWait}, whichever comes first. Thread-safe.
 *
 * @param <E> what is gathered
 */
final class Gathering<E> {

  private final int maxEvents;
  private final Duration maxWait;
  private final ScheduledExecutorService timer;
  private final Consumer<List<E>> handOver;
  private List<E> gathered;
  private long generation;

  Gathering(
      int maxEvents, Duration maxWait, ScheduledExecutorService timer, Consumer<List<E>> handOver) {
    this.maxEvents = maxEvents;
    this.maxWait = maxWait;
    this.timer = timer;
    this.handOver = handOver;
    this.gathered = new ArrayList<>(maxEvents);
  }

  synchronized void add(E element) {
    gathered.add(element);
    if (gathered.size() >= maxEvents) {
      handOver();
    } else if (gathered.size() == 1) {
      long batch = generation;
      timer.schedule(() -> handOverIfStill(batch), maxWait.toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  /** Hands over what is gathered now, full or not (on shutdown). */
  synchronized void handOverNow() {
    if (!gathered.isEmpty()) {
      handOver();
    }
  }

  private synchronized void handOverIfStill(long batch) {
    if (generation == batch && !gathered.isEmpty()) {
      handOver();
    }
  }

  private void handOver() {
    List<E> batch = gathered;
    gathered = new ArrayList<>(maxEvents);
    generation++;
    handOver.accept(batch);
  }
}
