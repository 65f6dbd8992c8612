package io.nvsentinel.exporter.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.nvsentinel.exporter.backfill.BackfillApplication;
import io.nvsentinel.exporter.devstack.StackSettings;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import io.nvsentinel.exporter.live.metrics.MetricsPort;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonNull;
import org.bson.BsonObjectId;
import org.bson.BsonString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The chart's Grafana dashboard reads only metrics the applications really expose: the live
 * exporter's {@code /metrics} and what the backfill job would push, both from running applications.
 */
class DashboardTest {

  static final Path DASHBOARD =
      Path.of("..", "helm", "event-exporter", "dashboards", "event-exporter.json");
  static final Pattern METRIC =
      Pattern.compile("\\b((?:health_events_exporter|change_stream)_[a-z_]+)");

  @TempDir Path dir;

  /** Every metric name a panel's query reads, histogram suffixes included. */
  static Set<String> queried() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(Files.readString(DASHBOARD));
    Set<String> names = new TreeSet<>();
    for (JsonNode panel : dashboard.path("panels")) {
      for (JsonNode target : panel.path("targets")) {
        Matcher m = METRIC.matcher(target.path("expr").asText());
        while (m.find()) {
          names.add(m.group(1));
        }
      }
    }
    return names;
  }

  /** The metric names of Prometheus text output. */
  static Set<String> exposed(String text) {
    Set<String> names = new TreeSet<>();
    text.lines()
        .filter(l -> !l.startsWith("#") && !l.isBlank())
        .map(l -> l.split("[{ ]", 2)[0])
        .forEach(names::add);
    return names;
  }

  @Test
  void everyPanelQueriesAMetricTheRunningApplicationsExpose() throws Exception {
    TokenIssuer issuer = TokenIssuer.start(TokenIssuer.Settings.defaults());
    try (FaultStack stack = new FaultStack(issuer, dir)) {
      // as with two or more replicas, so that the leader's meters are exposed too
      stack.properties.put("exporter.live.lease.enabled", "true");
      stack.startInProcess();
      await().atMost(Duration.ofSeconds(30)).until(stack::checkpointStored);
      // a failed attempt, an undecodable document and a repaired one, so that the meters made on
      // first use (by error type, dead-letter kind, repaired field) exist too
      stack.sink.faults().failNext(1, 503);
      stack.insert(20);
      stack.insert(
          List.of(
              new BsonDocument("_id", new BsonObjectId()).append("healthevent", BsonNull.VALUE),
              new BsonDocument("_id", new BsonObjectId())
                  .append("createdAt", new BsonDateTime(System.currentTimeMillis()))
                  .append(
                      "healthevent",
                      new BsonDocument("nodeName", new BsonString("gpu-node-1"))
                          .append("errorCode", new BsonString("79")))));
      await().atMost(Duration.ofSeconds(30)).until(stack::allAccounted);
      int port = stack.app.getBean(MetricsPort.class).port();
      String live =
          FaultStack.HTTP
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();

      Map<String, String> properties = new LinkedHashMap<>(stack.properties);
      properties.put("exporter.backfill.jobRepositoryPath", dir.resolve("jobs").toString());
      properties.put("exporter.backfill.rateLimit", "0");
      List<String> args = new ArrayList<>(List.of("run"));
      args.add("--window-start=" + Instant.now().minus(Duration.ofDays(1)));
      args.add("--window-end=" + Instant.now());
      args.addAll(List.of(StackSettings.arguments(properties)));
      ConfigurableApplicationContext backfill =
          BackfillApplication.application().run(args.toArray(String[]::new));
      String pushed = backfill.getBean(PrometheusMeterRegistry.class).scrape();
      assertThat(SpringApplication.exit(backfill)).isZero();

      Set<String> exposed = exposed(live);
      exposed.addAll(exposed(pushed));
      Set<String> queried = queried();
      assertThat(queried)
          .as("the panels the operators need")
          .contains(
              "health_events_exporter_events_published_total",
              "health_events_exporter_publish_duration_seconds_bucket",
              "health_events_exporter_sink_request_duration_seconds_bucket",
              "change_stream_lag_seconds",
              "health_events_exporter_export_lag_seconds",
              "health_events_exporter_events_in_flight",
              "health_events_exporter_dead_letters_total",
              "health_events_exporter_gap_windows_pending",
              "health_events_exporter_backfill_events_processed_total",
              "health_events_exporter_leader",
              "health_events_exporter_lease_acquisitions_total");
      assertThat(exposed).as("what the applications expose").containsAll(queried);
    } finally {
      issuer.close();
    }
  }
}
