package io.nvsentinel.exporter.bench;

import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import java.io.BufferedReader;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Start-up, memory, CPU per event, latency and slow-sink throughput of an exporter application run
 * as its own process, the way an image runs it; the datastore (embedded MongoDB) and the sink stay
 * in this process, so the exporter's process accounts only for its own work. The command that
 * starts the application comes after {@code --}; this class adds the settings that point it here.
 * Every scenario prints one {@code ROW <table> | ... |} line for {@code bench/run-footprint.sh}.
 *
 * <p>Usage: {@code FootprintBenchmark <scenario> <label> <jdk-home> <load-seconds> -- <command...>}
 * with scenario {@code live}, {@code backfill}, {@code bare-live}, {@code bare-backfill}, {@code
 * slow-live} or {@code slow-backfill}.
 */
public final class FootprintBenchmark {

  static final String DATABASE = "HealthEventsDatabase";
  static final String COLLECTION = "HealthEvents";
  private static final int BACKFILL_EVENTS = 50_000;
  private static final int BACKFILL_WARM_UP = 10_000;
  private static final int SLOW_EVENTS = 480;

  /** Twenty times as many, for twenty times the rate in the same time. */
  private static final int BATCHED_EVENTS = 20 * SLOW_EVENTS;

  static final Duration SLOW_ANSWER = Duration.ofMillis(300);

  final String label;
  final Path jdk;
  private final int loadSeconds;
  final List<String> command;
  final Path work;

  private FootprintBenchmark(String label, Path jdk, int loadSeconds, List<String> command)
      throws IOException {
    this.label = label;
    this.jdk = jdk;
    this.loadSeconds = loadSeconds;
    this.command = command;
    this.work = Files.createDirectories(Path.of("bench/target/footprint"));
  }

  public static void main(String[] args) throws Exception {
    int dashes = Arrays.asList(args).indexOf("--");
    FootprintBenchmark bench =
        new FootprintBenchmark(
            args[1],
            Path.of(args[2]),
            Integer.parseInt(args[3]),
            List.of(args).subList(dashes + 1, args.length));
    switch (args[0]) {
      case "live" -> bench.live();
      case "ready" -> bench.ready();
      case "backfill" -> bench.backfill();
      case "bare-live" -> bench.bare(1000, bench.loadSeconds * 1000, 5000);
      case "bare-backfill" -> bench.bare(0, BACKFILL_EVENTS - BACKFILL_WARM_UP, BACKFILL_WARM_UP);
      case "floor" -> bench.floor();
      case "floor-backfill" -> bench.floorBackfill();
      case "slow-live" -> bench.slowLive();
      case "slow-backfill" -> bench.slowBackfill();
      case "slow-live-batched" -> bench.slowLiveBatched();
      case "slow-backfill-batched" -> bench.slowBackfillBatched();
      default -> throw new IllegalArgumentException("unknown scenario " + args[0]);
    }
    System.exit(0);
  }

