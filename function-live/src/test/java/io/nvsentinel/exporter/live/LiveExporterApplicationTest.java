package io.nvsentinel.exporter.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.config.ExporterKeys;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import io.nvsentinel.exporter.devstack.OtlpReceiver;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.StackSettings;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import io.nvsentinel.exporter.event.Samples;
import io.nvsentinel.exporter.live.config.LeaseProperties;
import io.nvsentinel.exporter.live.config.LiveProperties;
import io.nvsentinel.exporter.live.function.ExportFunctions;
import io.nvsentinel.exporter.live.function.ExportHttpTrigger;
import io.nvsentinel.exporter.live.function.ExportResult;
import io.nvsentinel.exporter.live.metrics.MetricsPort;
import io.nvsentinel.exporter.live.stream.ChangeStreamRunner;
import io.nvsentinel.exporter.store.ChangeEvent;
import io.nvsentinel.exporter.store.mongo.MongoCheckpointStore;
import io.nvsentinel.exporter.testkit.LocalStack;
import io.nvsentinel.exporter.tracing.EventTracing;
import java.lang.reflect.RecordComponent;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
import org.bson.BsonDocument;
import org.bson.BsonObjectId;
import org.bson.BsonString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.cloud.function.context.FunctionCatalog;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The application as it is deployed: the function catalog, the runner, the metrics port, HTTP
 * trigger.
 */
class LiveExporterApplicationTest {

  @RegisterExtension static final LocalStack stack = LocalStack.issuer().withSink();
  static final HttpClient http = HttpClient.newHttpClient();

