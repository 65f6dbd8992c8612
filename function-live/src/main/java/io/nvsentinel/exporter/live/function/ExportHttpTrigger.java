package io.nvsentinel.exporter.live.function;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.store.ChangeEvent;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.bson.BsonDocument;
import org.bson.BsonInvalidOperationException;
import org.bson.BsonValue;
import org.bson.json.JsonParseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * {@code POST /export} on its own port ({@code exporter.live.httpTriggerPort}), for platform
 * triggers: "export the stored event with this {@code _id} now". Off unless {@code
 * exporter.live.httpTrigger=true}.
 *
 * <ul>
 *   <li><b>Authenticated</b>: every request carries {@code Authorization: Bearer <token>}, the
 *       token being the content of {@code exporter.live.httpTriggerTokenFile} (read per request, so
 *       a rotated secret applies at once); 401 otherwise.
 *   <li><b>Nothing forged</b>: the body (a change event or a document, MongoDB Extended JSON) only
 *       names the {@code _id} (on PostgreSQL, the {@code health_events} row id as a string); the
 *       document exported is the one stored in the datastore, so the caller can neither choose a
 *       CloudEvent id nor its content. No {@code _id}: 422; none stored under it: 404.
 *   <li><b>Bounded</b>: 202 at once with the event id; the export runs on {@code live.workers}
 *       threads with at most {@code live.maxInFlight} waiting, and 503 with {@code Retry-After}
 *       when they are full. Its outcome shows in the metrics, the dead letters and the log.
 * </ul>
 */
public final class ExportHttpTrigger implements SmartLifecycle {

  /** The health events as stored: the document with an {@code _id}, or {@code null}. */
  @FunctionalInterface
  public interface StoredEvents {
    BsonDocument find(BsonValue id);
  }

  private static final Logger log = LoggerFactory.getLogger(ExportHttpTrigger.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Function<ChangeEvent, ExportResult> export;
  private final StoredEvents events;
  private final ExporterProperties.Datastore datastore;
  private final Path tokenFile;
  private final int port;
  private final ThreadPoolExecutor exports;
  private HttpServer server;
  private ExecutorService handlers;

  public ExportHttpTrigger(
      Function<ChangeEvent, ExportResult> export,
      StoredEvents events,
      ExporterProperties.Datastore datastore,
      Path tokenFile,
      int port,
      int workers,
      int queue) {
    if (tokenFile == null || !Files.isReadable(tokenFile)) {
      throw new IllegalStateException(
          "exporter.live.httpTriggerTokenFile must name a readable file holding the token callers"
              + " of POST /export present as 'Authorization: Bearer <token>', got '"
              + tokenFile
              + "'; mount a Kubernetes secret there, or set exporter.live.httpTrigger=false");
    }
    this.export = export;
    this.events = events;
    this.datastore = datastore;
    this.tokenFile = tokenFile;
    this.port = port;
    this.exports =
        new ThreadPoolExecutor(
            workers,
            workers,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(queue),
            daemon("http-trigger-export"),
            new ThreadPoolExecutor.AbortPolicy());
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!"POST".equals(exchange.getRequestMethod())) {
        answer(exchange, 405, Map.of("error", "POST only"));
        return;
      }
      if (!authorized(exchange.getRequestHeaders().getFirst("Authorization"))) {
        exchange.getResponseHeaders().add("WWW-Authenticate", "Bearer");
        answer(exchange, 401, Map.of("error", "a valid bearer token is required"));
        return;
      }
      BsonDocument body;
      try (InputStream in = exchange.getRequestBody()) {
        body = BsonDocument.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      } catch (JsonParseException | BsonInvalidOperationException e) {
        answer(
            exchange,
            400,
            Map.of("error", "the body is not a MongoDB Extended JSON document: " + e.getMessage()));
        return;
      }
      BsonDocument named =
          body.isDocument("fullDocument") ? body.getDocument("fullDocument") : body;
      BsonValue id = named.get("_id");
      if (id == null) {
        answer(exchange, 422, Map.of("error", "the document has no _id"));
        return;
      }
      BsonDocument stored = events.find(id);
      if (stored == null) {
        answer(exchange, 404, Map.of("error", "no stored health event has this _id"));
        return;
      }
      String eventId = EventIds.of(datastore.eventDatabase(), datastore.eventCollection(), id);
      try {
        exports.execute(() -> exportQuietly(stored, eventId));
      } catch (RejectedExecutionException full) {
        exchange.getResponseHeaders().add("Retry-After", "1");
        answer(exchange, 503, Map.of("error", "too many exports in progress; try again"));
        return;
      }
      Map<String, Object> accepted = new LinkedHashMap<>();
      accepted.put("eventId", eventId);
      accepted.put("documentId", ExportFunctions.idText(id));
      accepted.put("status", "accepted");
      answer(exchange, 202, accepted);
    }
  }

  private void exportQuietly(BsonDocument stored, String eventId) {
    try {
      ExportResult result = export.apply(ChangeEvent.of(stored));
      log.info("event {} exported on request: {}", eventId, result.outcome());
    } catch (RuntimeException e) {
      log.error("event {} requested through POST /export could not be exported: {}", eventId, e);
    }
  }

  private boolean authorized(String header) {
    if (header == null || !header.startsWith("Bearer ")) {
      return false;
    }
    byte[] expected;
    try {
      expected =
          Files.readString(tokenFile, StandardCharsets.UTF_8)
              .strip()
              .getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      log.error("cannot read exporter.live.httpTriggerTokenFile '{}': {}", tokenFile, e.toString());
      return false;
    }
    byte[] presented =
        header.substring("Bearer ".length()).strip().getBytes(StandardCharsets.UTF_8);
    return expected.length > 0 && MessageDigest.isEqual(expected, presented);
  }

  private static void answer(HttpExchange exchange, int status, Map<String, ?> body)
      throws IOException {
    byte[] json = JSON.writeValueAsBytes(body);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, json.length);
    exchange.getResponseBody().write(json);
  }

  private static ThreadFactory daemon(String name) {
    return runnable -> {
      Thread thread = new Thread(runnable, name);
      thread.setDaemon(true);
      return thread;
    };
  }

  /** The port it listens on; the configured one, or the one picked for port 0. */
  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public synchronized void start() {
    try {
      server = HttpServer.create(new InetSocketAddress(port), 64);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot listen on exporter.live.httpTriggerPort " + port + ": " + e.getMessage(), e);
    }
    server.createContext("/export", this::handle);
    handlers = Executors.newFixedThreadPool(2, daemon("http-trigger"));
    server.setExecutor(handlers);
    server.start();
    log.info("POST /export listens on port {} (bearer token required)", port());
  }

  @Override
  public synchronized void stop() {
    if (server != null) {
      server.stop(1);
      server = null;
      handlers.shutdownNow();
    }
    exports.shutdownNow();
  }

  @Override
  public boolean isRunning() {
    return server != null;
  }
}
