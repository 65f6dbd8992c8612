package io.nvsentinel.exporter.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

class ReferenceSinkTest {

  static TokenIssuer issuer;
  static ReferenceSink sink;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    issuer = TokenIssuer.start(TokenIssuer.Settings.defaults());
    sink = ReferenceSink.start(0, issuer, "events:write");
  }

  @AfterAll
  static void stop() {
    sink.close();
    issuer.close();
  }

  static String token(String scope) throws Exception {
    TokenIssuer.Settings s = issuer.settings();
    String basic =
        Base64.getEncoder()
            .encodeToString(
                (s.clientId() + ":" + s.clientSecret()).getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create(issuer.tokenUrl()))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "grant_type=client_credentials&scope=" + scope))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return JsonMapper.builder().build().readTree(response.body()).get("access_token").asString();
  }

  static int post(String authorization, String contentType, String body) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(sink.endpoint()))
            .timeout(Duration.ofSeconds(5))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  static String event(String id) {
    return event(id, "\"recommendedAction\":\"RESTART_VM\",\"processingStrategy\":\"STORE_ONLY\"");
  }

  /** An event of NVSentinel's shape with {@code enums} as the enum fields of its health event. */
  static String event(String id, String enums) {
    return "{\"specversion\":\"1.0\",\"id\":\""
        + id
        + "\",\"source\":\"nvsentinel://c/healthevents\","
        + "\"type\":\"com.nvidia.nvsentinel.health.v1\",\"time\":\"2026-01-01T00:00:00Z\","
        + "\"data\":{\"metadata\":{\"cluster\":\"c\"},\"healthEvent\":{\"checkName\":\"GpuXidError\","
        + "\"nodeName\":\"n\",\"message\":\"m\",\"errorCode\":[\"79\"],"
        + enums
        + "}}}";
  }

  @Test
  void refusesWhatNVSentinelsEndToEndTestWouldRejectNamingTheRule() throws Exception {
    String bearer = "Bearer " + token("events:write");
    assertThat(post(bearer, ReferenceSink.CONTENT_TYPE, event("shape-ok"))).isEqualTo(202);
    assertThat(
            NVSentinelShape.violation(
                JsonMapper.builder()
                    .build()
                    .readTree(
                        event(
                            "x",
                            "\"recommendedAction\":15,\"processingStrategy\":\"STORE_ONLY\""))))
        .contains("data.healthEvent.recommendedAction is not a string");
    assertThat(
            NVSentinelShape.violation(
                JsonMapper.builder()
                    .build()
                    .readTree(event("x", "\"recommendedAction\":\"NONE\""))))
        .contains("data.healthEvent.processingStrategy is not a string");
    assertThat(
            post(
                bearer,
                ReferenceSink.CONTENT_TYPE,
                event(
                    "shape-number",
                    "\"recommendedAction\":15,\"processingStrategy\":\"STORE_ONLY\"")))
        .isEqualTo(400);
    assertThat(sink.deliveriesOf("nvsentinel://c/healthevents", "shape-number")).isZero();
  }

  @Test
  void acceptsAValidEventWithARealTokenAndCountsDuplicates() throws Exception {
    String bearer = "Bearer " + token("events:write");
    assertThat(post(bearer, ReferenceSink.CONTENT_TYPE, event("dup-1"))).isEqualTo(202);
    assertThat(post(bearer, ReferenceSink.CONTENT_TYPE, event("dup-1"))).isEqualTo(202);
    assertThat(sink.deliveriesOf("nvsentinel://c/healthevents", "dup-1")).isEqualTo(2);
    assertThat(sink.duplicates()).isGreaterThanOrEqualTo(1);
    assertThat(sink.distinct()).extracting(ReferenceSink.Received::id).contains("dup-1");
  }

  @Test
  void refusesWhatTheOperatorDocumentationSaysASinkMustRefuse() throws Exception {
    String bearer = "Bearer " + token("events:write");
    assertThat(post(null, ReferenceSink.CONTENT_TYPE, event("a"))).isEqualTo(401);
    assertThat(post("Bearer not-a-jwt", ReferenceSink.CONTENT_TYPE, event("a"))).isEqualTo(401);
    String forged = bearer.substring(0, bearer.length() - 4) + "AAAA";
    assertThat(post(forged, ReferenceSink.CONTENT_TYPE, event("a"))).isEqualTo(401);
    assertThat(post(bearer, "application/cloudevents+json; charset=utf-8", event("a")))
        .isEqualTo(415);
    assertThat(post(bearer, "application/json", event("a"))).isEqualTo(415);
    assertThat(post(bearer, ReferenceSink.CONTENT_TYPE, event("a").replace("1.0", "0.3")))
        .isEqualTo(400);
    assertThat(sink.deliveriesOf("nvsentinel://c/healthevents", "a")).isZero();
  }

  @Test
  void canBeToldToFail() throws Exception {
    String bearer = "Bearer " + token("events:write");
    sink.faults().failNext(2, 503);
    assertThat(post(bearer, ReferenceSink.CONTENT_TYPE, event("f"))).isEqualTo(503);
    assertThat(post(bearer, ReferenceSink.CONTENT_TYPE, event("f"))).isEqualTo(503);
    assertThat(post(bearer, ReferenceSink.CONTENT_TYPE, event("f"))).isEqualTo(202);
  }

  @Test
  void theLivePageGetsItsChartLibraryAndSeriesFromTheSinkItself() throws Exception {
    String bearer = "Bearer " + token("events:write");
    String timed =
        event("charted").replace("\"data\"", "\"time\":\"" + Instant.now() + "\",\"data\"");
    assertThat(post(bearer, ReferenceSink.CONTENT_TYPE, timed)).isEqualTo(202);

    HttpResponse<String> page = get("/");
    HttpResponse<String> library = get("/assets/uPlot.iife.min.js");
    HttpResponse<String> style = get("/assets/uPlot.min.css");
    assertThat(page.body()).contains("assets/uPlot.iife.min.js").contains("id=\"chart\"");
    assertThat(library.statusCode()).isEqualTo(200);
    assertThat(library.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("text/javascript"));
    assertThat(library.body()).contains("uPlot");
    assertThat(style.statusCode()).isEqualTo(200);
    assertThat(get("/assets/../sink-page.html").statusCode()).isEqualTo(404);
    assertThat(get("/assets/other.js").statusCode()).isEqualTo(404);

    var stats = JsonMapper.builder().build().readTree(get("/stats").body());
    assertThat(stats.path("series").path("seconds").size()).isEqualTo(120);
    assertThat(stats.path("series").path("live").size()).isEqualTo(120);
    assertThat(stats.path("series").path("backfill").size()).isEqualTo(120);
    assertThat(stats.path("latencyMillis").path("count").asInt()).isGreaterThanOrEqualTo(1);
  }

  static HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(sink.pageUrl().replaceAll("/$", "") + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
