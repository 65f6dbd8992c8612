package io.nvsentinel.exporter.live.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.LivenessState;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.SmartLifecycle;

/**
 * The live exporter's only HTTP port besides the optional trigger: {@code GET /metrics} (Prometheus
 * text) and {@code GET /healthz} (liveness) where NVSentinel's umbrella chart looks for a component
 * ({@code global.metricsPort}, 2112: what its PodMonitor scrapes and its NetworkPolicy admits), and
 * the probes {@code /readyz} (the stream is open and the sink takes events) and {@code /livez} (the
 * same as {@code /healthz}). The live pod runs no web server.
 */
public final class MetricsPort implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(MetricsPort.class);
  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final PrometheusMeterRegistry registry;
  private final ApplicationAvailability availability;
  private final int requestedPort;
  private HttpServer server;
  private ExecutorService handlers;

  public MetricsPort(
      PrometheusMeterRegistry registry, ApplicationAvailability availability, int port) {
    this.registry = registry;
    this.availability = availability;
    this.requestedPort = port;
  }

  private void metrics(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!exchange.getRequestURI().getPath().equals("/metrics")) {
        exchange.sendResponseHeaders(404, -1);
        return;
      }
      answer(exchange, 200, PROMETHEUS_TEXT, registry.scrape());
    }
  }

  private void healthz(HttpExchange exchange) throws IOException {
    probe(exchange, availability.getLivenessState() == LivenessState.CORRECT, "broken");
  }

  private void readyz(HttpExchange exchange) throws IOException {
    probe(
        exchange,
        availability.getReadinessState() == ReadinessState.ACCEPTING_TRAFFIC,
        "not ready");
  }

  private static void probe(HttpExchange exchange, boolean up, String down) throws IOException {
    try (exchange) {
      answer(exchange, up ? 200 : 503, "text/plain; charset=utf-8", up ? "ok\n" : down + "\n");
    }
  }

  private static void answer(HttpExchange exchange, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    if ("HEAD".equals(exchange.getRequestMethod())) {
      exchange.sendResponseHeaders(status, -1);
      return;
    }
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** The port it listens on (the requested one, or the one chosen for port 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public synchronized void start() {
    try {
      server = HttpServer.create(new InetSocketAddress(requestedPort), 16);
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot listen on exporter.live.metricsPort "
              + requestedPort
              + " ("
              + e.getMessage()
              + "); choose a free port (the umbrella chart passes global.metricsPort)",
          e);
    }
    handlers =
        Executors.newFixedThreadPool(
            2,
            runnable -> {
              Thread thread = new Thread(runnable, "metrics-port");
              thread.setDaemon(true);
              return thread;
            });
    server.setExecutor(handlers);
    server.createContext("/metrics", this::metrics);
    server.createContext("/healthz", this::healthz);
    server.createContext("/livez", this::healthz);
    server.createContext("/readyz", this::readyz);
    server.start();
    log.info("/metrics, /healthz, /livez and /readyz listen on port {}", port());
  }

  @Override
  public synchronized void stop() {
    if (server != null) {
      server.stop(0);
      handlers.shutdownNow();
      server = null;
    }
  }

  /** Up before the stream starts and until it has stopped, so the probes see both. */
  @Override
  public int getPhase() {
    return Integer.MAX_VALUE - 2048;
  }

  @Override
  public synchronized boolean isRunning() {
    return server != null;
  }
}
