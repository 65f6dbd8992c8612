package io.nvsentinel.exporter.store.postgres;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The change-log ids read above the watermark, as disjoint ranges, so that the holes between them
 * (rows not visible yet when their neighbours were read) can be asked for, and nothing is read
 * twice.
 */
final class ReadIds {

  private final NavigableMap<Long, Long> ranges = new TreeMap<>();

  /** How many disjoint ranges are held: the memory this takes. */
  int ranges() {
    return ranges.size();
  }

  /** The highest id read, or {@code floor} when none above it was. */
  long highest(long floor) {
    return ranges.isEmpty() ? floor : Math.max(floor, ranges.lastEntry().getValue());
  }

  /** The end of the run of ids read right above {@code floor}; {@code floor} when none is. */
  long contiguousTop(long floor) {
    Map.Entry<Long, Long> range = ranges.floorEntry(floor + 1);
    return range != null && range.getValue() > floor ? range.getValue() : floor;
  }

  boolean contains(long id, long floor) {
    if (id <= floor) {
      return true;
    }
    Map.Entry<Long, Long> range = ranges.floorEntry(id);
    return range != null && range.getValue() >= id;
  }

  void add(long id, long floor) {
    if (contains(id, floor)) {
      return;
    }
    Map.Entry<Long, Long> below = ranges.floorEntry(id);
    long start = below != null && below.getValue() == id - 1 ? below.getKey() : id;
    long end = id;
    Map.Entry<Long, Long> after = ranges.ceilingEntry(id + 1);
    if (after != null && after.getKey() == id + 1) {
      end = after.getValue();
      ranges.remove(after.getKey());
    }
    ranges.put(start, end);
  }

  /** Forgets what lies at or below {@code floor}: the watermark has passed it. */
  void dropThrough(long floor) {
    while (!ranges.isEmpty() && ranges.firstEntry().getValue() <= floor) {
      ranges.pollFirstEntry();
    }
    Map.Entry<Long, Long> first = ranges.firstEntry();
    if (first != null && first.getKey() <= floor) {
      ranges.pollFirstEntry();
      ranges.put(floor + 1, first.getValue());
    }
  }

  /** The holes above {@code floor}, each as {@code {after, before}}, both exclusive. */
  List<long[]> holes(long floor) {
    List<long[]> holes = new ArrayList<>();
    long previous = floor;
    for (Map.Entry<Long, Long> range : ranges.entrySet()) {
      if (range.getKey() > previous + 1) {
        holes.add(new long[] {previous, range.getKey()});
      }
      previous = range.getValue();
    }
    return holes;
  }
}
