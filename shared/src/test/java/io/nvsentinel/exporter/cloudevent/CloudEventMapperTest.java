package io.nvsentinel.exporter.cloudevent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cloudevents.CloudEvent;
import io.cloudevents.SpecVersion;
import io.cloudevents.core.builder.CloudEventBuilder;
import io.cloudevents.core.format.EventFormat;
import io.cloudevents.core.provider.EventFormatProvider;
import io.cloudevents.jackson.JsonFormat;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.config.TestProperties;
import io.nvsentinel.exporter.event.DecodeResult;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import io.nvsentinel.exporter.event.Samples;
import io.nvsentinel.exporter.event.StoredHealthEvent;
import io.nvsentinel.exporter.tracing.TestTracing;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonObjectId;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.bson.json.JsonMode;
import org.bson.json.JsonWriterSettings;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;

class CloudEventMapperTest {

  static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HealthEventDecoder decoder =
      new HealthEventDecoder(65_536, new SimpleMeterRegistry());
  private final CloudEventMapper mapper =
      new CloudEventMapper(
          properties("prod-us-west-2", "HealthEvents"), Clock.fixed(NOW, ZoneOffset.UTC));

  static ExporterProperties properties(String cluster, String collection) {
    return new ExporterProperties(
        Map.of("cluster", cluster, "environment", "production", "region", "us-west-2"),
        new ExporterProperties.Sink(
            "https://sink/api/v1/events",
            Duration.ofSeconds(30),
            false,
            null,
            true,
            false,
            ExporterProperties.Batch.OFF),
        new ExporterProperties.Oidc("https://idp/token", "id", "scope", false, null, "", null),
        new ExporterProperties.Backfill(true, Duration.ofHours(720), 1, 1, 0),
        new ExporterProperties.FailureHandling(1, Duration.ofSeconds(1), Duration.ofSeconds(2), 2),
        new ExporterProperties.ResumeToken(
            "HealthEventsDatabase", "ResumeTokens", "exportergaps", "event-exporter"),
        TestProperties.mongoDatastore(
            "mongodb://localhost", "HealthEventsDatabase", collection, null),
        new ExporterProperties.DeadLetter("HealthEventsDatabase", "dead"),
        new ExporterProperties.Filter(""),
        65_536);
  }

  private StoredHealthEvent decode(BsonDocument document) {
    return ((DecodeResult.Decoded) decoder.decode(document)).event();
  }

  private static JsonNode wire(OutgoingEvent event) throws Exception {
    return JSON.readTree(event.json());
  }

  @Test
  void sampleEventMapsToTheAnchorFormat() throws Exception {
    OutgoingEvent out = mapper.map(decode(Samples.good().get(2)));
    JsonNode ce = wire(out);
    assertThat(ce.get("specversion").asText()).isEqualTo("1.0");
    assertThat(ce.get("type").asText()).isEqualTo("com.nvidia.nvsentinel.health.v1");
    assertThat(ce.get("source").asText()).isEqualTo("nvsentinel://prod-us-west-2/healthevents");
    assertThat(ce.get("time").asText()).isEqualTo("2026-10-10T05:23:32.751Z");
    assertThat(ce.get("id").asText()).isEqualTo(out.id());
    assertThat(UUID.fromString(out.id()).version()).isEqualTo(5);

    JsonNode data = ce.get("data");
    assertThat(data.get("metadata"))
        .isEqualTo(
            JSON.readTree(
                "{\"cluster\":\"prod-us-west-2\",\"environment\":\"production\",\"region\":\"us-west-2\"}"));
    JsonNode he = data.get("healthEvent");
    assertThat(fieldNames(he))
        .as("Go's encoding/json writes a map's keys sorted")
        .containsExactly(
            "agent",
            "checkName",
            "componentClass",
            "entitiesImpacted",
            "errorCode",
            "generatedTimestamp",
            "isFatal",
            "isHealthy",
            "message",
            "metadata",
            "nodeName",
            "processingStrategy",
            "quarantineOverrides",
            "recommendedAction",
            "version");
    assertThat(he.get("version").asInt()).isEqualTo(1);
    assertThat(he.get("agent").asText()).isEqualTo("syslog-health-monitor");
    assertThat(he.get("recommendedAction").asText()).isEqualTo("RESTART_VM");
    assertThat(he.get("processingStrategy").asText()).as("unset").isEqualTo("UNSPECIFIED");
    assertThat(he.get("errorCode")).isEqualTo(JSON.readTree("[\"92\"]"));
    assertThat(he.get("entitiesImpacted").get(1))
        .isEqualTo(JSON.readTree("{\"entityType\":\"PCI\",\"entityValue\":\"0000:20:00.0\"}"));
    assertThat(he.get("generatedTimestamp").asText()).isEqualTo("2026-10-10T05:23:32.751Z");
    assertThat(he.get("nodeName").asText()).isEqualTo("gpu-node-049");
    assertThat(he.get("metadata").get("instanceType").asText()).isEqualTo("p5.48xlarge");
    assertThat(he.get("quarantineOverrides"))
        .isEqualTo(JSON.readTree("{\"force\":false,\"skip\":true}"));
  }