  @TempDir Path tmp;
  EmbeddedMongo mongo;
  ReferenceSink sink;
  TokenIssuer issuer;
  MongoClient client;
  final List<ConfigurableApplicationContext> apps = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    mongo = EmbeddedMongo.start();
    client = MongoClients.create(mongo.connectionString());
    sink = stack.sink();
    issuer = stack.tokens();
  }

  @AfterEach
  void tearDown() {
    apps.forEach(ConfigurableApplicationContext::close);
    client.close();
    mongo.close();
  }

  ConfigurableApplicationContext start(String... extra) throws Exception {
    Path secret = issuer.writeClientSecret(tmp);
    Map<String, String> properties = new LinkedHashMap<>();
    properties.put("exporter.live.metricsPort", "0");
    properties.putAll(StackSettings.exporter("test-cluster", sink, issuer, mongo, secret));
    properties.put("logging.structured.format.console", "");
    properties.put("exporter.failureHandling.initialBackoff", "5ms");
    properties.put("exporter.failureHandling.maxBackoff", "50ms");
    properties.put("exporter.failureHandling.maxRetries", "2");
    properties.put("exporter.live.tokenFlushInterval", "100ms");
    for (String property : extra) {
      int eq = property.indexOf('=');
      properties.put(property.substring(0, eq), property.substring(eq + 1));
    }
    String[] args = StackSettings.arguments(properties);
    ConfigurableApplicationContext app = LiveExporterApplication.application().run(args);
    apps.add(app);
    return app;
  }

  /** A path on the metrics port, the live exporter's only HTTP port besides the trigger. */
  static String url(ConfigurableApplicationContext app, String path) {
    return "http://127.0.0.1:" + app.getBean(MetricsPort.class).port() + path;
  }

  static HttpResponse<String> get(String url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> post(String url, String json) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  String eventId(BsonDocument doc) {
    return EventIds.of("HealthEventsDatabase", "HealthEvents", doc.get("_id"));
  }

  @Test
  void theCatalogComposesTheTwoFunctionsAndTheRunnerFeedsThem() throws Exception {
    ConfigurableApplicationContext app = start();
    FunctionCatalog catalog = app.getBean(FunctionCatalog.class);
    assertThat((Object) catalog.lookup(Function.class, "toCloudEvent")).isNotNull();
    assertThat((Object) catalog.lookup(Function.class, "deliver")).isNotNull();
    assertThat((Object) catalog.lookup(Function.class, ExportFunctions.DEFINITION)).isNotNull();

    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> get(url(app, "/readyz")).statusCode() == 200);
    BsonDocument doc = Samples.good().get(0);
    client
        .getDatabase("HealthEventsDatabase")
        .getCollection("HealthEvents", BsonDocument.class)
        .insertOne(doc);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> sink.deliveriesOf("nvsentinel://test-cluster/healthevents", eventId(doc)) == 1);

    assertThat(get(url(app, "/livez")).statusCode()).isEqualTo(200);
    assertThat(get(url(app, "/readyz")).statusCode()).isEqualTo(200);
    String metrics = get(url(app, "/metrics")).body();
    assertThat(metrics)
        .contains("health_events_exporter_events_received_total 1.0")
        .contains("health_events_exporter_events_published_total{status=\"success\"} 1.0")
        .contains("health_events_exporter_publish_duration_seconds_bucket")
        .contains("health_events_exporter_resume_token_update_timestamp")
        .contains("health_events_exporter_export_lag_seconds")
        .contains("health_events_exporter_events_in_flight")
        .contains("health_events_exporter_transform_errors_total")
        .contains(
            "change_stream_resume_token_recoveries_total{client=\"event-exporter\",phase=\"runtime\"} 0.0")
        .contains("change_stream_lag_known{client=\"event-exporter\"} 1.0")
        .contains("change_stream_lag_seconds{client=\"event-exporter\"}")
        .contains(
            "nvsentinel_feature_flag_enabled{flag=\"backfill_enabled\",service=\"event-exporter\"} 1.0");
  }

  @Test
  void metricsAndProbesAreOnTheMetricsPortWhereNVSentinelsUmbrellaChartLooks() throws Exception {
    ConfigurableApplicationContext app = start();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> get(url(app, "/readyz")).statusCode() == 200);

    HttpResponse<String> metrics = get(url(app, "/metrics"));
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.headers().firstValue("Content-Type"))
        .hasValue("text/plain; version=0.0.4; charset=utf-8");
    assertThat(metrics.body())
        .contains("health_events_exporter_events_received_total")
        .contains("health_events_exporter_resume_token_update_timestamp");
    assertThat(get(url(app, "/healthz")).statusCode()).isEqualTo(200);
    assertThat(get(url(app, "/livez")).statusCode()).isEqualTo(200);
    assertThat(get(url(app, "/other")).statusCode()).isEqualTo(404);
    // the live pod starts no web server: these are its only HTTP endpoints
    assertThat(app).isNotInstanceOf(WebServerApplicationContext.class);
    // the port serves before the stream starts and until it has stopped
    assertThat(app.getBean(MetricsPort.class).getPhase())
        .isLessThan(app.getBean(ChangeStreamRunner.class).getPhase());
  }

  @Test
  void theAutoConfigurationsTheLiveExporterNeverUsesAreLeftOut() throws Exception {
    ConfigurableApplicationContext app = start();
    // Spring's own HTTP clients (the sink and token clients build theirs), its task executor and
    // scheduler (the runner owns its threads), and the actuator's endpoints
    assertThat(app.containsBean("restClientBuilder")).isFalse();
    assertThat(app.containsBean("restTemplateBuilder")).isFalse();
    assertThat(app.containsBean("applicationTaskExecutor")).isFalse();
    assertThat(app.containsBean("taskSchedulerBuilder")).isFalse();
    assertThat(app.containsBean("healthEndpoint")).isFalse();
    // what it does use is there
    assertThat(app.getBeanNamesForType(PrometheusMeterRegistry.class)).hasSize(1);
  }

  @Test
  void theMetricsPortDefaultsToTheUmbrellasMetricsPort() {
    assertThat(new Binder().bindOrCreate("exporter.live", LiveProperties.class).metricsPort())
        .isEqualTo(2112);
  }

  @Test
  void everyLiveSettingIsAKeyTheSharedConfigMapMayCarry() {
    // both applications read one ConfigMap and refuse keys neither knows
    assertThat(ExporterKeys.APPLICATION_KEYS.get("exporter.live"))
        .containsExactlyInAnyOrderElementsOf(
            Arrays.stream(LiveProperties.class.getRecordComponents())
                .map(RecordComponent::getName)
                .toList());
    assertThat(ExporterKeys.APPLICATION_KEYS.get("exporter.live.lease"))
        .containsExactlyInAnyOrderElementsOf(
            Arrays.stream(LeaseProperties.class.getRecordComponents())
                .map(RecordComponent::getName)
                .toList());
  }

  @Test
  void aMistypedLiveKeyStopsStartUpNamingIt() {
    assertThatThrownBy(() -> start("exporter.live.tokenFlushIntervall=1s"))
        .rootCause()
        .hasMessageContaining("exporter.live.tokenFlushIntervall")
        .hasMessageContaining("did you mean exporter.live.tokenFlushInterval?");
  }

  @Test
  void theReplacedExportersWorkersKeySetsTheLiveConcurrency() throws Exception {
    ConfigurableApplicationContext app = start("exporter.workers=3");
    assertThat(app.getBean(LiveProperties.class).workers()).isEqualTo(3);
  }

  @Test
  void theComposedFunctionSaysHowEachExportEnded() throws Exception {
    ConfigurableApplicationContext app = start();
    Function<ChangeEvent, ExportResult> export =
        app.getBean(FunctionCatalog.class).lookup(Function.class, ExportFunctions.DEFINITION);
    BsonDocument good = Samples.good().get(0);
    BsonDocument broken =
        new BsonDocument("_id", new BsonObjectId())
            .append("healthevent", new BsonString("not a document"));

    ExportResult delivered = export.apply(ChangeEvent.of(good));
    ExportResult undecodable = export.apply(ChangeEvent.of(broken));

    assertThat(delivered.outcome()).isEqualTo(ExportResult.Outcome.DELIVERED);
    assertThat(delivered.eventId()).isEqualTo(eventId(good));
    assertThat(undecodable.outcome()).isEqualTo(ExportResult.Outcome.UNDECODABLE);
    assertThat(undecodable.reason()).isNotBlank();
    assertThat(undecodable.outcome()).hasToString("undecodable");
    assertThat(ExportResult.Outcome.DEAD_LETTERED).hasToString("dead-lettered");
    assertThat(ExportResult.Outcome.FILTERED).hasToString("filtered");
  }

  @Test
  void shutdownWritesTheCheckpointOfTheLastDeliveredEvent() throws Exception {
    ConfigurableApplicationContext app =
        start("exporter.live.tokenFlushInterval=1h", "exporter.live.tokenFlushEvents=1000");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> get(url(app, "/readyz")).statusCode() == 200);
    List<BsonDocument> docs = Samples.good().subList(0, 5);
    client
        .getDatabase("HealthEventsDatabase")
        .getCollection("HealthEvents", BsonDocument.class)
        .insertMany(docs);
    await().atMost(Duration.ofSeconds(20)).until(() -> sink.distinct().size() == 5);
    CheckpointStore checkpoints = app.getBean(CheckpointStore.class);
    assertThat(checkpoints.load("event-exporter").orElseThrow().position())
        .as("not flushed yet")
        .isNull();

    app.close();

    assertThat(
            new MongoCheckpointStore(
                    client,
                    new ExporterProperties.ResumeToken(
                        "HealthEventsDatabase", "ResumeTokens", "exportergaps", "event-exporter"))
                .load("event-exporter")
                .orElseThrow()
                .position())
        .isNotNull();
  }

  HttpResponse<String> trigger(String token, String json) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + triggerPort + "/export"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  int triggerPort;

  ConfigurableApplicationContext startWithTrigger() throws Exception {
    Path token = Files.writeString(tmp.resolve("trigger-token"), "s3cret-trigger-token\n");
    ConfigurableApplicationContext app =
        start(
            "exporter.live.httpTrigger=true",
            "exporter.live.httpTriggerPort=0",
            "exporter.live.httpTriggerTokenFile=" + token);
    triggerPort = app.getBean(ExportHttpTrigger.class).port();
    return app;
  }

  @Test
  void theHttpTriggerExportsTheStoredEventOnItsOwnPortAndAnswersAtOnce() throws Exception {
    ConfigurableApplicationContext app = startWithTrigger();
    assertThat(triggerPort).isNotEqualTo(app.getBean(MetricsPort.class).port());
    BsonDocument doc = Samples.good().get(3).clone();
    doc.put("_id", new BsonObjectId());
    client
        .getDatabase("HealthEventsDatabase")
        .getCollection("HealthEvents", BsonDocument.class)
        .insertOne(doc);
    sink.faults().delay(Duration.ofMillis(500));

    long start = System.nanoTime();
    HttpResponse<String> accepted = trigger("s3cret-trigger-token", doc.toJson());

    assertThat(accepted.statusCode()).isEqualTo(202);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(450));
    assertThat(accepted.body()).contains("\"eventId\":\"" + eventId(doc) + "\"");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> sink.deliveriesOf("nvsentinel://test-cluster/healthevents", eventId(doc)) >= 1);
    // the metrics port does not serve it
    assertThat(post(url(app, "/export"), doc.toJson()).statusCode()).isEqualTo(404);
  }

  @Test
  void theHttpTriggerExportsWhatIsStoredNotWhatTheCallerSends() throws Exception {
    startWithTrigger();
    BsonDocument stored = Samples.good().get(4).clone();
    stored.put("_id", new BsonObjectId());
    client
        .getDatabase("HealthEventsDatabase")
        .getCollection("HealthEvents", BsonDocument.class)
        .insertOne(stored);
    BsonDocument forged = stored.clone();
    forged.getDocument("healthevent").put("message", new BsonString("forged"));
    BsonDocument change =
        new BsonDocument("operationType", new BsonString("insert")).append("fullDocument", forged);

    assertThat(trigger("s3cret-trigger-token", change.toJson()).statusCode()).isEqualTo(202);

    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                sink.deliveriesOf("nvsentinel://test-cluster/healthevents", eventId(stored)) >= 1);
    assertThat(sink.accepted())
        .allSatisfy(
            received ->
                assertThat(
                        received
                            .event()
                            .path("data")
                            .path("healthEvent")
                            .path("message")
                            .asString(""))
                    .isNotEqualTo("forged"));
  }

  @Test
  void theAccessTokenIsFetchedAtStartBeforeAnyEvent() throws Exception {
    int before = issuer.tokenRequests();
    start();
    await().atMost(Duration.ofSeconds(10)).until(() -> issuer.tokenRequests() > before);
    assertThat(sink.accepted()).isEmpty();
  }

  @Test
  void aCredentialTheIdentityProviderRefusesShowsAtStartWithoutStoppingIt() throws Exception {
    issuer.refuse(401, "invalid_client");
    try {
      ConfigurableApplicationContext app = start();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  get(url(app, "/metrics"))
                      .body()
                      .contains("health_events_exporter_token_refresh_errors_total 1.0"));
      assertThat(app.isRunning()).isTrue();
    } finally {
      issuer.restore();
    }
  }

  @Test
  void theHttpTriggerRefusesWhatItCannotExport() throws Exception {
    startWithTrigger();
    BsonDocument unknown = Samples.good().get(5).clone();
    unknown.put("_id", new BsonObjectId());
    BsonDocument noId = Samples.good().get(6).clone();
    noId.remove("_id");

    assertThat(trigger(null, unknown.toJson()).statusCode()).isEqualTo(401);
    assertThat(trigger("wrong-token", unknown.toJson()).statusCode()).isEqualTo(401);
    assertThat(trigger("s3cret-trigger-token", noId.toJson()).statusCode()).isEqualTo(422);
    assertThat(trigger("s3cret-trigger-token", unknown.toJson()).statusCode()).isEqualTo(404);
    HttpResponse<String> garbage = trigger("s3cret-trigger-token", "{not json");
    assertThat(garbage.statusCode()).isEqualTo(400);
    assertThat(garbage.body()).contains("not a MongoDB Extended JSON document");
    assertThat(sink.accepted()).isEmpty();
  }

  @Test
  void theHttpTriggerWithoutATokenFileStopsStartUpNamingTheKey() {
    assertThatThrownBy(
            () -> start("exporter.live.httpTrigger=true", "exporter.live.httpTriggerPort=0"))
        .hasStackTraceContaining("exporter.live.httpTriggerTokenFile");
  }

  @Test
  void theHttpTriggerIsOffByDefault() throws Exception {
    ConfigurableApplicationContext app = start();
    assertThat(post(url(app, "/export"), Samples.good().get(0).toJson()).statusCode())
        .isEqualTo(404);
  }

  @Test
  void invalidConfigurationStopsStartUpNamingTheKey() {
    assertThatThrownBy(() -> start("exporter.sink.endpoint=ftp://x"))
        .hasStackTraceContaining(
            "exporter.sink.endpoint must be an http(s) URL with a host, got 'ftp://x'");
    assertThatThrownBy(() -> start("exporter.live.workers=0"))
        .hasStackTraceContaining("exporter.live")
        .hasStackTraceContaining("workers")
        .hasStackTraceContaining("must be at least 1, got 0");
  }

  @ParameterizedTest(name = "{0}={1} stops start-up")
  @CsvSource({
    "startOverlap, -5s, must not be negative",
    "tokenFlushInterval, 0s, must be a positive duration",
    "stuckAfter, 0s, must be at least 1s",
    "shutdownTimeout, -1s, must not be negative"
  })
  void anUnusableDurationStopsStartUpNamingTheKey(String key, String value, String reason) {
    assertThatThrownBy(() -> start("exporter.live." + key + "=" + value))
        .hasStackTraceContaining("exporter.live")
        .hasStackTraceContaining(key)
        .hasStackTraceContaining(reason);
  }

  BsonDocument insert(BsonDocument document) {
    client
        .getDatabase("HealthEventsDatabase")
        .getCollection("HealthEvents", BsonDocument.class)
        .insertOne(document);
    return document;
  }

  /** A sample event as NVSentinel's platform connector stores it: with its trace and span id. */
  static BsonDocument traced(BsonDocument sample, String traceId, String spanId) {
    BsonDocument document = sample.clone();
    BsonDocument event = document.getDocument("healthevent");
    if (!event.containsKey("metadata")) {
      event.put("metadata", new BsonDocument());
    }
    event.getDocument("metadata").put("trace_id", new BsonString(traceId));
    document
        .getDocument("healtheventstatus")
        .put("spanids", new BsonDocument("platform-connector", new BsonString(spanId)));
    return document;
  }

  @Nested
  class Tracing {

    static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    static final String CONNECTOR_SPAN = "00f067aa0ba902b7";

    OtlpReceiver collector;

    @BeforeEach
    void startCollector() {
      collector = OtlpReceiver.start();
    }

    @AfterEach
    void stopCollector() {
      collector.close();
    }

    ConfigurableApplicationContext startTraced(String... extra) throws Exception {
      List<String> settings = new ArrayList<>(List.of(extra));
      settings.add("management.opentelemetry.tracing.export.schedule-delay=100ms");
      return start(settings.toArray(String[]::new));
    }

    List<OtlpReceiver.ReceivedSpan> spansOf(String traceId) {
      return collector.spans().stream().filter(s -> s.traceId().equals(traceId)).toList();
    }

    static OtlpReceiver.ReceivedSpan named(List<OtlpReceiver.ReceivedSpan> spans, String name) {
      return spans.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void eachEventContinuesThePlatformConnectorsTraceOverGrpcAndTheSinkSeesItsTraceparent()
        throws Exception {
      ConfigurableApplicationContext app =
          startTraced(
              "OTEL_EXPORTER_OTLP_ENDPOINT=" + collector.grpcEndpoint(),
              "OTEL_EXPORTER_OTLP_INSECURE=true");
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> get(url(app, "/readyz")).statusCode() == 200);
      sink.faults().failNext(1, 503);
      BsonDocument doc = insert(traced(Samples.good().get(0), TRACE, CONNECTOR_SPAN));
      await().atMost(Duration.ofSeconds(20)).until(() -> sink.distinct().size() == 1);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> spansOf(TRACE).stream().anyMatch(s -> s.name().endsWith("process_event")));
      List<OtlpReceiver.ReceivedSpan> spans = spansOf(TRACE);

      OtlpReceiver.ReceivedSpan process = named(spans, "event_exporter.process_event");
      assertThat(process.parentSpanId())
          .as("not a child of the platform connector's span, as NVSentinel's modules are not")
          .isNotEqualTo(CONNECTOR_SPAN);
      assertThat(process.links())
          .as("but linked to it (StartSpanWithLinkFromTraceContext)")
          .containsExactly(TRACE + "-" + CONNECTOR_SPAN);
      assertThat(process.service()).as("NVSentinel's service name").isEqualTo("event-exporter");
      assertThat(process.resource())
          .containsEntry("event_exporter.application", "event-exporter-live");
      assertThat(process.attribute("cloudevents.event_id")).isEqualTo(eventId(doc));
      assertThat(process.attribute("event_exporter.outcome")).isEqualTo("delivered");
      assertThat(named(spans, "event_exporter.transform").parentSpanId())
          .isEqualTo(process.spanId());
      OtlpReceiver.ReceivedSpan delivery = named(spans, "event_exporter.publish_with_retry");
      assertThat(delivery.parentSpanId()).isEqualTo(process.spanId());
      assertThat(delivery.attribute("event_exporter.attempt")).isEqualTo("2");
      List<OtlpReceiver.ReceivedSpan> attempts =
          spans.stream().filter(s -> s.name().equals("event_exporter.publish")).toList();
      assertThat(attempts)
          .extracting(s -> s.attribute("http.response.status_code"))
          .containsExactlyInAnyOrder("503", "202");
      assertThat(attempts).allMatch(s -> s.parentSpanId().equals(delivery.spanId()));
      assertThat(attempts).allMatch(s -> s.kind().equals("CLIENT"));
      OtlpReceiver.ReceivedSpan accepted =
          attempts.stream()
              .filter(s -> "202".equals(s.attribute("http.response.status_code")))
              .findFirst()
              .orElseThrow();
      assertThat(sink.accepted().get(0).traceparent())
          .as("the accepted POST carries the context of its own attempt span")
          .isEqualTo("00-" + TRACE + "-" + accepted.spanId() + "-01");
      assertThat(collector.spans())
          .as("the readiness probes polled above are no traces of their own")
          .noneMatch(s -> s.kind().equals("SERVER"));
    }

    @Test
    void overHttpProtobufAndForADocumentWithoutATraceAnEventStartsATraceOfItsOwn()
        throws Exception {
      ConfigurableApplicationContext app =
          startTraced(
              "OTEL_EXPORTER_OTLP_ENDPOINT=" + collector.httpEndpoint(),
              "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
              "exporter.sink.traceContextExtension=true");
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> get(url(app, "/readyz")).statusCode() == 200);
      BsonDocument doc = insert(Samples.good().get(1));
      await().atMost(Duration.ofSeconds(20)).until(() -> sink.distinct().size() == 1);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  collector.spans().stream()
                      .anyMatch(s -> s.name().equals("event_exporter.process_event")));

      OtlpReceiver.ReceivedSpan process = named(collector.spans(), "event_exporter.process_event");
      assertThat(process.parentSpanId()).isEmpty();
      assertThat(process.attribute("cloudevents.event_id")).isEqualTo(eventId(doc));
      ReferenceSink.Received received = sink.accepted().get(0);
      assertThat(received.traceparent()).startsWith("00-" + process.traceId() + "-");
      assertThat(received.event().path("traceparent").asString(""))
          .as("the distributed-tracing extension carries the event's own span")
          .isEqualTo("00-" + process.traceId() + "-" + process.spanId() + "-01");
    }

    @Test
    void withoutAnEndpointNothingIsRecordedSentOrExported() throws Exception {
      ConfigurableApplicationContext app = startTraced("exporter.sink.traceContextExtension=true");
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> get(url(app, "/readyz")).statusCode() == 200);
      insert(traced(Samples.good().get(0), TRACE, CONNECTOR_SPAN));
      await().atMost(Duration.ofSeconds(20)).until(() -> sink.distinct().size() == 1);

      assertThat(app.getBean(EventTracing.class).enabled()).isFalse();
      ReferenceSink.Received received = sink.accepted().get(0);
      assertThat(received.traceparent()).isNull();
      assertThat(received.event().has("traceparent")).isFalse();
      await()
          .during(Duration.ofMillis(500))
          .atMost(Duration.ofSeconds(2))
          .until(() -> collector.spans().isEmpty());
    }
  }

  @Test
  void theLivePodsMetricsShowTheGapWindowsNoBackfillExportedYet() throws Exception {
    ConfigurableApplicationContext app = start();
    String metrics = "http://127.0.0.1:" + app.getBean(MetricsPort.class).port() + "/metrics";
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> get(metrics).body().contains("health_events_exporter_gap_windows_pending 0.0"));

    GapWindowStore gaps = app.getBean(GapWindowStore.class);
    Instant now = Instant.now();
    gaps.record("event-exporter", now.minusSeconds(600), now, "test: a lost interval", now);
    // the count is read at most every 30 s: a fresh application reads it at its next scrape
    ConfigurableApplicationContext restarted = start();
    String after = "http://127.0.0.1:" + restarted.getBean(MetricsPort.class).port() + "/metrics";
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> get(after).body().contains("health_events_exporter_gap_windows_pending 1.0"));
  }

  @Test
  void aFilteredEventIsAccountedForAndTheCheckpointMovesOverIt() throws Exception {
    Predicate<BsonDocument> asksNothing =
        d -> new BsonString("NONE").equals(d.getDocument("healthevent").get("recommendedAction"));
    List<BsonDocument> actionable = Samples.good().stream().filter(asksNothing.negate()).toList();
    List<BsonDocument> dropped = Samples.good().stream().filter(asksNothing).toList();
    List<BsonDocument> stored = new ArrayList<>(actionable);
    stored.addAll(dropped); // the last events stored are all ones the filter drops
    ConfigurableApplicationContext filtering =
        start(
            "exporter.filter.expression=event.recommendedAction != 'NONE'",
            "exporter.live.tokenFlushInterval=1h");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> get(url(filtering, "/readyz")).statusCode() == 200);
    client
        .getDatabase("HealthEventsDatabase")
        .getCollection("HealthEvents", BsonDocument.class)
        .insertMany(stored);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                get(url(filtering, "/metrics"))
                    .body()
                    .contains(
                        "health_events_exporter_events_filtered_total " + dropped.size() + ".0"));
    assertThat(sink.distinct())
        .extracting(ReferenceSink.Received::id)
        .containsExactlyInAnyOrderElementsOf(actionable.stream().map(this::eventId).toList());
    filtering.close(); // writes the checkpoint

    // without the filter, a checkpoint held back by the dropped events would send them now
    ConfigurableApplicationContext unfiltered = start();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> get(url(unfiltered, "/readyz")).statusCode() == 200);
    BsonDocument later = insert(Samples.good().get(0).clone().append("_id", new BsonObjectId()));
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> sink.deliveriesOf("nvsentinel://test-cluster/healthevents", eventId(later)) == 1);
    assertThat(sink.distinct()).hasSize(actionable.size() + 1);
    assertThat(sink.distinct())
        .extracting(ReferenceSink.Received::id)
        .doesNotContainAnyElementsOf(dropped.stream().map(this::eventId).toList());
  }
}