  /** Ready three times; then idle, three paced rates, memory and CPU at 1,000 events/s. */
  private void live() throws Exception {
    try (FootprintStack stack = new FootprintStack(Duration.ZERO, this)) {
      List<Long> ready = new ArrayList<>();
      for (int run = 0; run < 2; run++) {
        try (MeasuredProcess exporter = stack.startLive("live-start-" + run)) {
          ready.add(exporter.awaitReady());
        }
      }
      try (MeasuredProcess exporter = stack.startLive("live")) {
        ready.add(exporter.awaitReady());
        long idleCpuBefore = exporter.cpuMillis();
        Thread.sleep(30_000);
        double idleCpu = (exporter.cpuMillis() - idleCpuBefore) / 30_000.0;
        long idleRss = exporter.rssMb();
        long idleHeap = exporter.heapAfterGcMb();
        Throttling throttled10 = Throttling.now();
        long[] at10 = stack.pace(10, 20);
        String slowest10 = stack.slowest;
        Throttling throttled100 = Throttling.now();
        throttled10 = throttled10.until(throttled100);
        long[] at100 = stack.pace(100, 20);
        String slowest100 = stack.slowest;
        throttled100 = throttled100.until(Throttling.now());
        // a full collection stops the exporter: taken before the load, not during it, where its
        // pause (70-120 ms under the quota) made the slowest events of the paced latencies
        long heapBeforeLoad = exporter.heapAfterGcMb();
        Throttling throttled1000 = Throttling.now();
        MachineLoad loadBefore = MachineLoad.now();
        PostDurations postsBefore = exporter.postDurations();
        long cpuBefore = exporter.cpuMillis();
        long[] at1000 = stack.pace(1000, loadSeconds);
        long cpu = exporter.cpuMillis() - cpuBefore;
        PostDurations posts = postsBefore.until(exporter.postDurations());
        String load = MachineLoad.now().since(loadBefore, "exporter", cpu);
        throttled1000 = throttled1000.until(Throttling.now());
        long loadRss = exporter.rssMb();
        long loadHeap = exporter.heapAfterGcMb();
        Collections.sort(ready);
        System.out.printf(
            "ROW live-memory | %s | %d (%d–%d) | %d | %d | %d | %d → %d |%n",
            label,
            ready.get(1),
            ready.get(0),
            ready.get(2),
            idleRss,
            idleHeap,
            loadRss,
            heapBeforeLoad,
            loadHeap);
        System.out.printf(
            "ROW live-cpu | %s | %.1f%% | %.0f | %s | %s | %s |%n",
            label,
            100 * idleCpu,
            cpu * 1000.0 / at1000.length,
            percentiles(at10),
            percentiles(at100),
            percentiles(at1000));
        System.out.printf(
            "ROW live-throttled | %s | %s | %s | %s |%n",
            label, throttled10, throttled100, throttled1000);
        System.out.printf("ROW live-load | %s | %s |%n", label, load);
        System.out.printf(
            "ROW live-slowest | %s | %s | %s | %s |%n",
            label, slowest10, slowest100, stack.slowest);
        System.out.printf("ROW live-posts | %s | %s |%n", label, posts);
      }
    }
  }

  /**
   * The floor under the live latency: a reader that exports nothing ({@link FloorReader}), in its
   * own process under the same limits, paced as the exporter is; its insert-to-read latency and CPU
   * per 1,000 events.
   */
  private void floor() throws Exception {
    try (FootprintStack stack = new FootprintStack(Duration.ZERO, this)) {
      List<String> line = new ArrayList<>(command);
      line.addAll(
          stack.postgres != null
              ? List.of(
                  System.getenv().getOrDefault("FOOTPRINT_FLOOR", "postgresql"),
                  String.valueOf(stack.postgres.port()))
              : List.of("mongo", stack.mongo.connectionString()));
      Process reader =
          new ProcessBuilder(line).redirectError(work.resolve("floor.log").toFile()).start();
      CountDownLatch ready = new CountDownLatch(1);
      Thread lines =
          new Thread(
              () -> {
                try (BufferedReader in =
                    new BufferedReader(new InputStreamReader(reader.getInputStream()))) {
                  for (String id; (id = in.readLine()) != null; ) {
                    if (id.equals("READY")) {
                      ready.countDown();
                    } else {
                      stack.sink.onEvent.accept(id);
                    }
                  }
                } catch (IOException e) {
                  // the reader ended
                }
              });
      lines.setDaemon(true);
      lines.start();
      try {
        if (!ready.await(60, TimeUnit.SECONDS)) {
          throw new IllegalStateException("the floor reader did not start: see floor.log");
        }
        long[] at10 = stack.pace(10, 20);
        long[] at100 = stack.pace(100, 20);
        MachineLoad loadBefore = MachineLoad.now();
        Duration cpuBefore = reader.info().totalCpuDuration().orElse(Duration.ZERO);
        long[] at1000 = stack.pace(1000, loadSeconds);
        Duration cpu = reader.info().totalCpuDuration().orElse(Duration.ZERO).minus(cpuBefore);
        String load = MachineLoad.now().since(loadBefore, "reader", cpu.toMillis());
        System.out.printf(
            "ROW floor | %s | %.0f | %s | %s | %s |%n",
            label,
            cpu.toMillis() * 1000.0 / at1000.length,
            percentiles(at10),
            percentiles(at100),
            percentiles(at1000));
        System.out.printf("ROW floor-load | %s | %s |%n", label, load);
        System.out.printf("ROW floor-slowest | %s | %s |%n", label, stack.slowest);
      } finally {
        reader.destroyForcibly().waitFor();
      }
    }
  }

