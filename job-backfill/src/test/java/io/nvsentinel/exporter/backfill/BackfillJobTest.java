package io.nvsentinel.exporter.backfill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.nvsentinel.exporter.backfill.BackfillStack.Result;
import io.nvsentinel.exporter.backfill.config.BackfillJobProperties;
import io.nvsentinel.exporter.config.ExporterKeys;
import io.nvsentinel.exporter.devstack.OtlpReceiver;
import java.lang.reflect.RecordComponent;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The backfill contract on MongoDB, and what does not depend on the datastore: configuration,
 * command line, tracing and pushed metrics.
 */
class BackfillJobTest extends BackfillContract {

  @Override
  BackfillStore store() {
    return BackfillStore.mongo();
  }

  @Test
  void aTokenEndpointRefusingTheClientFailsTheWindowNamingTheSetting() {
    stack.insertEvents("e", T, 5);
    stack.properties.put("exporter.oidc.clientId", "no-such-client");

    Result failed = stack.backfill("--window-start=" + T, "--window-end=" + T.plusSeconds(60));

    assertThat(failed.exitCode()).isEqualTo(1);
    assertThat(failed.err())
        .contains("cannot obtain an access token")
        .contains("check exporter.oidc.clientId");
    assertThat(stack.sink.accepted()).isEmpty();
  }

  @Test
  void withACollectorEveryBackfilledEventIsTracedInItsOwnDocumentsTrace() {
    String trace = "0af7651916cd43dd8448eb211c80319c";
    BsonDocument traced = BackfillStack.event("traced", T.plusSeconds(1));
    traced
        .getDocument("healthevent")
        .put("metadata", new BsonDocument("trace_id", new BsonString(trace)));
    traced
        .getDocument("healtheventstatus")
        .put("spanids", new BsonDocument("platform-connector", new BsonString("b7ad6b7169203331")));
    stack.insert(List.of(traced, BackfillStack.event("plain", T.plusSeconds(2))));
    try (OtlpReceiver collector = OtlpReceiver.start()) {
      stack.properties.put("OTEL_EXPORTER_OTLP_ENDPOINT", collector.grpcEndpoint());
      stack.properties.put("OTEL_EXPORTER_OTLP_INSECURE", "true");

      Result result = stack.backfill("--window-start=" + T, "--window-end=" + T.plusSeconds(60));

      assertThat(result.exitCode()).as(result.err()).isZero();
      // the job's context flushes its spans as it closes
      List<OtlpReceiver.ReceivedSpan> spans = collector.spans();
      List<OtlpReceiver.ReceivedSpan> events =
          spans.stream().filter(s -> s.name().equals("event_exporter.process_event")).toList();
      assertThat(events)
          .hasSize(2)
          .allMatch(s -> s.service().equals("event-exporter"))
          .allMatch(
              s ->
                  "event-exporter-backfill".equals(s.resource().get("event_exporter.application")));
      assertThat(events)
          .extracting(s -> s.attribute("event_exporter.outcome"))
          .containsOnly("delivered");
      OtlpReceiver.ReceivedSpan first =
          events.stream().filter(s -> s.traceId().equals(trace)).findFirst().orElseThrow();
      assertThat(first.parentSpanId()).isNotEqualTo("b7ad6b7169203331");
      assertThat(first.links()).containsExactly(trace + "-b7ad6b7169203331");
      assertThat(first.attribute("cloudevents.event_id"))
          .isEqualTo(stack.eventId(traced.get("_id")));
      OtlpReceiver.ReceivedSpan attempt =
          spans.stream()
              .filter(s -> s.traceId().equals(trace) && s.name().equals("event_exporter.publish"))
              .findFirst()
              .orElseThrow();
      assertThat(attempt.attribute("http.response.status_code")).isEqualTo("202");
      assertThat(
              stack.sink.distinct().stream()
                  .filter(r -> r.id().equals(first.attribute("cloudevents.event_id")))
                  .findFirst()
                  .orElseThrow()
                  .traceparent())
          .isEqualTo("00-" + trace + "-" + attempt.spanId() + "-01");
    }
  }

