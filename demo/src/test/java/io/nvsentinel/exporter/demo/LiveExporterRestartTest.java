package io.nvsentinel.exporter.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.nvsentinel.exporter.devstack.DemoHistory;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.StackSettings;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import io.nvsentinel.exporter.live.LiveExporterApplication;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.bson.BsonDocument;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The live exporter's process is killed (SIGKILL) while events arrive, then started again. */
class LiveExporterRestartTest {

  @TempDir Path dir;
  final List<AutoCloseable> open = new ArrayList<>();
  Process process;

  @AfterEach
  void tearDown() throws Exception {
    if (process != null) {
      process.destroyForcibly().waitFor();
    }
    for (AutoCloseable c : open) {
      c.close();
    }
  }

  Process startLiveExporter(
      EmbeddedMongo mongo, TokenIssuer issuer, ReferenceSink sink, Path secret, String log)
      throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(LiveExporterApplication.class.getName());
    command.addAll(
        List.of(
            "--exporter.live.metricsPort=0",
            "--spring.autoconfigure.exclude=" + StackSettings.NOT_THE_EXPORTERS,
            "--logging.structured.format.console=",
            "--exporter.metadata.cluster=demo-cluster",
            "--exporter.sink.endpoint=" + sink.endpoint(),
            "--exporter.oidc.tokenUrl=" + issuer.tokenUrl(),
            "--exporter.oidc.clientId=nvsentinel-exporter",
            "--exporter.oidc.scope=events:write",
            "--exporter.oidc.clientSecretFile=" + secret,
            "--exporter.oidc.clientSecretEnv=",
            "--exporter.datastore.uri=" + mongo.connectionString(),
            "--exporter.live.tokenFlushInterval=200ms"));
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve(log).toFile())
        .start();
  }

  @Test
  void nothingIsLostAndEveryReDeliveryCarriesTheSameId() throws Exception {
    EmbeddedMongo mongo = EmbeddedMongo.start();
    open.add(0, mongo);
    MongoClient client = MongoClients.create(mongo.connectionString());
    open.add(0, client);
    TokenIssuer issuer = TokenIssuer.start(TokenIssuer.Settings.defaults());
    open.add(0, issuer);
    ReferenceSink sink = ReferenceSink.start(0, issuer, "events:write");
    open.add(0, sink);
    Path secret = issuer.writeClientSecret(dir);
    MongoCollection<BsonDocument> events =
        client
            .getDatabase("HealthEventsDatabase")
            .getCollection("HealthEvents", BsonDocument.class);
    DemoHistory generator = new DemoHistory(7);
    sink.faults().delay(Duration.ofMillis(20));

    process = startLiveExporter(mongo, issuer, sink, secret, "first.log");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                client
                        .getDatabase("HealthEventsDatabase")
                        .getCollection("ResumeTokens")
                        .countDocuments()
                    == 1);
    List<BsonDocument> inserted = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      BsonDocument doc = generator.event(Instant.now());
      events.insertOne(doc);
      inserted.add(doc);
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> sink.accepted().size() >= 60);
    process.destroyForcibly().waitFor();
    int beforeKill = sink.distinct().size();
    assertThat(beforeKill).as("killed while delivering").isLessThan(200);

    for (int i = 0; i < 50; i++) {
      BsonDocument doc = generator.event(Instant.now());
      events.insertOne(doc);
      inserted.add(doc);
    }
    sink.faults().delay(Duration.ZERO);
    process = startLiveExporter(mongo, issuer, sink, secret, "second.log");

    Set<String> expected = inserted.stream().map(Demo::id).collect(Collectors.toSet());
    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () ->
                sink.distinct().stream()
                    .map(ReferenceSink.Received::id)
                    .collect(Collectors.toSet())
                    .containsAll(expected));
    assertThat(sink.distinct()).hasSize(250);
    // whatever was sent twice was sent with its id, so the sink recognised it; at most the
    // in-flight window plus what was committed since the last checkpoint write
    assertThat(sink.accepted().size() - sink.distinct().size()).isEqualTo(sink.duplicates());
    assertThat(sink.duplicates()).isLessThanOrEqualTo(64 + 100);
  }
}
