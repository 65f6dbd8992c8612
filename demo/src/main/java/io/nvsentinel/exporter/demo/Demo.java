package io.nvsentinel.exporter.demo;

import io.nvsentinel.exporter.backfill.BackfillApplication;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.devstack.DemoHistory;
import io.nvsentinel.exporter.devstack.DevStore;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.StackSettings;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import io.nvsentinel.exporter.live.LiveExporterApplication;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.bson.BsonDocument;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The whole system on the devstack: an embedded MongoDB loaded with weeks of history, a real token
 * issuer, the verifying reference sink with its live page; the live exporter, then the backfill up
 * to the live exporter's cutoff, then new events at a steady rate; and a summary.
 *
 * <p>Options: {@link DemoOptions#parse}.
 */
public final class Demo {

  private final DemoOptions options;
  private final PrintStream out;
  private final List<AutoCloseable> open = new ArrayList<>();
  private ReferenceSink sink;
  private ConfigurableApplicationContext live;

  public Demo(DemoOptions options) {
    this(options, System.out);
  }

  /** A demo that says what it does on {@code out}. */
  public Demo(DemoOptions options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  public static void main(String[] args) throws Exception {
    DemoOptions options = DemoOptions.parse(args);
    DemoConsole console =
        List.of(args).contains("--verbose")
            ? DemoConsole.verbose()
            : DemoConsole.divertTo(options.workDir().resolve("demo.log"));
    PrintStream out = console.terminal();
    if (console.logFile() != null) {
      out.println(
          "[demo] the applications' logs: " + console.logFile() + " (--verbose shows them here)");
    }
    Demo demo = new Demo(options, out);
    DemoSummary summary = null;
    try {
      summary = demo.run();
      out.println(summary.render());
      if (!options.exit()) {
        out.println("The sink's live page: " + demo.sink.pageUrl() + "  (Ctrl-C to stop)");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown));
        stopped.await();
      }
    } catch (Exception e) {
      out.println(
          "[demo] failed: " + e + (console.logFile() == null ? "" : "; see " + console.logFile()));
      e.printStackTrace();
    } finally {
      demo.close();
    }
    System.exit(summary != null && summary.complete() ? 0 : 1);
  }

  /** Runs the demo up to its summary; the stack stays up until {@link #close()}. */
  public DemoSummary run() throws Exception {
    DevStore store = track(DevStore.start(options.store(), options.workDir()));
    TokenIssuer issuer = track(TokenIssuer.start(TokenIssuer.Settings.defaults()));
    sink = track(ReferenceSink.start(options.sinkPort(), issuer, "events:write"));
    say(
        "stack up: "
            + store.describe()
            + ", token issuer "
            + issuer.tokenUrl()
            + ", sink "
            + sink.endpoint());
    say("live page: " + sink.pageUrl());

    DemoHistory generator = new DemoHistory(42);
    List<BsonDocument> history =
        generator.events(options.history(), Instant.now(), Duration.ofDays(14));
    store.insert(history);
    Set<String> historyIds = new HashSet<>(eventIds(store, history));
    say("stored " + history.size() + " health events from the last 14 days");
    // the live stream starts at the next second; the history belongs to the backfill alone
    waitUntil(Instant.now().plusSeconds(1).plusMillis(100));

    Map<String, String> exporter = exporterProperties(issuer, store);
    live =
        LiveExporterApplication.application()
            .run(
                arguments(
                    exporter,
                    Map.of(
                        "exporter.live.metricsPort", String.valueOf(options.livePort()),
                        "exporter.live.startOverlap", "0s",
                        "logging.structured.format.console", "",
                        "logging.level.root", "WARN",
                        "logging.level.io.nvsentinel.exporter", "INFO")));
    Instant cutoff =
        live.getBean(CheckpointStore.class)
            .backfillCutoff(live.getBean(ExporterProperties.class).resumeToken().clientName())
            .orElseThrow();
    sink.series().backfillCutoff(cutoff);
    say("live exporter started; it stored the backfill cutoff " + cutoff);

    Map<String, String> backfill =
        new LinkedHashMap<>(
            Map.of(
                "exporter.backfill.waitForCutoff", "30s",
                "exporter.backfill.rateLimit", "0",
                "exporter.backfill.jobRepositoryPath", options.workDir().resolve("jobs").toString(),
                "logging.level.root", "WARN",
                "logging.level.io.nvsentinel.exporter.backfill", "INFO"));
    List<String> backfillArgs = new ArrayList<>(List.of("run"));
    backfillArgs.addAll(List.of(arguments(exporter, backfill)));
    ConfigurableApplicationContext backfillJob =
        BackfillApplication.application().run(backfillArgs.toArray(String[]::new));
    long backfillFiltered = DemoSummary.filteredBy(backfillJob);
    int backfillExit = SpringApplication.exit(backfillJob);
    say(
        "backfill finished with exit status "
            + backfillExit
            + "; "
            + sink.distinct().size()
            + " events at the sink");

    Map<String, Instant> insertedAt = insertLive(store, generator);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    DemoSummary summary;
    do {
      waitUntil(Instant.now().plusMillis(200));
      summary =
          DemoSummary.count(
              sink,
              historyIds,
              insertedAt,
              backfillFiltered,
              DemoSummary.filteredBy(live),
              store.deadLetters(),
              backfillExit);
    } while (!summary.complete() && System.nanoTime() < deadline);
    return summary;
  }

  /** The CloudEvent ids the exporter gives these events, as stored. */
  private static List<String> eventIds(DevStore store, List<BsonDocument> events) {
    return events.stream()
        .map(e -> EventIds.of(store.database(), store.collection(), store.storedId(e.get("_id"))))
        .toList();
  }

  private Map<String, Instant> insertLive(DevStore store, DemoHistory generator)
      throws InterruptedException {
    Map<String, Instant> insertedAt = new ConcurrentHashMap<>();
    int total = options.rate() * options.seconds();
    if (total == 0) {
      return insertedAt;
    }
    say(
        "inserting "
            + options.rate()
            + " new events per second for "
            + options.seconds()
            + " s"
            + (options.outageSeconds() > 0
                ? ", the sink failing for " + options.outageSeconds() + " s in the middle"
                : ""));
    ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor();
    CountDownLatch done = new CountDownLatch(total);
    pacer.scheduleAtFixedRate(
        () -> {
          if (done.getCount() == 0) {
            return;
          }
          try {
            BsonDocument doc = generator.event(Instant.now());
            Instant at = Instant.now();
            store.insert(List.of(doc));
            insertedAt.put(eventIds(store, List.of(doc)).get(0), at);
          } catch (Exception e) {
            say("insert failed: " + e);
          } finally {
            done.countDown();
          }
        },
        0,
        1_000_000_000L / options.rate(),
        TimeUnit.NANOSECONDS);
    if (options.outageSeconds() > 0) {
      pacer.schedule(
          () -> {
            say("sink outage begins");
            sink.faults().failShare(1.0);
          },
          options.seconds() / 2,
          TimeUnit.SECONDS);
      pacer.schedule(
          () -> {
            sink.faults().failShare(0.0);
            say("sink outage ends");
          },
          options.seconds() / 2 + options.outageSeconds(),
          TimeUnit.SECONDS);
    }
    done.await();
    pacer.shutdown();
    pacer.awaitTermination(options.outageSeconds() + 10L, TimeUnit.SECONDS);
    sink.faults().failShare(0.0);
    return insertedAt;
  }

  /** The sink, for tests that compare the summary with what it received. */
  public ReferenceSink sink() {
    return sink;
  }

  private Map<String, String> exporterProperties(TokenIssuer issuer, DevStore store)
      throws Exception {
    Path secret = issuer.writeClientSecret(options.workDir());
    Map<String, String> p = StackSettings.exporter("demo-cluster", sink, issuer, secret);
    p.putAll(store.settings());
    p.put("exporter.metadata.environment", "demo");
    if (!options.filter().isBlank()) {
      p.put("exporter.filter.expression", options.filter());
      say("exporting only the events for which " + options.filter() + " holds");
    }
    p.put("exporter.failureHandling.initialBackoff", "100ms");
    p.put("exporter.failureHandling.maxBackoff", "1s");
    return p;
  }

  private static String[] arguments(Map<String, String> common, Map<String, String> specific) {
    Map<String, String> all = new LinkedHashMap<>(common);
    all.putAll(specific);
    return StackSettings.arguments(all);
  }

  static String id(BsonDocument doc) {
    return EventIds.of("HealthEventsDatabase", "HealthEvents", doc.get("_id"));
  }

  private static void waitUntil(Instant when) throws InterruptedException {
    long millis = Duration.between(Instant.now(), when).toMillis();
    if (millis > 0) {
      TimeUnit.MILLISECONDS.sleep(millis);
    }
  }

  private void say(String line) {
    out.println("[demo] " + line);
  }

  private <T extends AutoCloseable> T track(T resource) {
    open.add(0, resource);
    return resource;
  }

  /** Stops the live exporter and the stack. */
  public void close() {
    if (live != null) {
      live.close();
    }
    for (AutoCloseable resource : open) {
      try {
        resource.close();
      } catch (Exception e) {
        say("closing " + resource + ": " + e);
      }
    }
  }
}
