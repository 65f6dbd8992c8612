package io.nvsentinel.exporter.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How often the CPU quota stopped the exporter's cgroup, and for how long in all: the periods (100
 * ms each) in which it was throttled, and the time it waited. Read from the cgroup's {@code
 * cpu.stat} ({@code FOOTPRINT_CPU_STAT}); nothing where the limits are JVM options.
 */
record Throttling(long periods, long throttled, long nanos) {

  static Throttling now() {
    String stat = System.getenv("FOOTPRINT_CPU_STAT");
    if (stat == null) {
      return new Throttling(-1, -1, -1);
    }
    try {
      long periods = 0;
      long throttled = 0;
      long nanos = 0;
      for (String line : Files.readAllLines(Path.of(stat))) {
        String[] kv = line.split(" ");
        long value = Long.parseLong(kv[1]);
        switch (kv[0]) {
          case "nr_periods" -> periods = value;
          case "nr_throttled" -> throttled = value;
          case "throttled_time" -> nanos = value;
          case "throttled_usec" -> nanos = value * 1000;
          default -> {}
        }
      }
      return new Throttling(periods, throttled, nanos);
    } catch (IOException | RuntimeException e) {
      return new Throttling(-1, -1, -1);
    }
  }

  Throttling until(Throttling later) {
    return new Throttling(
        later.periods - periods, later.throttled - throttled, later.nanos - nanos);
  }

  @Override
  public String toString() {
    return periods < 0
        ? "—"
        : String.format("%d of %d periods, %.0f ms", throttled, periods, nanos / 1e6);
  }
}