  @Test
  void optionalFieldsAreLeftOutWhenAbsent() throws Exception {
    JsonNode he = wire(mapper.map(decode(Samples.good().get(1)))).get("data").get("healthEvent");
    assertThat(fieldNames(he))
        .doesNotContain(
            "metadata",
            "quarantineOverrides",
            "drainOverrides",
            "customRecommendedAction",
            "gpuUUID");
    JsonNode bare =
        wire(mapper.map(
                decode(
                    BsonDocument.parse(
                        "{_id: 'a', createdAt: {$date: '2026-11-20T12:00:00Z'}, healthevent: {agent: 'a'}}"))))
            .get("data")
            .get("healthEvent");
    assertThat(fieldNames(bare))
        .containsExactly(
            "agent",
            "checkName",
            "componentClass",
            "entitiesImpacted",
            "errorCode",
            "generatedTimestamp",
            "isFatal",
            "isHealthy",
            "message",
            "nodeName",
            "processingStrategy",
            "recommendedAction",
            "version");
    assertThat(bare.get("errorCode").isArray()).isTrue();
    assertThat(bare.get("recommendedAction").asText()).isEqualTo("NONE");
    assertThat(bare.get("processingStrategy").asText()).isEqualTo("UNSPECIFIED");
  }

  @Test
  void serializedBytesParseBackWithTheSdkFormatReader() {
    EventFormat format = EventFormatProvider.getInstance().resolveFormat(JsonFormat.CONTENT_TYPE);
    assertThat(format).isNotNull();
    for (BsonDocument doc : Samples.good()) {
      OutgoingEvent out = mapper.map(decode(doc));
      CloudEvent parsed = format.deserialize(out.json());
      assertThat(parsed.getSpecVersion()).isEqualTo(SpecVersion.V1);
      assertThat(parsed.getId()).isEqualTo(out.id());
      assertThat(parsed.getSource())
          .isEqualTo(URI.create("nvsentinel://prod-us-west-2/healthevents"));
      assertThat(parsed.getType()).isEqualTo(CloudEventMapper.TYPE);
      assertThat(parsed.getTime()).isNotNull();
      assertThat(parsed.getDataContentType()).isEqualTo("application/json");
      assertThat(parsed.getData().toBytes()).isEqualTo(out.event().getData().toBytes());
    }
  }

  @Test
  void idIsTheSameForTheSameStoredEventEveryTime() {
    BsonDocument doc = Samples.good().get(5);
    CloudEventMapper otherInstance =
        new CloudEventMapper(properties("prod-us-west-2", "HealthEvents"), Clock.systemUTC());
    assertThat(mapper.map(decode(doc)).id())
        .isEqualTo(mapper.map(decode(doc.clone())).id())
        .isEqualTo(otherInstance.map(decode(doc)).id());
  }

  @Test
  void idsDifferForDifferentEventsTypesAndCollections() {
    Set<String> ids = new HashSet<>();
    for (BsonDocument doc : Samples.good()) {
      ids.add(mapper.map(decode(doc)).id());
    }
    assertThat(ids).hasSize(40);
    assertThat(EventIds.of("db", "c", new BsonString("1")))
        .isNotEqualTo(EventIds.of("db", "c", new BsonInt32(1)))
        .isNotEqualTo(EventIds.of("db", "other", new BsonString("1")))
        .isNotEqualTo(EventIds.of("other", "c", new BsonString("1")));
  }

