package io.nvsentinel.exporter.bench;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.nvsentinel.exporter.backfill.BackfillApplication;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.springframework.boot.SpringApplication;

/**
 * The backfill job end to end, in this JVM: the embedded MongoDB with stored events, the job's
 * command line, the loopback sink. Rates are taken between the first and the last event arriving at
 * the sink, so application start-up does not count. Usage: {@code BackfillBenchmark
 * [unthrottled-events] [rate] [seconds]}.
 */
public final class BackfillBenchmark {

  public static void main(String[] args) throws Exception {
    int unthrottled = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
    int rate = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 30;
    System.out.printf(
        "machine: %d cores, Java %s%n%n",
        Runtime.getRuntime().availableProcessors(), Runtime.version());

    double free = run(unthrottled, 0);
    System.out.printf("unthrottled (rateLimit 0), %d events: %.0f events/s%n", unthrottled, free);
    double limited = run(rate * seconds, rate);
    System.out.printf(
        "rateLimit %d, %d events: %.1f events/s (%.2f%% of the configured rate)%n",
        rate, rate * seconds, limited, 100 * limited / rate);
    System.exit(0);
  }

  private static double run(int events, int rateLimit) throws Exception {
    try (LoopbackSink sink = new LoopbackSink();
        EmbeddedMongo mongo = EmbeddedMongo.start();
        MongoClient client = MongoClients.create(mongo.connectionString())) {
      MongoCollection<BsonDocument> collection =
          client
              .getDatabase("HealthEventsDatabase")
              .getCollection("HealthEvents", BsonDocument.class);
      Instant first = Instant.parse("2026-11-01T00:00:00Z");
      List<BsonDocument> docs = new ArrayList<>();
      for (int i = 0; i < events; i++) {
        BsonDocument doc = LiveBenchmarkDocuments.document(i);
        doc.put("createdAt", new BsonDateTime(first.plusMillis(i).toEpochMilli()));
        docs.add(doc);
        if (docs.size() == 1000) {
          collection.insertMany(docs);
          docs.clear();
        }
      }
      if (!docs.isEmpty()) {
        collection.insertMany(docs);
      }
      AtomicLong firstArrival = new AtomicLong();
      AtomicLong lastArrival = new AtomicLong();
      sink.onEvent =
          id -> {
            long now = System.nanoTime();
            firstArrival.compareAndSet(0, now);
            lastArrival.set(now);
          };
      Path dir = Files.createTempDirectory("backfill-bench");
      Path secret = Files.writeString(dir.resolve("secret"), "bench");
      String[] arguments = {
        "run",
        "--window-start=" + first,
        "--window-end=" + first.plusSeconds(3600 * 24),
        "--logging.level.root=WARN",
        "--exporter.metadata.cluster=bench",
        "--exporter.sink.endpoint=" + sink.endpoint(),
        "--exporter.oidc.tokenUrl=" + sink.tokenUrl(),
        "--exporter.oidc.clientId=bench",
        "--exporter.oidc.scope=events:write",
        "--exporter.oidc.clientSecretFile=" + secret,
        "--exporter.oidc.clientSecretEnv=",
        "--exporter.datastore.uri=" + mongo.connectionString(),
        "--exporter.backfill.rateLimit=" + rateLimit,
        "--exporter.backfill.maxEvents=" + events,
        "--exporter.backfill.jobRepositoryPath=" + dir.resolve("jobs")
      };
      int code = SpringApplication.exit(BackfillApplication.application().run(arguments));
      if (code != 0 || sink.received.get() < events) {
        throw new IllegalStateException(
            "backfill exit " + code + ", " + sink.received.get() + " of " + events + " arrived");
      }
      double elapsed = (lastArrival.get() - firstArrival.get()) / 1e9;
      return (events - 1) / elapsed;
    }
  }

  /** The same document shape as the other benchmarks. */
  static final class LiveBenchmarkDocuments {
    private static final BsonDocument TEMPLATE =
        BsonDocument.parse(
            "{healthevent: {version: 1, agent: 'gpu-health-monitor', componentClass: 'GPU',"
                + " checkName: 'GpuXidError', isFatal: true, isHealthy: false,"
                + " message: 'XID 79: GPU has fallen off the bus', recommendedAction: 'RESTART_VM',"
                + " errorCode: ['79'], entitiesImpacted: [{entityType: 'GPU_UUID', entityValue:"
                + " 'GPU-d786ae6e-f40e-a120-0670-8fe97674dae8'}], nodeName: 'gpu-node-1',"
                + " generatedTimestamp: {$date: '2026-11-20T11:59:59.123Z'}}}");

    static BsonDocument document(int id) {
      BsonDocument doc = TEMPLATE.clone();
      doc.put("_id", new BsonInt32(id));
      return doc;
    }
  }
}
