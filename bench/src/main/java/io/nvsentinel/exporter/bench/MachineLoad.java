package io.nvsentinel.exporter.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;

/**
 * Where the machine's CPU went while a rate was paced: the whole machine (from {@code /proc/stat}),
 * this benchmark's process (the load generator, the sink, and MongoDB when it is the store), and
 * PostgreSQL's processes (by name, with the backends that ended counted in their parent). The
 * measured process — the exporter or the floor reader — is added by the caller. The cores are
 * shared, so what the others take shows in the measured process's latency tail. Linux only; on
 * other systems every figure is -1.
 */
record MachineLoad(
    long nanos, long busyTicks, long allTicks, long benchMillis, long postgresTicks) {

  /** Clock ticks a second of {@code /proc}, as on every Linux this runs on. */
  private static final double TICKS_PER_SECOND = 100;

  static MachineLoad now() {
    long nanos = System.nanoTime();
    long bench = ProcessHandle.current().info().totalCpuDuration().orElse(Duration.ZERO).toMillis();
    try {
      String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long all = 0;
      for (int i = 1; i < Math.min(cpu.length, 9); i++) {
        all += Long.parseLong(cpu[i]);
      }
      long idle = Long.parseLong(cpu[4]) + Long.parseLong(cpu[5]);
      return new MachineLoad(nanos, all - idle, all, bench, postgresProcessTicks());
    } catch (IOException | RuntimeException e) {
      return new MachineLoad(nanos, -1, -1, bench, -1);
    }
  }

  private static long postgresProcessTicks() throws IOException {
    long ticks = 0;
    try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
      for (Path process : (Iterable<Path>) processes::iterator) {
        if (!process.getFileName().toString().chars().allMatch(Character::isDigit)) {
          continue;
        }
        try {
          if (!Files.readString(process.resolve("comm")).trim().equals("postgres")) {
            continue;
          }
          String stat = Files.readString(process.resolve("stat"));
          String[] f = stat.substring(stat.lastIndexOf(") ") + 2).trim().split(" ");
          // utime, stime, and those of the children it waited for (backends that ended)
          for (int i = 11; i <= 14; i++) {
            ticks += Long.parseLong(f[i]);
          }
        } catch (IOException | RuntimeException gone) {
          // the process ended while it was read
        }
      }
    }
    return ticks;
  }

  /**
   * {@code "machine 61% · exporter 55% · benchmark 27% · PostgreSQL 40%"}: shares of one core since
   * {@code before}, the machine's of all its cores (100% is every core busy).
   */
  String since(MachineLoad before, String measured, long measuredMillis) {
    if (allTicks < 0 || before.allTicks < 0) {
      return "—";
    }
    double seconds = (nanos - before.nanos) / 1e9;
    double machine = 100.0 * (busyTicks - before.busyTicks) / (allTicks - before.allTicks);
    StringBuilder out =
        new StringBuilder(
            String.format(
                "machine %.0f%% · %s %.0f%% · benchmark %.0f%%",
                machine,
                measured,
                measuredMillis / 10.0 / seconds,
                (benchMillis - before.benchMillis) / 10.0 / seconds));
    if (postgresTicks > before.postgresTicks) {
      out.append(
          String.format(
              " · PostgreSQL %.0f%%",
              100.0 * (postgresTicks - before.postgresTicks) / TICKS_PER_SECOND / seconds));
    }
    return out.toString();
  }
}
