package io.nvsentinel.exporter.bench;

import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.devstack.ArrivalSeries;
import io.nvsentinel.exporter.devstack.DemoHistory;
import io.nvsentinel.exporter.devstack.DevStore;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import io.nvsentinel.exporter.devstack.ExporterProcess;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.StackSettings;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import io.nvsentinel.exporter.live.LiveExporterApplication;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.bson.BsonDocument;

/**
 * Failover and hand-off of the live exporter at the default lease (6s, renewed every 2s, standbys
 * retrying every 200ms): two processes of the application against the embedded MongoDB, events
 * inserted without pause, the leader killed (SIGKILL) or stopped (SIGTERM) over and over, a new
 * standby started after each as a Deployment would. For each: the time from the signal to the
 * standby's "became the leader" line, and the longest pause in arrivals at the sink around it.
 * Finally the events lost (must be 0) and the duplicates.
 */
public final class FailoverBenchmark {

  private FailoverBenchmark() {}

  static final String LOGGING =
      """
      <configuration>
        <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
          <encoder><pattern>%d{yyyy-MM-dd'T'HH:mm:ss.SSSX,UTC} %-5level %logger{30} : %msg%n</pattern></encoder>
        </appender>
        <root level="INFO"><appender-ref ref="OUT"/></root>
      </configuration>
      """;

  public static void main(String[] args) throws Exception {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int rate = args.length > 1 ? Integer.parseInt(args[1]) : 50;
    Path dir = Files.createTempDirectory("failover");
    List<BsonDocument> inserted = new CopyOnWriteArrayList<>();
    try (TokenIssuer issuer = TokenIssuer.start(TokenIssuer.Settings.defaults());
        ReferenceSink sink = ReferenceSink.start(0, issuer, "events:write");
        DevStore store = new DevStore.Mongo(EmbeddedMongo.start())) {
      Path secret = issuer.writeClientSecret(dir);
      Map<String, String> settings =
          new LinkedHashMap<>(StackSettings.exporter("bench", sink, issuer, secret));
      settings.putAll(store.settings());
      settings.put("exporter.live.metricsPort", "0");
      settings.put("exporter.live.lease.enabled", "true");
      // the exporters log at INFO with ISO times (this module's logback.xml keeps the benchmark
      // quiet): the leadership lines, with their times, are what is measured
      settings.put(
          "logging.config", Files.writeString(dir.resolve("logback.xml"), LOGGING).toString());
      List<ExporterProcess> exporters = new ArrayList<>();
      int[] next = {0};
      java.util.function.Supplier<ExporterProcess> standby =
          () -> {
            try {
              Map<String, String> own = new LinkedHashMap<>(settings);
              String name = "exporter-" + next[0]++;
              own.put("exporter.live.lease.holder", name);
              ExporterProcess p =
                  ExporterProcess.start(
                      name,
                      List.of("-Xmx512m", "-XX:+UseSerialGC"),
                      LiveExporterApplication.class.getName(),
                      own,
                      dir);
              exporters.add(p);
              waitFor(() -> p.loggedAt("standing by as").isPresent(), Duration.ofSeconds(120));
              return p;
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          };
      ExporterProcess first = standby.get();
      waitFor(() -> first.loggedAt("became the leader").isPresent(), Duration.ofSeconds(30));
      standby.get();

      ScheduledExecutorService inserter = Executors.newSingleThreadScheduledExecutor();
      DemoHistory history = new DemoHistory(5);
      inserter.scheduleAtFixedRate(
          () -> {
            BsonDocument doc = history.event(Instant.now());
            store.insert(List.of(doc));
            inserted.add(doc);
          },
          0,
          1_000_000 / rate,
          TimeUnit.MICROSECONDS);
      Thread.sleep(3_000);

      List<Long> failover = new ArrayList<>();
      List<Long> failoverPause = new ArrayList<>();
      List<Long> handOff = new ArrayList<>();
      List<Long> handOffPause = new ArrayList<>();
      for (int run = 0; run < runs; run++) {
        for (boolean kill : new boolean[] {true, false}) {
          ExporterProcess leader = leader(exporters);
          Instant signal = Instant.now();
          if (kill) {
            leader.kill();
          } else {
            leader.terminate();
          }
          exporters.remove(leader);
          ExporterProcess taker = awaitLeader(exporters, signal);
          long took =
              Duration.between(signal, taker.loggedAt("became the leader").orElseThrow())
                  .toMillis();
          Thread.sleep(2_000);
          long pause =
              ArrivalSeries.longestPause(sink.accepted(), signal.minusSeconds(2), Instant.now())
                  .toMillis();
          (kill ? failover : handOff).add(took);
          (kill ? failoverPause : handOffPause).add(pause);
          System.out.printf(
              "run %d, %s: %s led after %d ms; longest pause in arrivals %d ms%n",
              run + 1, kill ? "SIGKILL" : "SIGTERM", taker.name(), took, pause);
          standby.get();
          Thread.sleep(2_000);
        }
      }
      inserter.shutdown();
      inserter.awaitTermination(10, TimeUnit.SECONDS);
      Set<String> expected =
          inserted.stream()
              .map(
                  d ->
                      EventIds.of(
                          store.database(), store.collection(), store.storedId(d.get("_id"))))
              .collect(Collectors.toSet());
      waitFor(
          () ->
              sink.distinct().stream()
                  .map(ReferenceSink.Received::id)
                  .collect(Collectors.toSet())
                  .containsAll(expected),
          Duration.ofSeconds(60));
      Set<String> delivered =
          sink.distinct().stream().map(ReferenceSink.Received::id).collect(Collectors.toSet());
      long lost = expected.stream().filter(id -> !delivered.contains(id)).count();
      System.out.printf(
          "%nfailover after SIGKILL: median %d ms, max %d ms (pause in arrivals: median %d ms, max %d"
              + " ms)%n",
          median(failover), max(failover), median(failoverPause), max(failoverPause));
      System.out.printf(
          "hand-off after SIGTERM: median %d ms, max %d ms (pause in arrivals: median %d ms, max %d"
              + " ms)%n",
          median(handOff), max(handOff), median(handOffPause), max(handOffPause));
      System.out.printf(
          "%d events at %d/s, %d lost, %d duplicates (all under their own ids)%n",
          expected.size(), rate, lost, sink.duplicates());
      for (ExporterProcess exporter : exporters) {
        exporter.close();
      }
    }
  }

  static ExporterProcess leader(List<ExporterProcess> exporters) {
    return exporters.stream()
        .filter(ExporterProcess::leading)
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no leader"));
  }

  static ExporterProcess awaitLeader(List<ExporterProcess> exporters, Instant since)
      throws InterruptedException {
    ExporterProcess[] found = new ExporterProcess[1];
    waitFor(
        () -> {
          for (ExporterProcess e : exporters) {
            if (e.loggedAt("became the leader").filter(t -> t.isAfter(since)).isPresent()) {
              found[0] = e;
              return true;
            }
          }
          return false;
        },
        Duration.ofSeconds(60));
    return found[0];
  }

  static void waitFor(java.util.function.BooleanSupplier done, Duration atMost)
      throws InterruptedException {
    long deadline = System.nanoTime() + atMost.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("not done within " + atMost);
      }
      Thread.sleep(20);
    }
  }

  static long median(List<Long> values) {
    List<Long> sorted = values.stream().sorted().toList();
    return sorted.get(sorted.size() / 2);
  }

  static long max(List<Long> values) {
    return values.stream().mapToLong(Long::longValue).max().orElse(0);
  }
}
