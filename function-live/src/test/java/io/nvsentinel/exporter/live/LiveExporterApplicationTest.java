package io.nvsentinel.exporter.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.StackSettings;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import io.nvsentinel.exporter.event.Samples;
import io.nvsentinel.exporter.live.function.ExportFunctions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.bson.BsonDocument;
import org.bson.BsonObjectId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.cloud.function.context.FunctionCatalog;
import org.springframework.context.ConfigurableApplicationContext;

/** The application as it is deployed: the function catalog, the runner, actuator, HTTP trigger. */
class LiveExporterApplicationTest {

  static TokenIssuer issuer;
  static final HttpClient http = HttpClient.newHttpClient();

  @TempDir Path tmp;
  EmbeddedMongo mongo;
  ReferenceSink sink;
  MongoClient client;
  final List<ConfigurableApplicationContext> apps = new ArrayList<>();

  @BeforeAll
  static void startIssuer() {
    issuer = TokenIssuer.start(TokenIssuer.Settings.defaults());
  }

  @AfterAll
  static void stopIssuer() {
    issuer.close();
  }

  @BeforeEach
  void setUp() throws Exception {
    mongo = EmbeddedMongo.start();
    client = MongoClients.create(mongo.connectionString());
    sink = ReferenceSink.start(0, issuer, "events:write");
  }

  @AfterEach
  void tearDown() {
    apps.forEach(ConfigurableApplicationContext::close);
    client.close();
    sink.close();
    mongo.close();
  }

  ConfigurableApplicationContext start(String... extra) throws Exception {
    Path secret =
        Files.writeString(tmp.resolve("oidc-client-secret"), issuer.settings().clientSecret());
    Map<String, String> properties = new LinkedHashMap<>();
    properties.put("server.port", "0");
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

  static String url(ConfigurableApplicationContext app, String path) {
    return "http://127.0.0.1:"
        + ((WebServerApplicationContext) app).getWebServer().getPort()
        + path;
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
    return EventIds.of("nvsentinel", "HealthEvents", doc.get("_id"));
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
        .until(() -> get(url(app, "/actuator/health/readiness")).statusCode() == 200);
    BsonDocument doc = Samples.good().get(0);
    client
        .getDatabase("nvsentinel")
        .getCollection("HealthEvents", BsonDocument.class)
        .insertOne(doc);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> sink.deliveriesOf("nvsentinel://test-cluster/healthevents", eventId(doc)) == 1);

    assertThat(get(url(app, "/livez")).statusCode()).isEqualTo(200);
    assertThat(get(url(app, "/readyz")).statusCode()).isEqualTo(200);
    String metrics = get(url(app, "/actuator/prometheus")).body();
    assertThat(metrics)
        .contains("health_events_exporter_events_received_total 1.0")
        .contains("health_events_exporter_events_published_total{status=\"success\"} 1.0")
        .contains("health_events_exporter_publish_duration_seconds_bucket")
        .contains("health_events_exporter_resume_token_update_timestamp")
        .contains("health_events_exporter_export_lag_seconds")
        .contains("health_events_exporter_events_in_flight")
        .contains("health_events_exporter_transform_errors_total")
        .contains("change_stream_resume_token_recoveries_total");
  }

  @Test
  void shutdownWritesTheCheckpointOfTheLastDeliveredEvent() throws Exception {
    ConfigurableApplicationContext app =
        start("exporter.live.tokenFlushInterval=1h", "exporter.live.tokenFlushEvents=1000");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> get(url(app, "/actuator/health/readiness")).statusCode() == 200);
    List<BsonDocument> docs = Samples.good().subList(0, 5);
    client
        .getDatabase("nvsentinel")
        .getCollection("HealthEvents", BsonDocument.class)
        .insertMany(docs);
    await().atMost(Duration.ofSeconds(20)).until(() -> sink.distinct().size() == 5);
    CheckpointStore checkpoints = app.getBean(CheckpointStore.class);
    assertThat(checkpoints.load("event-exporter").orElseThrow().resumeToken())
        .as("not flushed yet")
        .isNull();

    app.close();

    assertThat(
            new CheckpointStore(
                    client,
                    new io.nvsentinel.exporter.config.ExporterProperties.ResumeToken(
                        "nvsentinel", "resumetokens", "exportergaps", "event-exporter"))
                .load("event-exporter")
                .orElseThrow()
                .resumeToken())
        .isNotNull();
  }

  @Test
  void theHttpTriggerReturnsTheDeliveryOutcome() throws Exception {
    ConfigurableApplicationContext app = start("exporter.live.httpTrigger=true");
    BsonDocument doc = Samples.good().get(3).clone();
    doc.put("_id", new BsonObjectId());

    HttpResponse<String> delivered = post(url(app, "/export"), doc.toJson());
    assertThat(delivered.statusCode()).isEqualTo(200);
    assertThat(delivered.body())
        .contains("\"outcome\":\"delivered\"")
        .contains("\"eventId\":\"" + eventId(doc) + "\"")
        .contains("\"attempts\":1");
    assertThat(sink.deliveriesOf("nvsentinel://test-cluster/healthevents", eventId(doc)))
        .isEqualTo(1);

    BsonDocument change =
        new BsonDocument("operationType", new org.bson.BsonString("insert"))
            .append("fullDocument", Samples.good().get(4));
    assertThat(post(url(app, "/export"), change.toJson()).statusCode()).isEqualTo(200);

    HttpResponse<String> undecodable =
        post(url(app, "/export"), Samples.malformed().get("healthevent is null").toJson());
    assertThat(undecodable.statusCode()).isEqualTo(422);
    assertThat(undecodable.body())
        .contains("\"outcome\":\"undecodable\"")
        .contains("healthevent is null");

    sink.failNext(1, 400);
    HttpResponse<String> refused = post(url(app, "/export"), Samples.good().get(5).toJson());
    assertThat(refused.statusCode()).isEqualTo(502);
    assertThat(refused.body()).contains("\"outcome\":\"dead-lettered\"").contains("400");

    HttpResponse<String> garbage = post(url(app, "/export"), "{not json");
    assertThat(garbage.statusCode()).isEqualTo(400);
    assertThat(garbage.body()).contains("not a MongoDB Extended JSON document");
  }

  @Test
  void theHttpTriggerIsOffByDefault() throws Exception {
    ConfigurableApplicationContext app = start();
    assertThat(post(url(app, "/export"), Samples.good().get(0).toJson()).statusCode())
        .isEqualTo(404);
  }

  @Test
  void invalidConfigurationStopsStartUpNamingTheKey() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> start("exporter.sink.endpoint=ftp://x"))
        .hasStackTraceContaining(
            "exporter.sink.endpoint must be an http(s) URL with a host, got 'ftp://x'");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> start("exporter.live.workers=0"))
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
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> start("exporter.live." + key + "=" + value))
        .hasStackTraceContaining("exporter.live")
        .hasStackTraceContaining(key)
        .hasStackTraceContaining(reason);
  }
}