  /**
   * The floor under the backfill's CPU: the same 50,000 events paged through in storage order by a
   * reader that exports nothing ({@link FloorReader}), CPU per 1,000 events after the first fifth.
   */
  private void floorBackfill() throws Exception {
    try (FootprintStack stack = new FootprintStack(Duration.ZERO, this)) {
      Instant first = stack.store(BACKFILL_EVENTS);
      List<String> line = new ArrayList<>(command);
      // FOOTPRINT_FLOOR=mapped: the reader also decodes and maps each event, sending nothing
      String mode =
          "mapped".equals(System.getenv("FOOTPRINT_FLOOR")) ? "-window-mapped" : "-window";
      line.addAll(
          stack.postgres != null
              ? List.of("postgresql" + mode, String.valueOf(stack.postgres.port()))
              : List.of("mongo" + mode, stack.mongo.connectionString()));
      line.add(first.toString());
      line.add(String.valueOf(BACKFILL_EVENTS));
      Process reader =
          new ProcessBuilder(line)
              .redirectError(work.resolve("floor-backfill.log").toFile())
              .start();
      String out = new String(reader.getInputStream().readAllBytes()).trim();
      if (reader.waitFor() != 0 || !out.startsWith("CPU ")) {
        throw new IllegalStateException("floor reader: " + out + " (see floor-backfill.log)");
      }
      String[] parts = out.split(" ");
      long events = Long.parseLong(parts[3]);
      System.out.printf(
          "ROW floor-backfill | %s | %.0f | %.0f |%n",
          label,
          Long.parseLong(parts[1]) * 1000.0 / events,
          events * 1000.0 / Math.max(1, Long.parseLong(parts[5])));
    }
  }

  /** Only the time to ready, five times: for trying JVM options. */
  private void ready() throws Exception {
    try (FootprintStack stack = new FootprintStack(Duration.ZERO, this)) {
      List<Long> ready = new ArrayList<>();
      long rss = 0;
      for (int run = 0; run < 5; run++) {
        try (MeasuredProcess exporter = stack.startLive("ready-" + run)) {
          ready.add(exporter.awaitReady());
          Thread.sleep(3000);
          rss = exporter.rssMb();
        }
      }
      Collections.sort(ready);
      System.out.printf("ROW ready | %s | %s | %d |%n", label, ready, rss);
    }
  }

  /** First event three times on a small window; then CPU per event unthrottled. */
  private void backfill() throws Exception {
    try (FootprintStack stack = new FootprintStack(Duration.ZERO, this)) {
      Instant first = stack.store(BACKFILL_EVENTS);
      List<Long> firstEvent = new ArrayList<>();
      for (int run = 0; run < 3; run++) {
        long target = stack.sink.received.get() + 1;
        try (MeasuredProcess job = stack.startBackfill("backfill-start-" + run, first, 200)) {
          firstEvent.add(job.awaitDelivered(stack.sink, target));
          job.awaitExit();
        }
      }
      long before = stack.sink.received.get();
      AtomicLong cpuAtWarm = new AtomicLong(-1);
      AtomicLong cpuAtEnd = new AtomicLong(-1);
      AtomicLong warmAt = new AtomicLong();
      AtomicLong endAt = new AtomicLong();
      AtomicLong hwm = new AtomicLong();
      try (MeasuredProcess job = stack.startBackfill("backfill", first, BACKFILL_EVENTS)) {
        stack.sink.onEvent =
            id -> {
              long n = stack.sink.received.get() - before;
              if (n == BACKFILL_WARM_UP) {
                cpuAtWarm.set(job.cpuMillis());
                warmAt.set(System.nanoTime());
              } else if (n == BACKFILL_EVENTS) {
                cpuAtEnd.set(job.cpuMillis());
                endAt.set(System.nanoTime());
                hwm.set(job.status("VmHWM"));
              }
            };
        job.awaitExit();
      }
      if (cpuAtEnd.get() < 0) {
        throw new IllegalStateException(
            "the backfill delivered " + (stack.sink.received.get() - before) + " events");
      }
      int measured = BACKFILL_EVENTS - BACKFILL_WARM_UP;
      Collections.sort(firstEvent);
      System.out.printf(
          "ROW backfill | %s | %d (%d–%d) | %d | %.0f | %.0f |%n",
          label,
          firstEvent.get(1),
          firstEvent.get(0),
          firstEvent.get(2),
          hwm.get(),
          (cpuAtEnd.get() - cpuAtWarm.get()) * 1000.0 / measured,
          measured / ((endAt.get() - warmAt.get()) / 1e9));
    }
  }

