package io.nvsentinel.exporter.devstack;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtException;
import org.springframework.security.oauth2.jwt.JwtValidators;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * An event sink that behaves as the operator documentation requires of one, and checks more
 * strictly than most: the bearer token's signature (via the issuer's JWKS), issuer, expiry and
 * scope; the exact {@code Content-Type}; the CloudEvents {@code specversion}; the event as
 * NVSentinel's own end-to-end test checks it ({@link NVSentinelShape}), refused with a 400 naming
 * what is wrong. It also takes the CloudEvents JSON batch format ({@value #BATCH_CONTENT_TYPE}),
 * all of a batch or none of it. It keeps what it accepted, recognises duplicates by {@code
 * source}+{@code id}, and can be told to fail ({@link #faults()}).
 */
public final class ReferenceSink implements AutoCloseable {

  public static final String PATH = "/api/v1/events";
  static final int STALL_SECONDS = 20;
  public static final String CONTENT_TYPE = "application/cloudevents+json";
  public static final String BATCH_CONTENT_TYPE = "application/cloudevents-batch+json";

  /**
   * One accepted event.
   *
   * @param traceparent the W3C trace-context header it came with; {@code null} without one
   */
  public record Received(
      String source, String id, JsonNode event, Instant at, String traceparent) {}

  private static final ObjectMapper JSON = JsonMapper.builder().build();

  private final HttpServer server;
  private final ExecutorService executor;
  private final JwtDecoder jwtDecoder;
  private final String requiredScope;
  private final Map<String, Received> bySourceAndId = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> deliveriesBySourceAndId = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<Received> accepted = new ConcurrentLinkedQueue<>();
  private final ArrivalSeries series = new ArrivalSeries();
  private final Map<Integer, AtomicInteger> answered = new ConcurrentHashMap<>();
  private final AtomicLong duplicates = new AtomicLong();
  private final AtomicLong requests = new AtomicLong();
  private final CountDownLatch closed = new CountDownLatch(1);
  private final SinkFaults faults = new SinkFaults();

  private ReferenceSink(
      HttpServer server, ExecutorService executor, JwtDecoder decoder, String scope) {
    this.server = server;
    this.executor = executor;
    this.jwtDecoder = decoder;
    this.requiredScope = scope;
  }

  /**
   * Starts on {@code port} of the loopback address (0 picks a free one), trusting tokens signed by
   * {@code issuer} that carry {@code requiredScope}.
   */
  public static ReferenceSink start(int port, TokenIssuer issuer, String requiredScope)
      throws IOException {
    NimbusJwtDecoder decoder = NimbusJwtDecoder.withJwkSetUri(issuer.jwksUrl()).build();
    String issuerId = issuer.tokenUrl().replace("/oauth2/token", "");
    decoder.setJwtValidator(
        new DelegatingOAuth2TokenValidator<>(JwtValidators.createDefaultWithIssuer(issuerId)));
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 512);
    ExecutorService executor = Executors.newFixedThreadPool(64);
    ReferenceSink sink = new ReferenceSink(server, executor, decoder, requiredScope);
    server.createContext(PATH, sink::handle);
    server.createContext("/faults", sink::faults);
    new SinkPage(sink).register(server);
    server.setExecutor(executor);
    server.start();
    return sink;
  }

  /** The live page. */
  public String pageUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/";
  }

  /** The URL to configure as {@code exporter.sink.endpoint}. */
  public String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + PATH;
  }

  /** How it misbehaves, when told to. */
  public SinkFaults faults() {
    return faults;
  }

  /** Every accepted event, in order of arrival, duplicates included. */
  public List<Received> accepted() {
    return new ArrayList<>(accepted);
  }

  /** The distinct events accepted, one per source and id. */
  public Collection<Received> distinct() {
    return List.copyOf(bySourceAndId.values());
  }

  /** How many times the event with this id was accepted. */
  public int deliveriesOf(String source, String id) {
    AtomicInteger count = deliveriesBySourceAndId.get(source + " " + id);
    return count == null ? 0 : count.get();
  }

  /** Requests accepted: one per event, or one per batch. */
  public long acceptedRequests() {
    return requests.get();
  }

  /** Accepted events whose source and id had been accepted before. */
  public long duplicates() {
    return duplicates.get();
  }

  /**
   * How many requests were answered with {@code status}; 0 counts connections reset, 1 answers
   * stalled after their headers.
   */
  public int answered(int status) {
    AtomicInteger count = answered.get(status);
    return count == null ? 0 : count.get();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readAllBytes();
      }
      JsonNode parsed;
      try {
        parsed = JSON.readTree(body);
      } catch (RuntimeException e) {
        parsed = null;
      }
      double dice = ThreadLocalRandom.current().nextDouble();
      if (parsed != null && faults.reset(dice)) {
        answered.computeIfAbsent(0, s -> new AtomicInteger()).incrementAndGet();
        return; // closing the exchange unanswered resets the connection
      }
      if (parsed != null && faults.stall(dice)) {
        answered.computeIfAbsent(1, s -> new AtomicInteger()).incrementAndGet();
        exchange.sendResponseHeaders(202, 64);
        try {
          // long past any client's timeout; bounded so stalled answers free their thread
          closed.await(STALL_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return;
      }
      Duration wait = faults.delayFor(parsed != null && parsed.isArray() ? parsed.path(0) : parsed);
      if (!wait.isZero()) {
        try {
          Thread.sleep(wait.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      respond(exchange, decide(exchange, parsed));
    }
  }

  private record Answer(int status, String body) {}

  /**
   * @param event the request body parsed as JSON, {@code null} when it is not JSON
   */
  private Answer decide(HttpExchange exchange, JsonNode event) {
    if (!exchange.getRequestMethod().equals("POST")) {
      return new Answer(405, "{\"error\":\"Method Not Allowed\"}");
    }
    String authorization = exchange.getRequestHeaders().getFirst("Authorization");
    if (authorization == null || !authorization.startsWith("Bearer ")) {
      return new Answer(401, "{\"error\":\"Unauthorized\"}");
    }
    try {
      Jwt jwt = jwtDecoder.decode(authorization.substring("Bearer ".length()));
      List<String> scopes = jwt.getClaimAsStringList("scope");
      if (scopes == null || !scopes.contains(requiredScope)) {
        return new Answer(403, "{\"error\":\"insufficient_scope\"}");
      }
    } catch (JwtException e) {
      return new Answer(401, "{\"error\":\"invalid_token\"}");
    }
    String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
    boolean batch = BATCH_CONTENT_TYPE.equals(contentType);
    if (batch && faults.batchesRefusedWith() > 0) {
      return new Answer(faults.batchesRefusedWith(), "{\"error\":\"one event per request\"}");
    }
    if (!CONTENT_TYPE.equals(contentType) && !batch) {
      return new Answer(415, "{\"error\":\"Unsupported Media Type\"}");
    }
    if (event == null || (batch && !event.isArray())) {
      return new Answer(400, "{\"error\":\"not JSON" + (batch ? " array" : "") + "\"}");
    }
    List<JsonNode> events = new ArrayList<>();
    if (batch) {
      event.forEach(events::add);
    } else {
      events.add(event);
    }
    for (JsonNode one : events) {
      Answer refused = check(one);
      if (refused != null) {
        return refused;
      }
    }
    for (JsonNode one : events) {
      SinkFaults.Scripted failure = faults.failure(one);
      if (failure != null) {
        if (failure.retryAfterSeconds() >= 0) {
          exchange
              .getResponseHeaders()
              .set("Retry-After", String.valueOf(failure.retryAfterSeconds()));
        }
        return new Answer(failure.status(), "{\"error\":\"" + failure.reason() + "\"}");
      }
    }
    String traceparent = exchange.getRequestHeaders().getFirst("traceparent");
    events.forEach(one -> accept(one, traceparent));
    requests.incrementAndGet();
    return new Answer(202, "{\"status\":\"accepted\"}");
  }

  /** Why the sink refuses {@code event} (a 400 naming it); {@code null} when it is valid. */
  private static Answer check(JsonNode event) {
    if (!"1.0".equals(event.path("specversion").asString(""))) {
      return new Answer(400, "{\"error\":\"Unsupported CloudEvents version\"}");
    }
    String unlike = NVSentinelShape.violation(event).orElse(null);
    if (unlike != null) {
      return new Answer(400, JSON.writeValueAsString(Map.of("error", unlike)));
    }
    return null;
  }

  private void accept(JsonNode event, String traceparent) {
    String source = event.path("source").asString("");
    String id = event.path("id").asString("");
    String key = source + " " + id;
    Received received = new Received(source, id, event, Instant.now(), traceparent);
    if (deliveriesBySourceAndId.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet()
        > 1) {
      duplicates.incrementAndGet();
    } else {
      bySourceAndId.put(key, received);
    }
    accepted.add(received);
    series.arrived(received.at(), eventTime(event));
  }

  private static Instant eventTime(JsonNode event) {
    try {
      return Instant.parse(event.path("time").asString(""));
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /** Per-second arrivals (live vs backfill) and live latency, as the live page draws them. */
  public ArrivalSeries series() {
    return series;
  }

  /** Accepted events per second over the last five whole seconds. */
  public double ratePerSecond() {
    ArrivalSeries.Window last = series.window(Instant.now(), 5);
    return (Arrays.stream(last.live()).sum() + Arrays.stream(last.backfill()).sum()) / 5.0;
  }

  /** How many requests were refused, whatever the status. */
  public int refused() {
    return answered.entrySet().stream()
        .filter(e -> e.getKey() >= 400)
        .mapToInt(e -> e.getValue().get())
        .sum();
  }

  /** {@code POST /faults?failShare=0.3&delayMs=50}: make the sink misbehave, for demos. */
  private void faults(HttpExchange exchange) throws IOException {
    try (exchange) {
      faults.apply(exchange.getRequestURI().getQuery());
      exchange.sendResponseHeaders(204, -1);
    }
  }

  private void respond(HttpExchange exchange, Answer answer) throws IOException {
    answered.computeIfAbsent(answer.status(), s -> new AtomicInteger()).incrementAndGet();
    byte[] bytes = answer.body().getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(answer.status(), bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    closed.countDown();
    server.stop(0);
    executor.shutdownNow();
  }
}
