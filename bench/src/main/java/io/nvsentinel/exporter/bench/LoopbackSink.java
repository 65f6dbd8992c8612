package io.nvsentinel.exporter.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The cheapest sink that still reads every body: answers 202 at once. It takes single events and
 * the JSON batch format, counting each event of a batch. It also serves a static token, so both
 * clients under test pay the same for the server side.
 */
final class LoopbackSink implements AutoCloseable {

  private static final byte[] TOKEN =
      "{\"access_token\":\"bench\",\"token_type\":\"Bearer\",\"expires_in\":3600}"
          .getBytes(StandardCharsets.UTF_8);

  private final HttpServer server;
  private final ExecutorService executor = Executors.newFixedThreadPool(128);
  final AtomicLong received = new AtomicLong();
  final AtomicLong requests = new AtomicLong();

  /** Called with each event's CloudEvent id as it arrives; for latency measurements. */
  volatile Consumer<String> onEvent = id -> {};

  private final long answerAfterMillis;

  LoopbackSink() throws IOException {
    this(Duration.ZERO);
  }

  /** A sink that takes {@code answerAfter} to answer each event, as a slow receiver does. */
  LoopbackSink(Duration answerAfter) throws IOException {
    answerAfterMillis = answerAfter.toMillis();
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
    server.createContext("/api/v1/events", this::event);
    server.createContext("/oauth2/token", this::token);
    server.setExecutor(executor);
    server.start();
  }

  String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/api/v1/events";
  }

  String tokenUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/oauth2/token";
  }

  private void event(HttpExchange exchange) throws IOException {
    try (exchange;
        InputStream in = exchange.getRequestBody()) {
      byte[] body = in.readAllBytes();
      if (answerAfterMillis > 0) {
        sleep(answerAfterMillis);
      }
      if ("application/cloudevents-batch+json"
          .equals(exchange.getRequestHeaders().getFirst("Content-Type"))) {
        requests.incrementAndGet();
        String json = new String(body, StandardCharsets.UTF_8);
        for (int at = json.indexOf("\"specversion\""); at >= 0; ) {
          received.incrementAndGet();
          onEvent.accept(idAfter(json, at));
          at = json.indexOf("\"specversion\"", at + 1);
        }
      } else {
        requests.incrementAndGet();
        received.incrementAndGet();
        onEvent.accept(idAfter(new String(body, StandardCharsets.UTF_8), 0));
      }
      exchange.sendResponseHeaders(202, -1);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The first {@code id} attribute at or after {@code from}. */
  private static String idAfter(String json, int from) {
    int at = json.indexOf("\"id\":\"", from);
    return at < 0 ? "" : json.substring(at + 6, json.indexOf('"', at + 6));
  }

  private void token(HttpExchange exchange) throws IOException {
    try (exchange;
        InputStream in = exchange.getRequestBody()) {
      in.readAllBytes();
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, TOKEN.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(TOKEN);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
