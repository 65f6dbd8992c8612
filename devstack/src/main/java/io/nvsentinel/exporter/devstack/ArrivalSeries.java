package io.nvsentinel.exporter.devstack;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What the sink's live page draws: events accepted per second, split into backfill (the event
 * happened before the live exporter's cutoff) and live, and the latency of live events from their
 * time to their arrival. Until the cutoff is known every event counts as live.
 */
public final class ArrivalSeries {

  /** Seconds of history kept for the chart. */
  static final int SECONDS = 180;

  private static final int LATENCIES = 10_000;
  private static final int LIVE = 0;
  private static final int BACKFILL = 1;

  /** Per-second counts, read from the newest second back. */
  public record Window(long[] seconds, long[] live, long[] backfill) {}

  /** Percentiles of the live latency in milliseconds, over the most recent live events. */
  public record Latency(int count, double p50, double p90, double p99) {}

  private final NavigableMap<Long, AtomicLongArray> perSecond = new ConcurrentSkipListMap<>();
  private final Deque<Long> latenciesMillis = new ArrayDeque<>();
  private final AtomicReference<Instant> cutoff = new AtomicReference<>();

  /** The live exporter's backfill cutoff: events before it are the backfill's. */
  public void backfillCutoff(Instant cutoff) {
    this.cutoff.set(cutoff);
  }

  /** Counts one accepted event; {@code eventTime} may be {@code null} when it has none. */
  public void arrived(Instant arrival, Instant eventTime) {
    Instant limit = cutoff.get();
    boolean backfill = limit != null && eventTime != null && eventTime.isBefore(limit);
    long second = arrival.getEpochSecond();
    perSecond
        .computeIfAbsent(second, s -> new AtomicLongArray(2))
        .incrementAndGet(backfill ? BACKFILL : LIVE);
    perSecond.headMap(second - SECONDS).clear();
    if (!backfill && eventTime != null) {
      long millis = Duration.between(eventTime, arrival).toMillis();
      synchronized (latenciesMillis) {
        latenciesMillis.addLast(Math.max(0, millis));
        if (latenciesMillis.size() > LATENCIES) {
          latenciesMillis.removeFirst();
        }
      }
    }
  }

  /** The last {@code seconds} whole seconds before {@code now}, oldest first, gaps as zero. */
  public Window window(Instant now, int seconds) {
    long last = now.getEpochSecond() - 1;
    long[] at = new long[seconds];
    long[] live = new long[seconds];
    long[] backfill = new long[seconds];
    for (int i = 0; i < seconds; i++) {
      long second = last - (seconds - 1 - i);
      at[i] = second;
      AtomicLongArray counts = perSecond.get(second);
      if (counts != null) {
        live[i] = counts.get(LIVE);
        backfill[i] = counts.get(BACKFILL);
      }
    }
    return new Window(at, live, backfill);
  }

  /** Latency percentiles (nearest rank) over the most recent live events. */
  public Latency latency() {
    long[] sorted;
    synchronized (latenciesMillis) {
      sorted = latenciesMillis.stream().mapToLong(Long::longValue).toArray();
    }
    Arrays.sort(sorted);
    return new Latency(sorted.length, rank(sorted, 0.50), rank(sorted, 0.90), rank(sorted, 0.99));
  }

  private static double rank(long[] sorted, double quantile) {
    if (sorted.length == 0) {
      return 0;
    }
    int index = (int) Math.ceil(quantile * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  /** The longest time between two of the sink's arrivals in {@code [from, to]}. */
  public static Duration longestPause(
      Collection<ReferenceSink.Received> accepted, Instant from, Instant to) {
    List<Instant> arrivals =
        accepted.stream()
            .map(ReferenceSink.Received::at)
            .filter(t -> !t.isBefore(from) && !t.isAfter(to))
            .sorted()
            .toList();
    Duration longest = Duration.ZERO;
    for (int i = 1; i < arrivals.size(); i++) {
      Duration gap = Duration.between(arrivals.get(i - 1), arrivals.get(i));
      if (gap.compareTo(longest) > 0) {
        longest = gap;
      }
    }
    return longest;
  }
}
