package io.nvsentinel.exporter.bench;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nvsentinel.exporter.cloudevent.CloudEventMapper;
import io.nvsentinel.exporter.cloudevent.EventConverter;
import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.config.ClientSecret;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import io.nvsentinel.exporter.delivery.EventDeliverer;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import io.nvsentinel.exporter.live.config.LiveProperties;
import io.nvsentinel.exporter.live.function.ExportFunctions;
import io.nvsentinel.exporter.live.stream.ChangeStreamRunner;
import io.nvsentinel.exporter.live.stream.LiveRunnerWiring;
import io.nvsentinel.exporter.store.Datastore;
import io.nvsentinel.exporter.store.mongo.MongoDatastore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.bson.BsonDocument;
import org.bson.BsonInt32;

/**
 * The live path end to end: inserts into the embedded MongoDB, its change stream, the export
 * function, a loopback sink. Each phase gets a fresh server, because the embedded server's change
 * stream scans its whole oplog on every read and slows down as the oplog grows. Usage: {@code
 * LiveBenchmark [events] [rate] [seconds] [workers]}.
 */
public final class LiveBenchmark {

  /** One fresh embedded MongoDB, sink and (when started) exporter. */
  private static final class Stack implements AutoCloseable {
    final LoopbackSink sink = new LoopbackSink();
    final EmbeddedMongo mongo = EmbeddedMongo.start();
    final MongoClient client = MongoClients.create(mongo.connectionString());
    final MongoCollection<BsonDocument> events =
        client
            .getDatabase("HealthEventsDatabase")
            .getCollection("HealthEvents", BsonDocument.class);
    ChangeStreamRunner runner;

    Stack() throws Exception {}

    void startExporter(int workers) throws Exception {
      Path secret = Files.createTempFile("bench-secret", "");
      Files.writeString(secret, "bench");
      ExporterProperties properties = DeliveryBenchmark.properties(sink, mongo, secret);
      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      Datastore datastore = new MongoDatastore(client, properties, meters, Clock.systemUTC());
      DeadLetterStore deadLetters = datastore.deadLetters();
      EventDeliverer deliverer =
          EventDeliverer.create(
              properties,
              ClientSecret.resolve(properties.oidc(), n -> null),
              deadLetters,
              meters,
              Clock.systemUTC());
      ExportFunctions functions = new ExportFunctions();
      LiveProperties live =
          new LiveProperties(
              workers,
              workers * 8,
              List.of("insert"),
              100,
              Duration.ofSeconds(1),
              Duration.ofSeconds(10),
              Duration.ofSeconds(5),
              Duration.ofMinutes(2),
              false,
              8081,
              null,
              0);
      runner =
          LiveRunnerWiring.runner(
              datastore.changeSource(live.operationTypes()),
              functions
                  .toCloudEvent(
                      new EventConverter(
                          new HealthEventDecoder(65_536, meters),
                          new CloudEventMapper(properties, Clock.systemUTC())))
                  .andThen(functions.deliver(deliverer, deadLetters)),
              null,
              datastore.checkpoints(),
              datastore.gapWindows(),
              live,
              properties,
              deliverer,
              meters,
              Clock.systemUTC(),
              event -> {});
      // the first start streams from shortly before now, so nothing inserted from here on is missed
      runner.start();
    }

    @Override
    public void close() {
      if (runner != null) {
        runner.stop();
      }
      client.close();
      mongo.close();
      sink.close();
    }
  }

  public static void main(String[] args) throws Exception {
    int burst = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int rate = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    int workers = args.length > 3 ? Integer.parseInt(args[3]) : 8;
    System.out.printf(
        "machine: %d cores, Java %s, %d workers%n%n",
        Runtime.getRuntime().availableProcessors(), Runtime.version(), workers);

    try (Stack stack = new Stack()) {
      streamOnly(stack.events, documents(0, burst)); // warm-up
      double streamRate = streamOnly(stack.events, documents(burst, burst));
      System.out.printf(
          "change stream alone, %d inserts, no delivery: %.0f events/s%n", burst, streamRate);
    }
    try (Stack stack = new Stack()) {
      stack.startExporter(workers);
      insertAndWait(stack.events, stack.sink, documents(0, burst)); // warm-up
      long start = System.nanoTime();
      insertAndWait(stack.events, stack.sink, documents(burst, burst));
      double took = (System.nanoTime() - start) / 1e9;
      System.out.printf(
          "exporter, %d inserts as fast as possible: %.0f delivered events/s%n",
          burst, burst / took);
    }
    try (Stack stack = new Stack()) {
      stack.startExporter(workers);
      insertAndWait(stack.events, stack.sink, documents(0, burst)); // warm-up
      latency(stack, rate, seconds);
    }
    System.exit(0);
  }

