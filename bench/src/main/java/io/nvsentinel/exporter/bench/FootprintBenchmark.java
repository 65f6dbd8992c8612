package io.nvsentinel.exporter.bench;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonTimestamp;

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

  private static final String DATABASE = "HealthEventsDatabase";
  private static final String COLLECTION = "HealthEvents";
  private static final int BACKFILL_EVENTS = 50_000;
  private static final int BACKFILL_WARM_UP = 10_000;
  private static final int SLOW_EVENTS = 480;
  private static final Duration SLOW_ANSWER = Duration.ofMillis(300);

  private final String label;
  private final Path jdk;
  private final int loadSeconds;
  private final List<String> command;
  private final Path work;

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
      case "slow-live" -> bench.slowLive();
      case "slow-backfill" -> bench.slowBackfill();
      default -> throw new IllegalArgumentException("unknown scenario " + args[0]);
    }
    System.exit(0);
  }

  /** Ready three times; then idle, three paced rates, memory and CPU at 1,000 events/s. */
  private void live() throws Exception {
    try (Stack stack = new Stack(Duration.ZERO)) {
      List<Long> ready = new ArrayList<>();
      for (int run = 0; run < 2; run++) {
        try (Child exporter = stack.startLive("live-start-" + run)) {
          ready.add(exporter.awaitReady());
        }
      }
      try (Child exporter = stack.startLive("live")) {
        ready.add(exporter.awaitReady());
        long idleCpuBefore = exporter.cpuMillis();
        Thread.sleep(30_000);
        double idleCpu = (exporter.cpuMillis() - idleCpuBefore) / 30_000.0;
        long idleRss = exporter.rssMb();
        long idleHeap = exporter.heapAfterGcMb();
        long[] at10 = stack.pace(10, 20);
        long[] at100 = stack.pace(100, 20);
        long cpuBefore = exporter.cpuMillis();
        long[] heapHalfway = new long[1];
        long[] at1000 =
            stack.pace(
                1000,
                loadSeconds,
                () -> heapHalfway[0] = exporter.heapAfterGcMb(),
                loadSeconds / 2);
        long cpu = exporter.cpuMillis() - cpuBefore;
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
            heapHalfway[0],
            loadHeap);
        System.out.printf(
            "ROW live-cpu | %s | %.1f%% | %.0f | %s | %s | %s |%n",
            label,
            100 * idleCpu,
            cpu * 1000.0 / at1000.length,
            percentiles(at10),
            percentiles(at100),
            percentiles(at1000));
      }
    }
  }

  /** Only the time to ready, five times: for trying JVM options. */
  private void ready() throws Exception {
    try (Stack stack = new Stack(Duration.ZERO)) {
      List<Long> ready = new ArrayList<>();
      long rss = 0;
      for (int run = 0; run < 5; run++) {
        try (Child exporter = stack.startLive("ready-" + run)) {
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
    try (Stack stack = new Stack(Duration.ZERO)) {
      Instant first = stack.store(BACKFILL_EVENTS);
      List<Long> firstEvent = new ArrayList<>();
      for (int run = 0; run < 3; run++) {
        long target = stack.sink.received.get() + 1;
        try (Child job = stack.startBackfill("backfill-start-" + run, first, 200)) {
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
      try (Child job = stack.startBackfill("backfill", first, BACKFILL_EVENTS)) {
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
    try (Stack stack = new Stack(Duration.ZERO)) {
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
    try (Stack stack = new Stack(SLOW_ANSWER);
        Child exporter = stack.startLive("slow-live")) {
      exporter.awaitReady();
      stack.slowReport("live", SLOW_EVENTS, () -> stack.insert(0, SLOW_EVENTS));
    }
  }

  /** Delivered events per second when every answer takes 300 ms: backfill. */
  private void slowBackfill() throws Exception {
    try (Stack stack = new Stack(SLOW_ANSWER)) {
      Instant first = stack.store(SLOW_EVENTS);
      stack.slowReport(
          "backfill",
          SLOW_EVENTS,
          () -> {
            try (Child job = stack.startBackfill("slow-backfill", first, SLOW_EVENTS)) {
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

  /** The datastore and the sink the exporter under measurement talks to. */
  private final class Stack implements AutoCloseable {
    final LoopbackSink sink;
    final EmbeddedMongo mongo = EmbeddedMongo.start();
    final MongoClient client = MongoClients.create(mongo.connectionString());
    final MongoCollection<BsonDocument> events =
        client.getDatabase(DATABASE).getCollection(COLLECTION, BsonDocument.class);
    final Path secret;
    final ScheduledExecutorService janitor = Executors.newSingleThreadScheduledExecutor();
    final AtomicInteger nextId = new AtomicInteger(1_000_000);

    /** NVSentinel's PostgreSQL store instead, with FOOTPRINT_STORE=postgresql. */
    final PostgresEvents postgres;

    Stack(Duration answerAfter) throws Exception {
      sink = new LoopbackSink(answerAfter);
      postgres =
          "postgresql".equals(System.getenv("FOOTPRINT_STORE"))
              ? new PostgresEvents(Files.createTempDirectory(work, "postgres"))
              : null;
      secret = Files.writeString(Files.createTempFile(work, "secret", ""), "bench");
      // the embedded server scans its whole oplog on every change-stream read; keeping only the
      // last seconds of it holds that cost flat over a long run, as a real server's index does
      MongoCollection<BsonDocument> oplog =
          client.getDatabase("local").getCollection("oplog.rs", BsonDocument.class);
      janitor.scheduleWithFixedDelay(
          () -> {
            try {
              int horizon = (int) (System.currentTimeMillis() / 1000) - 10;
              oplog.deleteMany(Filters.lt("ts", new BsonTimestamp(horizon, 0)));
            } catch (RuntimeException e) {
              System.err.println("oplog trim failed: " + e);
            }
          },
          1,
          1,
          TimeUnit.SECONDS);
    }

    List<String> exporterSettings() {
      return List.of(
          "--exporter.metadata.cluster=bench",
          "--exporter.sink.endpoint=" + sink.endpoint(),
          "--exporter.oidc.tokenUrl=" + sink.tokenUrl(),
          "--exporter.oidc.clientId=bench",
          "--exporter.oidc.scope=events:write",
          "--exporter.oidc.clientSecretFile=" + secret.toAbsolutePath(),
          "--exporter.oidc.clientSecretEnv=",
          "--exporter.datastore.uri=" + mongo.connectionString());
    }

    List<String> datastoreSettings() {
      List<String> settings = new ArrayList<>(exporterSettings());
      if (postgres != null) {
        settings.addAll(postgres.settings());
      }
      return settings;
    }

    Child startLive(String name) throws IOException {
      List<String> line = new ArrayList<>(command);
      int port = freePort();
      line.add("--server.port=" + port);
      line.add("--exporter.live.metricsPort=0");
      line.addAll(datastoreSettings());
      return new Child(line, work.resolve(name + ".log"), port);
    }

    Child startBackfill(String name, Instant first, int maxEvents) throws IOException {
      List<String> line = new ArrayList<>(command);
      line.add("run");
      line.add("--window-start=" + first);
      line.add("--window-end=" + first.plusSeconds(3600));
      line.addAll(datastoreSettings());
      line.add("--exporter.backfill.rateLimit=0");
      line.add("--exporter.backfill.maxEvents=" + maxEvents);
      line.add(
          "--exporter.backfill.jobRepositoryPath="
              + Files.createTempDirectory(work, "jobs").toAbsolutePath());
      return new Child(line, work.resolve(name + ".log"), 0);
    }

    /** Stores {@code count} events one millisecond apart; returns the first one's time. */
    Instant store(int count) throws Exception {
      Instant first = Instant.now().minusSeconds(1800);
      if (postgres != null) {
        postgres.insertMany(count, first);
        return first;
      }
      List<BsonDocument> batch = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        BsonDocument doc = BackfillBenchmark.LiveBenchmarkDocuments.document(i);
        doc.put("createdAt", new BsonDateTime(first.plusMillis(i).toEpochMilli()));
        batch.add(doc);
        if (batch.size() == 1000 || i == count - 1) {
          events.insertMany(batch);
          batch.clear();
        }
      }
      return first;
    }

    void insert(int from, int count) throws Exception {
      if (postgres != null) {
        postgres.insertMany(count, Instant.now());
        return;
      }
      List<BsonDocument> batch = new ArrayList<>();
      for (int i = from; i < from + count; i++) {
        batch.add(document(i));
      }
      events.insertMany(batch);
    }

    BsonDocument document(int id) {
      BsonDocument doc = BackfillBenchmark.LiveBenchmarkDocuments.document(id);
      doc.put("createdAt", new BsonDateTime(System.currentTimeMillis()));
      return doc;
    }

    List<OutgoingEvent> serialized(int count) throws IOException {
      return DeliveryBenchmark.events(DeliveryBenchmark.properties(sink, mongo, secret), count);
    }

    long[] pace(int rate, int seconds) throws InterruptedException {
      return pace(rate, seconds, () -> {}, -1);
    }

    /**
     * Inserts {@code rate} events a second for {@code seconds}, running {@code midway} once after
     * {@code midwayAt} seconds; returns the sorted insert-to-arrival latencies in nanoseconds.
     */
    long[] pace(int rate, int seconds, Step midway, int midwayAt) throws InterruptedException {
      int count = rate * seconds;
      Map<String, Long> insertedAt = new ConcurrentHashMap<>();
      long[] latencies = new long[count];
      AtomicInteger measured = new AtomicInteger();
      sink.onEvent =
          id -> {
            Long at = insertedAt.remove(id);
            if (at != null) {
              int i = measured.getAndIncrement();
              if (i < latencies.length) {
                latencies[i] = System.nanoTime() - at;
              }
            }
          };
      int first = nextId.getAndAdd(count);
      ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor();
      AtomicInteger next = new AtomicInteger();
      pacer.scheduleAtFixedRate(
          () -> {
            int i = next.getAndIncrement();
            if (i >= count) {
              return;
            }
            try {
              if (postgres != null) {
                UUID id = UUID.randomUUID();
                insertedAt.put(PostgresEvents.eventId(id), System.nanoTime());
                postgres.insert(id, Instant.now());
              } else {
                BsonDocument doc = document(first + i);
                insertedAt.put(
                    EventIds.of(DATABASE, COLLECTION, doc.get("_id")), System.nanoTime());
                events.insertOne(doc);
              }
            } catch (Exception e) {
              // a scheduled task that throws is never run again: say why and go on
              System.err.println("insert " + i + " failed: " + e);
            }
          },
          0,
          1_000_000_000L / rate,
          TimeUnit.NANOSECONDS);
      long started = System.nanoTime();
      boolean midwayDone = midwayAt < 0;
      long deadline = started + Duration.ofSeconds(seconds + 60).toNanos();
      while (measured.get() < count && System.nanoTime() < deadline) {
        if (!midwayDone && System.nanoTime() - started > midwayAt * 1_000_000_000L) {
          midwayDone = true;
          try {
            midway.run();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }
        Thread.sleep(20);
      }
      pacer.shutdownNow();
      if (measured.get() < count) {
        throw new IllegalStateException(
            measured.get() + " of " + count + " events arrived at " + rate + " events/s");
      }
      long[] done = Arrays.copyOf(latencies, count);
      Arrays.sort(done);
      return done;
    }

    /** Runs {@code load}, then prints the delivered rate between the first and the last event. */
    void slowReport(String path, int count, Step load) throws Exception {
      AtomicLong firstAt = new AtomicLong();
      AtomicLong lastAt = new AtomicLong();
      long before = sink.received.get();
      sink.onEvent =
          id -> {
            long now = System.nanoTime();
            firstAt.compareAndSet(0, now);
            lastAt.set(now);
          };
      load.run();
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (sink.received.get() - before < count && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      long arrived = sink.received.get() - before;
      double rate = (arrived - 1) / ((lastAt.get() - firstAt.get()) / 1e9);
      double target = 0.9 * 8 / (SLOW_ANSWER.toMillis() / 1000.0);
      System.out.printf(
          "ROW slow | %s | %s | %d of %d | %.1f | %.1f |%n",
          label, path, arrived, count, rate, target);
    }

    @Override
    public void close() throws Exception {
      janitor.shutdownNow();
      if (postgres != null) {
        postgres.close();
      }
      client.close();
      mongo.close();
      sink.close();
    }
  }

  /** An application process under measurement. */
  private final class Child implements AutoCloseable {
    final Process process;
    final long startedAt = System.nanoTime();
    final int port;

    Child(List<String> line, Path log, int port) throws IOException {
      this.port = port;
      process =
          new ProcessBuilder(line).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Milliseconds from the process's start to its first 200 from {@code /readyz}. */
    long awaitReady() throws Exception {
      HttpClient http = HttpClient.newHttpClient();
      HttpRequest readyz =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
              .timeout(Duration.ofSeconds(1))
              .build();
      long deadline = startedAt + Duration.ofSeconds(120).toNanos();
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          throw new IllegalStateException("the exporter exited with " + process.exitValue());
        }
        try {
          if (http.send(readyz, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
            return (System.nanoTime() - startedAt) / 1_000_000;
          }
        } catch (IOException notYet) {
          // not listening yet
        }
        Thread.sleep(10);
      }
      throw new IllegalStateException("not ready after 120 s");
    }

    /** Milliseconds from the process's start until the sink has {@code target} events. */
    long awaitDelivered(LoopbackSink sink, long target) throws InterruptedException {
      long deadline = startedAt + Duration.ofSeconds(120).toNanos();
      while (sink.received.get() < target) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("no event delivered within 120 s");
        }
        Thread.sleep(1);
      }
      return (System.nanoTime() - startedAt) / 1_000_000;
    }

    void awaitExit() throws InterruptedException {
      if (!process.waitFor(10, TimeUnit.MINUTES) || process.exitValue() != 0) {
        throw new IllegalStateException("the job did not end cleanly");
      }
    }

    long rssMb() throws IOException {
      return status("VmRSS");
    }

    /** A size from {@code /proc/<pid>/status}, in MB. */
    long status(String field) {
      try {
        for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
          if (line.startsWith(field + ":")) {
            return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
          }
        }
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      throw new IllegalStateException("no " + field);
    }

    /** User and system CPU time of the process so far. */
    long cpuMillis() {
      try {
        String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10; // 100 ticks/s
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }

    /** Heap in use right after a full collection, from jcmd and jstat of the same JDK. */
    long heapAfterGcMb() throws Exception {
      run(jdk.resolve("bin/jcmd").toString(), String.valueOf(process.pid()), "GC.run");
      String[] lines =
          run(jdk.resolve("bin/jstat").toString(), "-gc", "" + process.pid()).split("\n");
      List<String> names = List.of(lines[0].trim().split("\\s+"));
      String[] values = lines[1].trim().split("\\s+");
      double used = 0;
      for (String column : List.of("S0U", "S1U", "EU", "OU")) {
        used += Double.parseDouble(values[names.indexOf(column)]);
      }
      return Math.round(used / 1024);
    }

    private static String run(String... line) throws Exception {
      Process tool = new ProcessBuilder(line).redirectErrorStream(true).start();
      String out = new String(tool.getInputStream().readAllBytes());
      if (tool.waitFor() != 0) {
        throw new IllegalStateException(String.join(" ", line) + ": " + out);
      }
      return out;
    }

    @Override
    public void close() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
