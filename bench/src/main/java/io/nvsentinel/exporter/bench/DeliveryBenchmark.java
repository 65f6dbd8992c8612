package io.nvsentinel.exporter.bench;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.otel.bridge.OtelCurrentTraceContext;
import io.micrometer.tracing.otel.bridge.OtelPropagator;
import io.micrometer.tracing.otel.bridge.OtelTracer;
import io.nvsentinel.exporter.cloudevent.CloudEventMapper;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.config.ClientSecret;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.delivery.DeliveryOutcome;
import io.nvsentinel.exporter.delivery.EventDeliverer;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import io.nvsentinel.exporter.devstack.OtlpReceiver;
import io.nvsentinel.exporter.event.DecodeResult;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import io.nvsentinel.exporter.store.mongo.MongoDeadLetterStore;
import io.nvsentinel.exporter.tracing.EventTracing;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.bson.BsonDocument;

/**
 * Delivered events per second to a loopback sink, through the exporter's {@link EventDeliverer} and
 * through a bare JDK HttpClient posting the same pre-serialized payloads, at the same concurrency.
 * Usage: {@code DeliveryBenchmark [seconds-per-run] [concurrency...]}.
 */
public final class DeliveryBenchmark {

  interface Sender {
    void send(int index) throws Exception;
  }

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    List<Integer> concurrencies = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      concurrencies.add(Integer.parseInt(args[i]));
    }
    if (concurrencies.isEmpty()) {
      concurrencies = List.of(1, 8, 64);
    }
    try (LoopbackSink sink = new LoopbackSink();
        EmbeddedMongo mongo = EmbeddedMongo.start();
        MongoClient client = MongoClients.create(mongo.connectionString())) {
      Path secret = Files.createTempFile("bench-secret", "");
      Files.writeString(secret, "bench");
      ExporterProperties properties = properties(sink, mongo, secret);
      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      EventDeliverer deliverer =
          EventDeliverer.create(
              properties,
              ClientSecret.resolve(properties.oidc(), name -> null),
              new MongoDeadLetterStore(client, properties.deadLetter(), meters, Clock.systemUTC()),
              meters,
              Clock.systemUTC());
      List<OutgoingEvent> events = events(properties, 4096);
      OtlpReceiver collector = OtlpReceiver.start();
      SdkTracerProvider spans = tracerProvider(collector);
      EventTracing tracing = tracing(spans);
      EventDeliverer traced =
          EventDeliverer.create(
              properties,
              ClientSecret.resolve(properties.oidc(), name -> null),
              new MongoDeadLetterStore(client, properties.deadLetter(), meters, Clock.systemUTC()),
              meters,
              Clock.systemUTC(),
              tracing);
      List<BsonDocument> stored = documents(64);
      HttpClient raw = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      URI endpoint = URI.create(sink.endpoint());

      Sender exporter =
          i -> {
            if (!(deliverer.deliver(events.get(i % events.size()))
                instanceof DeliveryOutcome.Delivered)) {
              throw new IllegalStateException("not delivered");
            }
          };
      // tracing on: the event's span (continuing the trace its document names), the delivery's and
      // each attempt's, the traceparent header, and the OTLP export of them all
      Sender tracedExporter =
          i -> {
            OutgoingEvent event = events.get(i % events.size());
            Span span = tracing.startEvent(stored.get(i % stored.size()));
            DeliveryOutcome outcome =
                traced.deliver(
                    new OutgoingEvent(event.event(), event.json(), event.documentId(), span));
            EventTracing.finish(span, outcome.label());
            if (!(outcome instanceof DeliveryOutcome.Delivered)) {
              throw new IllegalStateException("not delivered");
            }
          };
      Sender jdk =
          i -> {
            HttpRequest request =
                HttpRequest.newBuilder(endpoint)
                    .timeout(Duration.ofSeconds(30))
                    .header("Content-Type", CloudEventMapper.CONTENT_TYPE)
                    .header("Authorization", "Bearer bench")
                    .POST(
                        HttpRequest.BodyPublishers.ofByteArray(
                            events.get(i % events.size()).json()))
                    .build();
            int status = raw.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status != 202) {
              throw new IllegalStateException("status " + status);
            }
          };

      System.out.printf(
          "machine: %d cores, Java %s, %d s per run after a %d s warm-up%n",
          Runtime.getRuntime().availableProcessors(),
          Runtime.version(),
          seconds,
          Math.max(2, seconds / 3));
      System.out.println();
      System.out.println(
          "| concurrency | raw JDK HttpClient (events/s) | exporter, tracing off (events/s) |"
              + " exporter / raw | exporter, tracing on (events/s) | on / off |");
      System.out.println("|---:|---:|---:|---:|---:|---:|");
      for (int concurrency : concurrencies) {
        run(jdk, concurrency, Math.max(2, seconds / 3));
        double rawRate = run(jdk, concurrency, seconds);
        run(exporter, concurrency, Math.max(2, seconds / 3));
        double exporterRate = run(exporter, concurrency, seconds);
        run(tracedExporter, concurrency, Math.max(2, seconds / 3));
        double tracedRate = run(tracedExporter, concurrency, seconds);
        System.out.printf(
            "| %d | %.0f | %.0f | %.0f%% | %.0f | %.0f%% |%n",
            concurrency,
            rawRate,
            exporterRate,
            100 * exporterRate / rawRate,
            tracedRate,
            100 * tracedRate / exporterRate);
      }
      spans.forceFlush().join(10, TimeUnit.SECONDS);
      System.out.printf("%nspans received by the OTLP collector: %d%n", collector.count());
      spans.close();
      collector.close();
    }
  }

  /** Spans batched and exported over OTLP/gRPC, as Spring Boot configures the SDK. */
  static SdkTracerProvider tracerProvider(OtlpReceiver collector) {
    return SdkTracerProvider.builder()
        .addSpanProcessor(
            BatchSpanProcessor.builder(
                    OtlpGrpcSpanExporter.builder()
                        .setEndpoint("http://" + collector.grpcEndpoint())
                        .build())
                .build())
        .build();
  }

  static EventTracing tracing(SdkTracerProvider provider) {
    io.opentelemetry.api.trace.Tracer sdk = provider.get("bench");
    return new EventTracing(
        new OtelTracer(sdk, new OtelCurrentTraceContext(), event -> {}),
        new OtelPropagator(
            ContextPropagators.create(W3CTraceContextPropagator.getInstance()), sdk));
  }

  /** Stored documents carrying the platform connector's trace, as NVSentinel writes them. */
  static List<BsonDocument> documents(int count) {
    List<BsonDocument> documents = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      documents.add(
          BsonDocument.parse(
              String.format(
                  "{_id: %d, healthevent: {metadata: {trace_id: '%032x'}},"
                      + " healtheventstatus: {spanids: {'platform-connector': '%016x'}}}",
                  i, i + 1, i + 1)));
    }
    return documents;
  }

  /**
   * Runs {@code sender} from {@code threads} threads for {@code seconds}; returns sends per second.
   */
  static double run(Sender sender, int threads, int seconds) throws InterruptedException {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong done = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    AtomicReference<Exception> firstError = new AtomicReference<>();
    CountDownLatch finished = new CountDownLatch(threads);
    long start = System.nanoTime();
    for (int t = 0; t < threads; t++) {
      int offset = t * 1_000_003;
      Thread thread =
          new Thread(
              () -> {
                int i = offset;
                while (!stop.get()) {
                  try {
                    sender.send(i++);
                    done.incrementAndGet();
                  } catch (Exception e) {
                    errors.incrementAndGet();
                    firstError.compareAndSet(null, e);
                  }
                }
                finished.countDown();
              });
      thread.setDaemon(true);
      thread.start();
    }
    Thread.sleep(seconds * 1000L);
    stop.set(true);
    finished.await();
    double elapsed = (System.nanoTime() - start) / 1e9;
    if (errors.get() > 0) {
      // the loopback server may close a pooled connection under load; a bare client has no retry
      System.err.printf(
          "%d of %d sends failed, first: %s%n",
          errors.get(), done.get() + errors.get(), firstError.get());
    }
    return done.get() / elapsed;
  }

  static ExporterProperties properties(LoopbackSink sink, EmbeddedMongo mongo, Path secret) {
    return properties(sink.endpoint(), sink.tokenUrl(), mongo.connectionString(), secret);
  }

  /** The exporter's settings for a sink, its token endpoint and a MongoDB. */
  static ExporterProperties properties(
      String endpoint, String tokenUrl, String mongoUri, Path secret) {
    return new ExporterProperties(
        Map.of("cluster", "bench"),
        new ExporterProperties.Sink(
            endpoint,
            Duration.ofSeconds(30),
            false,
            null,
            true,
            false,
            ExporterProperties.Batch.OFF),
        new ExporterProperties.Oidc(tokenUrl, "bench", "events:write", false, secret, "", null),
        new ExporterProperties.Backfill(true, Duration.ofHours(720), 1_000_000, 500, 0),
        new ExporterProperties.FailureHandling(3, Duration.ofMillis(10), Duration.ofMillis(100), 2),
        new ExporterProperties.ResumeToken(
            "HealthEventsDatabase", "ResumeTokens", "exportergaps", "event-exporter"),
        new ExporterProperties.Datastore(
            mongoUri,
            "HealthEventsDatabase",
            "HealthEvents",
            "ResumeTokens",
            null,
            null,
            null,
            null,
            null,
            "event-exporter",
            null),
        new ExporterProperties.DeadLetter("HealthEventsDatabase", "exporterdeadletters"),
        new ExporterProperties.Filter(""),
        65_536);
  }

  /** Realistic events: the shape of the sample data, each with its own id. */
  static List<OutgoingEvent> events(ExporterProperties properties, int count) {
    HealthEventDecoder decoder = new HealthEventDecoder(65_536, new SimpleMeterRegistry());
    CloudEventMapper mapper = new CloudEventMapper(properties, Clock.systemUTC());
    List<OutgoingEvent> events = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      BsonDocument doc =
          BsonDocument.parse(
              "{_id: "
                  + i
                  + ", createdAt: {$date: '2026-11-20T12:00:00Z'}, healthevent: {version: 1,"
                  + " agent: 'gpu-health-monitor', componentClass: 'GPU', checkName: 'GpuXidError',"
                  + " isFatal: true, isHealthy: false, message: 'XID 79: GPU has fallen off the bus',"
                  + " recommendedAction: 'RESTART_VM', errorCode: ['79'], entitiesImpacted: [{entityType:"
                  + " 'GPU_UUID', entityValue: 'GPU-d786ae6e-f40e-a120-0670-8fe97674dae8'}, {entityType:"
                  + " 'PCI', entityValue: '0000:b3:00.0'}], nodeName: 'gpu-node-"
                  + (i % 64)
                  + "',"
                  + " generatedTimestamp: {$date: '2026-11-20T11:59:59.123Z'}}}");
      events.add(mapper.map(((DecodeResult.Decoded) decoder.decode(doc)).event()));
    }
    return events;
  }
}
