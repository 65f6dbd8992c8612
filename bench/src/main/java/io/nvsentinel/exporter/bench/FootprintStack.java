package io.nvsentinel.exporter.bench;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
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
 * The datastore and the sink the exporter under measurement talks to, in the benchmark's process.
 */
final class FootprintStack implements AutoCloseable {
  final LoopbackSink sink;
  final EmbeddedMongo mongo = EmbeddedMongo.start();
  final MongoClient client = MongoClients.create(mongo.connectionString());
  final MongoCollection<BsonDocument> events =
      client
          .getDatabase(FootprintBenchmark.DATABASE)
          .getCollection(FootprintBenchmark.COLLECTION, BsonDocument.class);
  final Path secret;
  final ScheduledExecutorService janitor = Executors.newSingleThreadScheduledExecutor();
  private final FootprintBenchmark bench;
  private final Path work;
  final AtomicInteger nextId = new AtomicInteger(1_000_000);

  /** NVSentinel's PostgreSQL store instead, with FOOTPRINT_STORE=postgresql. */
  final PostgresEvents postgres;

  FootprintStack(Duration answerAfter, FootprintBenchmark bench) throws Exception {
    this.bench = bench;
    this.work = bench.work;
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

  /** Settings every exporter started here gets besides the datastore's and the sink's. */
  final List<String> extraSettings = new ArrayList<>();

  List<String> datastoreSettings() {
    List<String> settings = new ArrayList<>(exporterSettings());
    settings.addAll(extraSettings);
    if (postgres != null) {
      settings.addAll(postgres.settings());
    }
    return settings;
  }

  MeasuredProcess startLive(String name) throws IOException {
    List<String> line = new ArrayList<>(bench.command);
    int port = FootprintBenchmark.freePort();
    line.add("--exporter.live.metricsPort=" + port);
    line.addAll(datastoreSettings());
    return new MeasuredProcess(line, work.resolve(name + ".log"), port, bench.jdk);
  }

  MeasuredProcess startBackfill(String name, Instant first, int maxEvents) throws IOException {
    List<String> line = new ArrayList<>(bench.command);
    line.add("run");
    line.add("--window-start=" + first);
    line.add("--window-end=" + first.plusSeconds(3600));
    line.addAll(datastoreSettings());
    line.add("--exporter.backfill.rateLimit=0");
    line.add("--exporter.backfill.maxEvents=" + maxEvents);
    line.add(
        "--exporter.backfill.jobRepositoryPath="
            + Files.createTempDirectory(work, "jobs").toAbsolutePath());
    return new MeasuredProcess(line, work.resolve(name + ".log"), 0, bench.jdk);
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

  /**
   * Inserts {@code rate} events a second for {@code seconds}; returns the sorted insert-to-arrival
   * latencies in nanoseconds.
   */
  long[] pace(int rate, int seconds) throws InterruptedException {
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
                  EventIds.of(
                      FootprintBenchmark.DATABASE, FootprintBenchmark.COLLECTION, doc.get("_id")),
                  System.nanoTime());
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
    long deadline = System.nanoTime() + Duration.ofSeconds(seconds + 60).toNanos();
    while (measured.get() < count && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    pacer.shutdownNow();
    if (measured.get() < count) {
      throw new IllegalStateException(
          measured.get() + " of " + count + " events arrived at " + rate + " events/s");
    }
    slowest = slowest(latencies, 3);
    long[] done = Arrays.copyOf(latencies, count);
    Arrays.sort(done);
    return done;
  }

  /**
   * The {@code n} slowest of the last paced rate and the order they arrived in: {@code "148.1 ms
   * (#1), 60.2 ms (#2), 20.0 ms (#57)"}; the first arrivals of a process that just started pay for
   * its first token, connection and cold code.
   */
  volatile String slowest = "";

  private static String slowest(long[] byArrival, int n) {
    Integer[] order = new Integer[byArrival.length];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, (a, b) -> Long.compare(byArrival[b], byArrival[a]));
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < Math.min(n, order.length); i++) {
      out.append(i == 0 ? "" : ", ")
          .append(String.format("%.1f ms (#%d)", byArrival[order[i]] / 1e6, order[i] + 1));
    }
    return out.toString();
  }

  /** Runs {@code load}, then prints the delivered rate between the first and the last event. */
  void slowReport(String path, int count, FootprintBenchmark.Step load) throws Exception {
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
    double target =
        0.9 * 8 / (FootprintBenchmark.SLOW_ANSWER.toMillis() / 1000.0) * (count / 480 > 1 ? 20 : 1);
    System.out.printf(
        "ROW slow | %s | %s | %d of %d | %.1f | %.1f |%n",
        bench.label, path, arrived, count, rate, target);
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