  /** The bare client in its own process: CPU per 1,000 posts of the same CloudEvents. */
  private void bare(int rate, int events, int warmUp) throws Exception {
    try (FootprintStack stack = new FootprintStack(Duration.ZERO, this)) {
      Path bodies = work.resolve("bodies.bin");
      try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(bodies))) {
        for (OutgoingEvent event : stack.serialized(4096)) {
          out.writeInt(event.json().length);
          out.write(event.json());
        }
      }
      List<String> bare = new ArrayList<>(command);
      bare.addAll(
          List.of(
              stack.sink.endpoint(),
              bodies.toString(),
              String.valueOf(rate),
              String.valueOf(events),
              String.valueOf(warmUp),
              "8"));
      Process process = new ProcessBuilder(bare).redirectErrorStream(true).start();
      String out = new String(process.getInputStream().readAllBytes()).trim();
      if (process.waitFor() != 0 || !out.contains("cpu-ms=")) {
        throw new IllegalStateException("bare client: " + out);
      }
      long cpu = Long.parseLong(out.replaceAll("(?s).*cpu-ms=(\\d+).*", "$1"));
      System.out.printf(
          "ROW bare | %s | %s | %.0f |%n",
          label, rate > 0 ? rate + " events/s" : "unthrottled", cpu * 1000.0 / events);
    }
  }

  /** Delivered events per second when every answer takes 300 ms: live. */
  private void slowLive() throws Exception {
    try (FootprintStack stack = new FootprintStack(SLOW_ANSWER, this);
        MeasuredProcess exporter = stack.startLive("slow-live")) {
      exporter.awaitReady();
      stack.slowReport("live", SLOW_EVENTS, () -> stack.insert(0, SLOW_EVENTS));
    }
  }

  /** Delivered events per second when every answer takes 300 ms: backfill. */
  private void slowBackfill() throws Exception {
    try (FootprintStack stack = new FootprintStack(SLOW_ANSWER, this)) {
      Instant first = stack.store(SLOW_EVENTS);
      stack.slowReport(
          "backfill",
          SLOW_EVENTS,
          () -> {
            try (MeasuredProcess job = stack.startBackfill("slow-backfill", first, SLOW_EVENTS)) {
              job.awaitExit();
            }
          });
    }
  }

  /** Batched delivery ({@code exporter.sink.batch}, 100 events per request): live. */
  private void slowLiveBatched() throws Exception {
    try (FootprintStack stack = new FootprintStack(SLOW_ANSWER, this)) {
      stack.extraSettings.add("--exporter.sink.batch.enabled=true");
      try (MeasuredProcess exporter = stack.startLive("slow-live-batched")) {
        exporter.awaitReady();
        stack.slowReport("live, batched", BATCHED_EVENTS, () -> stack.insert(0, BATCHED_EVENTS));
      }
    }
  }

  /** Batched delivery ({@code exporter.sink.batch}, 100 events per request): backfill. */
  private void slowBackfillBatched() throws Exception {
    try (FootprintStack stack = new FootprintStack(SLOW_ANSWER, this)) {
      stack.extraSettings.add("--exporter.sink.batch.enabled=true");
      Instant first = stack.store(BATCHED_EVENTS);
      stack.slowReport(
          "backfill, batched",
          BATCHED_EVENTS,
          () -> {
            try (MeasuredProcess job =
                stack.startBackfill("slow-backfill-batched", first, BATCHED_EVENTS)) {
              job.awaitExit();
            }
          });
    }
  }

  private static String percentiles(long[] sorted) {
    return String.format("%.1f / %.1f", pct(sorted, 0.50), pct(sorted, 0.99));
  }

  private static double pct(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1e6;
  }

  interface Step {
    void run() throws Exception;
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
