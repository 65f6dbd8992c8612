package io.nvsentinel.exporter.devstack;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * The sink's live page ({@code GET /}), its figures ({@code GET /stats}) and its charting library
 * ({@code GET /assets/…}, from the uPlot webjar on the class path, so the page needs no network).
 * Everything is read once, when the sink starts.
 */
final class SinkPage {

  private static final ObjectMapper JSON = JsonMapper.builder().build();

  private final ReferenceSink sink;
  private final byte[] html;
  private final Map<String, Asset> assets;

  private record Asset(String type, byte[] bytes) {}

  SinkPage(ReferenceSink sink) {
    this.sink = sink;
    ClassLoader loader = SinkPage.class.getClassLoader();
    this.html = read(loader, "io/nvsentinel/exporter/devstack/sink-page.html");
    String uplot = "META-INF/resources/webjars/uplot/" + webjarVersion(loader, "uplot") + "/dist/";
    this.assets =
        Map.of(
            "uPlot.iife.min.js",
            new Asset("text/javascript", read(loader, uplot + "uPlot.iife.min.js")),
            "uPlot.min.css",
            new Asset("text/css", read(loader, uplot + "uPlot.min.css")));
  }

  void register(HttpServer server) {
    server.createContext("/stats", this::stats);
    server.createContext("/assets/", this::asset);
    server.createContext("/", this::page);
  }

  private void page(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!exchange.getRequestURI().getPath().equals("/")) {
        exchange.sendResponseHeaders(404, -1);
        return;
      }
      send(exchange, "text/html", html);
    }
  }

  private void stats(HttpExchange exchange) throws IOException {
    try (exchange) {
      var body = JSON.createObjectNode();
      body.put("accepted", sink.accepted().size());
      body.put("distinct", sink.distinct().size());
      body.put("duplicates", sink.duplicates());
      body.put("refused", sink.refused());
      body.put("ratePerSecond", sink.ratePerSecond());
      ArrivalSeries.Window window = sink.series().window(Instant.now(), 120);
      var chart = body.putObject("series");
      var seconds = chart.putArray("seconds");
      var live = chart.putArray("live");
      var backfill = chart.putArray("backfill");
      for (int i = 0; i < window.seconds().length; i++) {
        seconds.add(window.seconds()[i]);
        live.add(window.live()[i]);
        backfill.add(window.backfill()[i]);
      }
      ArrivalSeries.Latency latency = sink.series().latency();
      body.putObject("latencyMillis")
          .put("count", latency.count())
          .put("p50", latency.p50())
          .put("p90", latency.p90())
          .put("p99", latency.p99());
      var last = body.putArray("last");
      List<ReferenceSink.Received> all = sink.accepted();
      for (int i = all.size() - 1; i >= Math.max(0, all.size() - 20); i--) {
        ReferenceSink.Received r = all.get(i);
        JsonNode he = r.event().path("data").path("healthEvent");
        last.addObject()
            .put("receivedAt", r.at().toString())
            .put("id", r.id())
            .put("nodeName", he.path("nodeName").asString(""))
            .put("checkName", he.path("checkName").asString(""))
            .put("recommendedAction", he.path("recommendedAction").asString(""))
            .put("time", r.event().path("time").asString(""));
      }
      exchange.getResponseHeaders().set("Cache-Control", "no-store");
      send(exchange, "application/json", JSON.writeValueAsBytes(body));
    }
  }

  private void asset(HttpExchange exchange) throws IOException {
    try (exchange) {
      Asset asset = assets.get(exchange.getRequestURI().getPath().substring("/assets/".length()));
      if (asset == null) {
        exchange.sendResponseHeaders(404, -1);
        return;
      }
      exchange.getResponseHeaders().set("Cache-Control", "max-age=3600");
      send(exchange, asset.type(), asset.bytes());
    }
  }

  private static void send(HttpExchange exchange, String type, byte[] bytes) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", type + "; charset=utf-8");
    exchange.sendResponseHeaders(200, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static String webjarVersion(ClassLoader loader, String artifact) {
    Properties pom = new Properties();
    try (InputStream in =
        loader.getResourceAsStream(
            "META-INF/maven/org.webjars.npm/" + artifact + "/pom.properties")) {
      if (in == null) {
        throw new IllegalStateException("the " + artifact + " webjar is not on the class path");
      }
      pom.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return pom.getProperty("version");
  }

  private static byte[] read(ClassLoader loader, String resource) {
    try (InputStream in = loader.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " is not on the class path");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
