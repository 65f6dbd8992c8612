package io.nvsentinel.exporter.demo;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.nvsentinel.exporter.devstack.DatastoreProxy;
import io.nvsentinel.exporter.devstack.DemoHistory;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.StackSettings;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import io.nvsentinel.exporter.live.LiveExporterApplication;
import io.nvsentinel.exporter.live.metrics.MetricsPort;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.bson.BsonDocument;
import org.bson.Document;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * One fault-injection scenario's world: an embedded MongoDB (optionally behind a proxy that can cut
 * it off), a verifying sink, the live exporter in this JVM or in its own process, and the
 * reconciliation of what was inserted with what the sink accepted and what was set aside.
 */
final class FaultStack implements AutoCloseable {

  static final HttpClient HTTP = HttpClient.newHttpClient();

  final EmbeddedMongo mongo = EmbeddedMongo.start();
  final MongoClient client = MongoClients.create(mongo.connectionString());
  final TokenIssuer issuer;
  final ReferenceSink sink;
  final Path dir;
  final Path secret;
  final Map<String, String> properties = new LinkedHashMap<>();
  final List<BsonDocument> inserted = new ArrayList<>();
  final DemoHistory history = new DemoHistory(11);
  DatastoreProxy proxy;
  ConfigurableApplicationContext app;
  Process process;

  FaultStack(TokenIssuer issuer, Path dir) throws Exception {
    this.issuer = issuer;
    this.dir = dir;
    this.sink = ReferenceSink.start(0, issuer, "events:write");
    this.secret = issuer.writeClientSecret(dir);
    properties.putAll(StackSettings.exporter("fault-cluster", sink, issuer, mongo, secret));
    properties.put("exporter.live.metricsPort", "0");
    properties.put("logging.structured.format.console", "");
    properties.put("exporter.failureHandling.initialBackoff", "20ms");
    properties.put("exporter.failureHandling.maxBackoff", "200ms");
    properties.put("exporter.failureHandling.maxRetries", "6");
    properties.put("exporter.sink.timeout", "1s");
    properties.put("exporter.live.tokenFlushInterval", "200ms");
  }

  /** Puts the datastore behind a proxy that can cut the exporter off. */
  void behindProxy() throws Exception {
    proxy = new DatastoreProxy(mongo);
    properties.put("exporter.datastore.uri", proxy.connectionString());
  }

  void startInProcess() {
    startInProcess(builder -> {});
  }

  void startInProcess(Consumer<SpringApplicationBuilder> customize) {
    SpringApplicationBuilder builder = LiveExporterApplication.application();
    customize.accept(builder);
    app = builder.run(StackSettings.arguments(properties));
  }

  /** Starts the live exporter in a process of its own, so it can be killed. */
  void startProcess(String log) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(LiveExporterApplication.class.getName());
    command.addAll(List.of(StackSettings.arguments(properties)));
    process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(log).toFile()))
            .start();
  }

  boolean checkpointStored() {
    return client.getDatabase("HealthEventsDatabase").getCollection("ResumeTokens").countDocuments()
        > 0;
  }

  int status(String path) throws Exception {
    int port = app.getBean(MetricsPort.class).port();
    return HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  MongoCollection<BsonDocument> events() {
    return client
        .getDatabase("HealthEventsDatabase")
        .getCollection("HealthEvents", BsonDocument.class);
  }

  /** Inserts {@code count} new events, stored now. */
  void insert(int count) {
    List<BsonDocument> docs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      docs.add(history.event(Instant.now()));
    }
    insert(docs);
  }

  void insert(List<BsonDocument> docs) {
    for (int from = 0; from < docs.size(); from += 100) {
      events().insertMany(docs.subList(from, Math.min(docs.size(), from + 100)));
    }
    inserted.addAll(docs);
  }

  Set<String> expectedIds() {
    return inserted.stream().map(Demo::id).collect(Collectors.toSet());
  }

  Set<String> deliveredIds() {
    return sink.distinct().stream().map(ReferenceSink.Received::id).collect(Collectors.toSet());
  }

  List<Document> deadLetters() {
    return client
        .getDatabase("HealthEventsDatabase")
        .getCollection("exporterdeadletters")
        .find()
        .into(new ArrayList<>());
  }

  /** The inserted events that are neither at the sink nor set aside. */
  Set<String> unaccounted() {
    Set<String> left = new HashSet<>(expectedIds());
    left.removeAll(deliveredIds());
    for (Document letter : deadLetters()) {
      Object documentId = letter.get("documentId");
      inserted.stream()
          .filter(doc -> documentIdMatches(doc, documentId))
          .forEach(doc -> left.remove(Demo.id(doc)));
    }
    return left;
  }

  private static boolean documentIdMatches(BsonDocument doc, Object documentId) {
    Object id = doc.get("_id");
    if (documentId == null || id == null) {
      return false;
    }
    BsonDocument wrapped = new BsonDocument("_id", doc.get("_id"));
    Document other = new Document("_id", documentId);
    return wrapped.toJson().equals(other.toJson());
  }

  boolean allAccounted() {
    return unaccounted().isEmpty();
  }

  @Override
  public void close() throws Exception {
    if (process != null) {
      process.destroyForcibly().waitFor();
    }
    if (app != null) {
      app.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    client.close();
    sink.close();
    mongo.close();
  }
}
