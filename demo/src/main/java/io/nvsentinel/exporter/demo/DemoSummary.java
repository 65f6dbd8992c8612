package io.nvsentinel.exporter.demo;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.metrics.ExporterMetric;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.springframework.context.ConfigurableApplicationContext;

/** What happened, counted at the sink, beside what the applications say they filtered. */
public record DemoSummary(
    int stored,
    int backfilled,
    long backfillFiltered,
    int inserted,
    int live,
    long liveFiltered,
    long duplicates,
    long deadLetters,
    double latencyP50Millis,
    double latencyP99Millis,
    int backfillExitCode) {

  /** Every event arrived or was dropped by the filter, counted by the applications themselves. */
  boolean complete() {
    return backfilled + backfillFiltered == stored && live + liveFiltered == inserted;
  }

  String render() {
    return String.join(
        "\n",
        "",
        "==== NVSentinel event exporter demo: summary ====",
        String.format("stored history            %6d events", stored),
        String.format(
            "backfilled to the sink    %6d events (backfill exit status %d)",
            backfilled, backfillExitCode),
        String.format("filtered by the backfill  %6d events", backfillFiltered),
        String.format("inserted while live       %6d events", inserted),
        String.format("delivered live            %6d events", live),
        String.format("filtered live             %6d events", liveFiltered),
        String.format("duplicates at the sink    %6d (same source + id)", duplicates),
        String.format("dead letters              %6d", deadLetters),
        String.format(
            "live latency              p50 %.0f ms, p99 %.0f ms (insert to arrival)",
            latencyP50Millis, latencyP99Millis),
        complete() ? "nothing lost." : "INCOMPLETE: some events did not arrive.",
        "");
  }

  /**
   * Counts at the sink what arrived of the stored history and of the events inserted while live
   * ({@code insertedAt}: id → insert time), with the live latency from insert to first arrival,
   * beside what each application's filter dropped.
   */
  static DemoSummary count(
      ReferenceSink sink,
      Set<String> historyIds,
      Map<String, Instant> insertedAt,
      long backfillFiltered,
      long liveFiltered,
      long deadLetters,
      int backfillExit) {
    Set<String> arrived =
        sink.distinct().stream().map(ReferenceSink.Received::id).collect(Collectors.toSet());
    Map<String, Instant> firstArrival = new HashMap<>();
    for (ReferenceSink.Received received : sink.accepted()) {
      firstArrival.putIfAbsent(received.id(), received.at());
    }
    List<Long> latencies = new ArrayList<>();
    insertedAt.forEach(
        (id, at) -> {
          Instant arrival = firstArrival.get(id);
          if (arrival != null) {
            latencies.add(Math.max(0, Duration.between(at, arrival).toMillis()));
          }
        });
    Collections.sort(latencies);
    return new DemoSummary(
        historyIds.size(),
        (int) historyIds.stream().filter(arrived::contains).count(),
        backfillFiltered,
        insertedAt.size(),
        (int) insertedAt.keySet().stream().filter(arrived::contains).count(),
        liveFiltered,
        sink.duplicates(),
        deadLetters,
        percentile(latencies, 0.50),
        percentile(latencies, 0.99),
        backfillExit);
  }

  /** What an application's {@code exporter.filter.expression} dropped, by its own count. */
  static long filteredBy(ConfigurableApplicationContext app) {
    Counter counter =
        app.getBean(MeterRegistry.class).find(ExporterMetric.EVENTS_FILTERED.meterName()).counter();
    return counter == null ? 0 : (long) counter.count();
  }

  /** Nearest-rank percentile of sorted values. */
  private static double percentile(List<Long> sorted, double p) {
    if (sorted.isEmpty()) {
      return 0;
    }
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
  }
}
