package io.nvsentinel.exporter.bench;

import java.util.Map;
import java.util.TreeMap;

/**
 * The exporter's own account of its deliveries: the buckets of its publish-duration histogram (from
 * an event's first POST to the sink's acceptance), read from {@code /metrics}. The difference over
 * a paced phase bounds the part of the insert-to-arrival latency that is the POST; the rest is
 * reading the store and waiting to be sent.
 */
record PostDurations(TreeMap<Double, Long> cumulative) {

  private static final String BUCKET =
      "health_events_exporter_publish_duration_seconds_bucket{le=\"";

  static PostDurations of(String metrics) {
    TreeMap<Double, Long> buckets = new TreeMap<>();
    for (String line : metrics.split("\n")) {
      if (line.startsWith(BUCKET) && !line.startsWith(BUCKET + "+Inf")) {
        int end = line.indexOf('"', BUCKET.length());
        double le = Double.parseDouble(line.substring(BUCKET.length(), end));
        long count = (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        buckets.put(le, count);
      }
    }
    return new PostDurations(buckets);
  }

  PostDurations until(PostDurations later) {
    TreeMap<Double, Long> counts = new TreeMap<>();
    later.cumulative.forEach(
        (le, count) -> counts.put(le, count - cumulative.getOrDefault(le, 0L)));
    return new PostDurations(counts);
  }

  /** "p50 ≤ 5 ms · p99 ≤ 25 ms · all ≤ 50 ms": the smallest bucket bound holding each share. */
  @Override
  public String toString() {
    if (cumulative.isEmpty()) {
      return "—";
    }
    long all = cumulative.lastEntry().getValue();
    return String.format(
        "p50 ≤ %s · p99 ≤ %s · all ≤ %s", bound(all * 0.5), bound(all * 0.99), bound(all));
  }

  private String bound(double count) {
    for (Map.Entry<Double, Long> bucket : cumulative.entrySet()) {
      if (bucket.getValue() >= count) {
        return String.format("%.0f ms", bucket.getKey() * 1000);
      }
    }
    return "more than " + String.format("%.0f ms", cumulative.lastKey() * 1000);
  }
}
