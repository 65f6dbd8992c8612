package io.nvsentinel.exporter.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.devstack.EmbeddedPostgresStore;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.StackSettings;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import io.nvsentinel.exporter.live.function.ExportHttpTrigger;
import io.nvsentinel.exporter.testkit.LocalStack;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.bson.BsonString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The live exporter on NVSentinel's PostgreSQL store, end to end: the application as it starts in a
 * pod ({@code exporter.datastore.provider=postgresql}), a real PostgreSQL with NVSentinel's tables
 * and change-log trigger, a real token issuer and the verifying sink.
 */
class LivePostgresTest {

  @TempDir Path tmp;
  EmbeddedPostgresStore store;
  @RegisterExtension static final LocalStack stack = LocalStack.issuer().withSink();
  TokenIssuer issuer;
  ReferenceSink sink;
  final List<ConfigurableApplicationContext> apps = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    store = EmbeddedPostgresStore.start(tmp.resolve("pg"));
    issuer = stack.tokens();
    sink = stack.sink();
  }

  @AfterEach
  void tearDown() throws Exception {
    apps.forEach(ConfigurableApplicationContext::close);
    store.close();
  }

  ConfigurableApplicationContext start(String... settings) throws Exception {
    Path secret = issuer.writeClientSecret(tmp);
    Map<String, String> properties = StackSettings.exporter("pg-cluster", sink, issuer, secret);
    properties.put("exporter.live.metricsPort", "0");
    properties.put("exporter.datastore.provider", "postgresql");
    properties.put("exporter.datastore.postgresql.host", "localhost");
    properties.put("exporter.datastore.postgresql.port", String.valueOf(store.port()));
    properties.put("exporter.datastore.postgresql.database", EmbeddedPostgresStore.DATABASE);
    properties.put("exporter.datastore.postgresql.username", EmbeddedPostgresStore.USER);
    properties.put("exporter.datastore.postgresql.sslmode", "disable");
    properties.put("exporter.live.tokenFlushInterval", "100ms");
    properties.put("logging.structured.format.console", "");
    for (String setting : settings) {
      properties.put(
          setting.substring(0, setting.indexOf('=')), setting.substring(1 + setting.indexOf('=')));
    }
    ConfigurableApplicationContext app =
        LiveExporterApplication.application().run(StackSettings.arguments(properties));
    apps.add(app);
    return app;
  }

  @Test
  void eventsAreExportedMalformedOnesSetAsideAndARestartContinues() throws Exception {
    ConfigurableApplicationContext app = start();
    List<UUID> stored = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      stored.add(store.insert("node-" + i, EmbeddedPostgresStore.document("node-" + i, "m" + i)));
    }
    UUID noEvent = store.insert("node-x", "{\"createdAt\":\"2026-11-20T12:00:00Z\"}");
    UUID notAnObject = store.insert("node-y", "[1, 2, 3]");

    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(sink.distinct()).hasSize(20));
    assertThat(sink.distinct())
        .extracting(ReferenceSink.Received::id)
        .containsExactlyInAnyOrderElementsOf(
            stored.stream()
                .map(id -> EventIds.of("postgres", "health_events", new BsonString(id.toString())))
                .toList());
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(query("SELECT document_id FROM event_exporter_dead_letters"))
                    .hasSize(2)
                    .anyMatch(id -> id.contains(noEvent.toString()))
                    .anyMatch(id -> id.contains(notAnObject.toString())));

    app.close();
    List<UUID> later = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      later.add(store.insert("later-" + i, EmbeddedPostgresStore.document("later-" + i, "l")));
    }
    start();
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(sink.distinct()).hasSize(25));
    assertThat(query("SELECT resume_token::text FROM event_exporter_checkpoints"))
        .singleElement()
        .asString()
        .contains("watermark");
    assertThat(query("SELECT resume_token->>'eventID' FROM resume_tokens"))
        .as("the position in the replaced exporter's form, for a roll-back")
        .singleElement()
        .isNotNull();
  }

  /**
   * The exporter's connections cut by the server (a failover, an administrator): the reader
   * reconnects from where it was and events stored meanwhile arrive, none lost.
   */
  @Test
  void connectionsCutByTheServerAreReopenedAndNothingIsLost() throws Exception {
    start();
    store.insert("first", EmbeddedPostgresStore.document("first", "before the cut"));
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(sink.distinct()).hasSize(1));
    try (Connection connection = store.connect()) {
      assertThat(
              query(
                  "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity"
                      + " WHERE application_name = 'nvsentinel-event-exporter'"))
          .as("the exporter's reading and listening connections")
          .isNotEmpty();
    }
    for (int i = 0; i < 5; i++) {
      store.insert("after-" + i, EmbeddedPostgresStore.document("after-" + i, "after the cut"));
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> assertThat(sink.distinct()).hasSize(6));
  }

  /** The replaced exporter's {timestamp, eventID} position: what came after it is exported. */
  @Test
  void itTakesOverFromTheReplacedExportersPosition() throws Exception {
    for (int i = 0; i < 3; i++) {
      store.insert("before-" + i, EmbeddedPostgresStore.document("before-" + i, "b"));
    }
    try (Connection connection = store.connect()) {
      connection
          .createStatement()
          .execute(
              "INSERT INTO resume_tokens (client_name, resume_token) SELECT 'event-exporter',"
                  + " jsonb_build_object('timestamp', to_char(changed_at AT TIME ZONE 'UTC',"
                  + " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), 'eventID', id)"
                  + " FROM datastore_changelog ORDER BY id DESC LIMIT 1");
    }
    List<UUID> after = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      after.add(store.insert("after-" + i, EmbeddedPostgresStore.document("after-" + i, "a")));
    }
    start();
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(sink.distinct()).hasSize(4));
    // and nothing from before the replaced exporter's position follows them
    await()
        .during(Duration.ofMillis(1500))
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(() -> assertThat(sink.distinct()).hasSize(4));
    assertThat(sink.distinct())
        .extracting(ReferenceSink.Received::id)
        .containsExactlyInAnyOrderElementsOf(
            after.stream()
                .map(id -> EventIds.of("postgres", "health_events", new BsonString(id.toString())))
                .toList());
    assertThat(
            query("SELECT coalesce(backfill_cutoff::text, 'none') FROM event_exporter_checkpoints"))
        .as("that exporter exported the history itself")
        .containsExactly("none");
  }

  /** POST /export names a health_events row by its id; the stored document is exported. */
  @Test
  void theHttpTriggerExportsTheStoredRowItNames() throws Exception {
    Path token = Files.writeString(tmp.resolve("trigger-token"), "trigger-secret");
    ConfigurableApplicationContext app =
        start(
            "exporter.live.httpTrigger=true",
            "exporter.live.httpTriggerPort=0",
            "exporter.live.httpTriggerTokenFile=" + token,
            // the change log is not followed here: only the trigger exports
            "exporter.live.operationTypes=update");
    int port = app.getBean(ExportHttpTrigger.class).port();
    UUID row = store.insert("node-t", EmbeddedPostgresStore.document("node-t", "on request"));
    String eventId = EventIds.of("postgres", "health_events", new BsonString(row.toString()));

    HttpResponse<String> accepted = trigger(port, "{\"_id\": \"" + row + "\"}");
    assertThat(accepted.statusCode()).isEqualTo(202);
    assertThat(accepted.body()).contains("\"eventId\":\"" + eventId + "\"");
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(sink.distinct())
                    .extracting(ReferenceSink.Received::id)
                    .containsExactly(eventId));
    assertThat(trigger(port, "{\"_id\": \"" + UUID.randomUUID() + "\"}").statusCode())
        .isEqualTo(404);
    assertThat(trigger(port, "{\"_id\": \"not-a-row-id\"}").statusCode()).isEqualTo(404);
  }

  private static HttpResponse<String> trigger(int port, String json) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/export"))
                .header("Authorization", "Bearer trigger-secret")
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  private List<String> query(String sql) throws Exception {
    List<String> values = new ArrayList<>();
    try (Connection connection = store.connect();
        PreparedStatement statement = connection.prepareStatement(sql);
        ResultSet rows = statement.executeQuery()) {
      while (rows.next()) {
        values.add(rows.getString(1));
      }
    }
    return values;
  }
}