  private static void latency(Stack stack, int rate, int seconds) throws InterruptedException {
    Map<String, Long> insertedAt = new ConcurrentHashMap<>();
    long[] latencies = new long[rate * seconds];
    AtomicInteger measured = new AtomicInteger();
    stack.sink.onEvent =
        id -> {
          Long at = insertedAt.remove(id);
          if (at != null) {
            int i = measured.getAndIncrement();
            if (i < latencies.length) {
              latencies[i] = System.nanoTime() - at;
            }
          }
        };
    List<BsonDocument> paced = documents(100_000, rate * seconds);
    ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor();
    AtomicInteger next = new AtomicInteger();
    pacer.scheduleAtFixedRate(
        () -> {
          int i = next.getAndIncrement();
          if (i >= paced.size()) {
            return;
          }
          try {
            BsonDocument doc = paced.get(i);
            insertedAt.put(
                EventIds.of("HealthEventsDatabase", "HealthEvents", doc.get("_id")),
                System.nanoTime());
            stack.events.insertOne(doc);
          } catch (RuntimeException e) {
            // a scheduled task that throws is never run again: say why and go on
            System.err.println("insert " + i + " failed: " + e);
          }
        },
        0,
        1_000_000_000L / rate,
        TimeUnit.NANOSECONDS);
    long deadline = System.nanoTime() + Duration.ofSeconds(seconds + 60).toNanos();
    while (measured.get() < paced.size() && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    pacer.shutdownNow();
    long[] done = Arrays.copyOf(latencies, Math.min(measured.get(), latencies.length));
    Arrays.sort(done);
    System.out.printf(
        "exporter, %d inserts/s for %d s: insert-to-arrival latency p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d measured)%n",
        rate,
        seconds,
        pct(done, 0.50),
        pct(done, 0.99),
        done.length == 0 ? 0 : done[done.length - 1] / 1e6,
        done.length);
  }

  /** Reads {@code docs.size()} inserts from a fresh change stream; returns events per second. */
  private static double streamOnly(MongoCollection<BsonDocument> events, List<BsonDocument> docs) {
    try (var cursor = events.watch(BsonDocument.class).cursor()) {
      long start = System.nanoTime();
      for (int from = 0; from < docs.size(); from += 500) {
        events.insertMany(docs.subList(from, Math.min(docs.size(), from + 500)));
      }
      int read = 0;
      while (read < docs.size()) {
        if (cursor.tryNext() != null) {
          read++;
        }
      }
      return docs.size() / ((System.nanoTime() - start) / 1e9);
    }
  }

  private static double pct(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1e6;
  }

  private static void insertAndWait(
      MongoCollection<BsonDocument> events, LoopbackSink sink, List<BsonDocument> docs)
      throws InterruptedException {
    long target = sink.received.get() + docs.size();
    for (int from = 0; from < docs.size(); from += 500) {
      events.insertMany(docs.subList(from, Math.min(docs.size(), from + 500)));
    }
    while (sink.received.get() < target) {
      Thread.sleep(5);
    }
  }

  private static List<BsonDocument> documents(int firstId, int count) {
    List<BsonDocument> docs = new ArrayList<>(count);
    BsonDocument template =
        BsonDocument.parse(
            "{createdAt: {$date: '2026-11-20T12:00:00Z'}, healthevent: {version: 1,"
                + " agent: 'gpu-health-monitor', componentClass: 'GPU', checkName: 'GpuXidError',"
                + " isFatal: true, isHealthy: false, message: 'XID 79: GPU has fallen off the bus',"
                + " recommendedAction: 'RESTART_VM', errorCode: ['79'], entitiesImpacted: [{entityType:"
                + " 'GPU_UUID', entityValue: 'GPU-d786ae6e-f40e-a120-0670-8fe97674dae8'}], nodeName: 'gpu-node-1',"
                + " generatedTimestamp: {$date: '2026-11-20T11:59:59.123Z'}}}");
    for (int i = 0; i < count; i++) {
      BsonDocument doc = template.clone();
      doc.put("_id", new BsonInt32(firstId + i));
      docs.add(doc);
    }
    return docs;
  }
}