  /**
   * The ObjectId and plain-string {@code _id}s are written without the JSON writer, to the
   * character as it writes them: no id changes.
   */
  @Test
  void theDirectlyWrittenIdentityIsWhatTheJsonWriterWrites() {
    JsonWriterSettings canonical =
        JsonWriterSettings.builder().outputMode(JsonMode.EXTENDED).build();
    List<BsonValue> ids = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      ids.add(new BsonObjectId());
      ids.add(new BsonString(UUID.randomUUID().toString()));
    }
    ids.addAll(
        List.of(
            new BsonString(""),
            new BsonString("a\"b"),
            new BsonString("é"),
            new BsonString("tab\t"),
            new BsonString("a/b"),
            new BsonString("node-1.example:8080_x"),
            new BsonInt32(1),
            new BsonInt64(1L << 40)));
    for (BsonValue id : ids) {
      assertThat(EventIds.canonicalJson(id))
          .isEqualTo(new BsonDocument("_id", id).toJson(canonical));
    }
  }

  /**
   * The structured JSON is written byte for byte as the CloudEvents SDK's JSON format writes it.
   */
  @Test
  void theStructuredJsonIsWhatTheSdkWrites() {
    JsonFormat sdk = new JsonFormat();
    for (boolean subject : new boolean[] {true, false}) {
      CloudEventMapper variant =
          new CloudEventMapper(
              withSink(properties("prod", "HealthEvents"), subject, false), Clock.systemUTC());
      for (BsonDocument doc : Samples.good()) {
        OutgoingEvent event = variant.map(decode(doc));
        assertThat(new String(event.json(), StandardCharsets.UTF_8))
            .isEqualTo(new String(sdk.serialize(event.event()), StandardCharsets.UTF_8));
      }
    }
    CloudEvent traced =
        CloudEventBuilder.v1()
            .withId("i\"d")
            .withSource(URI.create("nvsentinel://c/healthevents"))
            .withType("t")
            .withSubject("nöde\n1")
            .withTime(OffsetDateTime.parse("2026-01-02T03:04:05.120Z"))
            .withDataContentType("application/json")
            .withData("{\"x\":[1,\"é\"]}".getBytes(StandardCharsets.UTF_8))
            .withExtension("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
            .withExtension("tracestate", "k=v")
            .build();
    assertThat(
            new String(
                CloudEventMapper.structured(traced, traced.getData().toBytes()),
                StandardCharsets.UTF_8))
        .isEqualTo(new String(sdk.serialize(traced), StandardCharsets.UTF_8));
  }

  @Test
  void idIsAVersion5NameUuid() {
    // RFC 9562 appendix test vector: v5 of "www.example.com" in the DNS namespace
    UUID dns = UUID.fromString("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
    assertThat(EventIds.nameUuid(dns, "www.example.com"))
        .isEqualTo(UUID.fromString("2ed6657d-e927-568b-95e1-2665a8aea6a2"));
  }

  @Test
  void timeComesFromTheDocumentNeverTheClockWhenItHoldsOne() throws Exception {
    var cases = Samples.malformed();
    JsonNode fromCreatedAt = wire(mapper.map(decode(cases.get("generatedTimestamp missing"))));
    assertThat(fromCreatedAt.get("time").asText()).isEqualTo("2026-11-20T12:00:00Z");
    assertThat(fromCreatedAt.get("data").get("healthEvent").get("generatedTimestamp").asText())
        .isEqualTo("2026-11-20T12:00:00Z");

    ObjectId objectId = cases.get("createdAt missing").getObjectId("_id").getValue();
    JsonNode fromObjectId = wire(mapper.map(decode(cases.get("createdAt missing"))));
    assertThat(Instant.parse(fromObjectId.get("time").asText()))
        .isEqualTo(objectId.getDate().toInstant());

    JsonNode nothing =
        wire(mapper.map(decode(BsonDocument.parse("{_id: 'no-time', healthevent: {}}"))));
    assertThat(nothing.get("time").asText()).isEqualTo(NOW.toString());
  }

  /** Go's time.RFC3339Nano: UTC, fractional seconds without trailing zeros, none when whole. */
  @Test
  void timesAreWrittenAsGoWritesThem() throws Exception {
    for (String[] stored :
        new String[][] {
          {"2026-10-06T14:30:28.890Z", "2026-10-06T14:30:28.89Z"},
          {"2026-10-06T14:30:28.000Z", "2026-10-06T14:30:28Z"},
          {"2026-10-06T16:30:28.123+02:00", "2026-10-06T14:30:28.123Z"}
        }) {
      JsonNode ce =
          wire(
              mapper.map(
                  decode(
                      BsonDocument.parse(
                          "{_id: 't', healthevent: {generatedTimestamp: {$date: '"
                              + stored[0]
                              + "'}}}"))));
      assertThat(ce.get("time").asText()).as(stored[0]).isEqualTo(stored[1]);
      assertThat(ce.at("/data/healthEvent/generatedTimestamp").asText()).isEqualTo(stored[1]);
    }
    assertThat(CloudEventMapper.rfc3339Nano(Instant.parse("2026-01-01T00:00:00.000000001Z")))
        .isEqualTo("2026-01-01T00:00:00.000000001Z");
  }

  @Test
  void controlCharactersRoundTripThroughTheWireFormat() throws Exception {
    JsonNode ce =
        wire(
            mapper.map(
                decode(Samples.malformed().get("unicode and control characters in message"))));
    assertThat(ce.get("data").get("healthEvent").get("message").asText())
        .isEqualTo("GPU \u00e9\u4e2d\u0000\u0007 \"quoted\" \\ back");
  }

  @Test
  void everyMalformedCaseThatDecodesAlsoMaps() {
    Samples.malformed()
        .forEach(
            (name, doc) -> {
              if (decoder.decode(doc) instanceof DecodeResult.Decoded decoded) {
                assertThat(mapper.map(decoded.event()).json()).as(name).isNotEmpty();
              }
            });
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  static ExporterProperties withSink(ExporterProperties p, boolean subject, boolean extension) {
    ExporterProperties.Sink sink = p.sink();
    return new ExporterProperties(
        p.metadata(),
        new ExporterProperties.Sink(
            sink.endpoint(),
            sink.timeout(),
            sink.insecureSkipVerify(),
            sink.caFile(),
            subject,
            extension,
            sink.batch()),
        p.oidc(),
        p.backfill(),
        p.failureHandling(),
        p.resumeToken(),
        p.datastore(),
        p.deadLetter(),
        p.filter(),
        p.maxMessageLength());
  }

  @Test
  void theSubjectIsTheNodeUnlessSwitchedOffOrUnknown() throws Exception {
    StoredHealthEvent stored = decode(Samples.good().get(2));
    assertThat(wire(mapper.map(stored)).get("subject").asText()).isEqualTo("gpu-node-049");

    CloudEventMapper without =
        new CloudEventMapper(
            withSink(properties("prod-us-west-2", "HealthEvents"), false, false),
            Clock.fixed(NOW, ZoneOffset.UTC));
    assertThat(wire(without.map(stored)).has("subject")).isFalse();

    BsonDocument nameless = Samples.good().get(2).clone();
    nameless.getDocument("healthevent").remove("nodeName");
    assertThat(wire(mapper.map(decode(nameless))).has("subject"))
        .as("the spec forbids an empty subject")
        .isFalse();
  }

  @Test
  void theTracingExtensionCarriesTheContextOfTheEventsSpanOnlyWhenAskedFor() throws Exception {
    TestTracing test = new TestTracing();
    BsonDocument document = Samples.good().get(2);
    StoredHealthEvent stored = decode(document);
    io.micrometer.tracing.Span span = test.tracing.startEvent(document);
    CloudEventMapper traced =
        new CloudEventMapper(
            withSink(properties("prod-us-west-2", "HealthEvents"), true, true),
            Clock.fixed(NOW, ZoneOffset.UTC),
            test.tracing);

    JsonNode ce = wire(traced.map(stored, span));

    assertThat(ce.get("traceparent").asText())
        .isEqualTo("00-" + span.context().traceId() + "-" + span.context().spanId() + "-01");
    assertThat(wire(mapper.map(stored, span)).has("traceparent")).as("off by default").isFalse();
    assertThat(
            wire(new CloudEventMapper(
                        withSink(properties("prod-us-west-2", "HealthEvents"), true, true),
                        Clock.fixed(NOW, ZoneOffset.UTC))
                    .map(stored))
                .has("traceparent"))
        .as("asked for, but tracing is off")
        .isFalse();
  }
}