  @Test
  void withAPushgatewayTheJobsMetricsArePushedAsItExits() throws Exception {
    List<BsonDocument> docs = stack.insertEvents("e", T, 30);
    List<String> pushes = new CopyOnWriteArrayList<>();
    HttpServer pushgateway = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    pushgateway.createContext(
        "/metrics/job/",
        exchange -> {
          try (exchange) {
            pushes.add(
                exchange.getRequestMethod()
                    + " "
                    + exchange.getRequestURI().getPath()
                    + "\n"
                    + new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            exchange.sendResponseHeaders(200, -1);
          }
        });
    pushgateway.start();
    try {
      stack.properties.put("management.prometheus.metrics.export.pushgateway.enabled", "true");
      stack.properties.put(
          "management.prometheus.metrics.export.pushgateway.address",
          "127.0.0.1:" + pushgateway.getAddress().getPort());
      stack.properties.put("management.prometheus.metrics.export.pushgateway.format", "text");

      Result result = stack.backfill("--window-start=" + T, "--window-end=" + T.plusSeconds(60));

      assertThat(result.exitCode()).as(result.err()).isZero();
      assertThat(pushes).as("pushed once more as the job exits").isNotEmpty();
      String last = pushes.get(pushes.size() - 1);
      assertThat(last)
          .startsWith("PUT /metrics/job/event-exporter-backfill")
          .contains("health_events_exporter_backfill_events_processed_total " + docs.size())
          .contains(
              "health_events_exporter_events_published_total{status=\"success\"} " + docs.size())
          .contains("health_events_exporter_backfill_in_progress 0");
    } finally {
      pushgateway.stop(0);
    }
  }

  @Test
  void everyBackfillSettingIsAKeyTheSharedConfigMapMayCarry() {
    // both applications read one ConfigMap and refuse keys neither knows
    assertThat(ExporterKeys.APPLICATION_KEYS.get("exporter.backfill"))
        .containsExactlyInAnyOrderElementsOf(
            Arrays.stream(BackfillJobProperties.class.getRecordComponents())
                .map(RecordComponent::getName)
                .toList());
  }

  @Test
  void aMistypedKeyStopsTheJobNamingIt() {
    stack.properties.put("exporter.backfill.ratelimit", "5");
    stack.properties.put("exporter.backfill.rateLimitt", "5");
    assertThatThrownBy(() -> stack.backfill("list"))
        .rootCause()
        .hasMessageContaining("exporter.backfill.rateLimitt")
        .hasMessageContaining("did you mean exporter.backfill.rateLimit?")
        .hasMessageNotContaining("exporter.backfill.ratelimit ");
  }

  @Test
  void aConfigurationErrorExitsWithTheStatusAKubernetesJobFailsAtOnceOn() {
    stack.properties.put("exporter.backfill.rateLimitt", "5");
    assertThat(BackfillApplication.run(stack.processArguments("list").toArray(String[]::new)))
        .as("a key no application reads")
        .isEqualTo(BackfillApplication.CONFIGURATION_ERROR)
        .isEqualTo(2);

    stack.properties.remove("exporter.backfill.rateLimitt");
    stack.properties.put("exporter.backfill.batchSize", "0");
    assertThat(BackfillApplication.run(stack.processArguments("list").toArray(String[]::new)))
        .as("a value out of range")
        .isEqualTo(2);

    stack.properties.remove("exporter.backfill.batchSize");
    assertThat(BackfillApplication.run(stack.processArguments("list").toArray(String[]::new)))
        .as("the same job, configured")
        .isZero();
  }

  @Test
  void disabledBackfillExitsAtOnceWithStatusZero() {
    stack.insertEvents("e", T, 3);
    stack.properties.put("exporter.backfill.enabled", "false");
    Result result = stack.backfill();
    assertThat(result.exitCode()).isZero();
    assertThat(result.out()).contains("backfill is disabled (exporter.backfill.enabled=false)");
    assertThat(stack.sink.accepted()).isEmpty();
  }

  @Test
  void progressMetricsUseTheNamesOfTheExporterWeReplaceWithItsMeaning() {
    stack.insertEvents("e", T, 7);
    stack.sink.faults().failNext(1, 400);
    Result result = stack.backfill("--window-start=" + T, "--window-end=" + T.plusSeconds(60));
    assertThat(result.counter("health_events_exporter_backfill_events_processed"))
        .as("delivered, as NVSentinel's backfill counts: the refused one is not")
        .isEqualTo(6);
    assertThat(result.counter("health_events_exporter_backfill_events_read")).isEqualTo(7);
    assertThat(result.meters().get("health_events_exporter_backfill_duration").timer().count())
        .isEqualTo(1);
    assertThat(result.meters().get("health_events_exporter_backfill_in_progress").gauge().value())
        .isZero();
    // Spring Batch observes every item read and processed; those are left out (their cost is in
    // bench/README.md), the chunk's remain
    assertThat(result.meters().find("spring.batch.item.read").meters()).isEmpty();
    assertThat(result.meters().find("spring.batch.item.process").meters()).isEmpty();
    assertThat(result.meters().find("spring.batch.chunk.write").meters()).isNotEmpty();
  }

  @ParameterizedTest(name = "{0}={1} stops start-up")
  @CsvSource({
    "abandonedAfter, 0s, must be at least 1s",
    "progressInterval, 0s, must be a positive duration",
    "stopTimeout, -1s, must not be negative",
    "waitForCutoff, -1s, must not be negative"
  })
  void anUnusableDurationStopsStartUpNamingTheKey(String key, String value, String reason) {
    stack.properties.put("exporter.backfill." + key, value);
    assertThatThrownBy(() -> stack.backfill("list"))
        .hasStackTraceContaining("exporter.backfill")
        .hasStackTraceContaining(key)
        .hasStackTraceContaining(reason);
  }

  @Test
  void aBadArgumentIsAUsageError() {
    Result result = stack.backfill("explode");
    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.err()).contains("usage: backfill");
    Result badInstant = stack.backfill("--window-start=yesterday");
    assertThat(badInstant.exitCode()).isEqualTo(1);
    assertThat(badInstant.err())
        .contains("--window-start must be an ISO-8601 instant")
        .contains("'yesterday'");
  }
}
