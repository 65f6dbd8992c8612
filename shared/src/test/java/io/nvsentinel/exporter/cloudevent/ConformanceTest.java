package io.nvsentinel.exporter.cloudevent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nvsentinel.exporter.config.TestProperties;
import io.nvsentinel.exporter.devstack.NVSentinelShape;
import io.nvsentinel.exporter.event.DecodeResult;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import io.nvsentinel.exporter.store.postgres.StoredDocuments;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.bson.BsonDocument;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * NVSentinel's own test cases for its exporter's CloudEvent ({@code
 * conformance/transformer-cases.json}, each naming the upstream file, test case and commit): every
 * stored form of each case's event — MongoDB with enum names, MongoDB with enum numbers, the
 * PostgreSQL document column — goes through the decoder and the mapper, and what comes out must
 * equal, as JSON, what the Go exporter's {@code ToCloudEvent} returns for the event, and pass the
 * assertions of the Go test case itself.
 */
class ConformanceTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CASES = "conformance/transformer-cases.json";

  /**
   * Standard CloudEvents attributes this exporter adds and README documents; none is NVSentinel's.
   */
  private static final List<String> OUR_ATTRIBUTES = List.of("id", "datacontenttype", "subject");

  @TestFactory
  Stream<DynamicTest> everyStoredFormOfEveryUpstreamCaseMapsToWhatTheGoExporterSends()
      throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode testCase : cases()) {
      if (testCase.path("wantErr").asBoolean()) {
        continue;
      }
      String name = testCase.path("upstream").path("case").asText();
      testCase
          .path("stored")
          .fields()
          .forEachRemaining(
              form ->
                  tests.add(
                      DynamicTest.dynamicTest(
                          name + " [" + form.getKey() + "]",
                          () -> assertConforms(testCase, form.getKey(), form.getValue()))));
    }
    assertThat(tests).hasSize(7 * 3);
    return tests.stream();
  }

  private static void assertConforms(JsonNode testCase, String form, JsonNode stored)
      throws IOException {
    JsonNode sent = map(metadataOf(testCase), document(form, stored));

    ObjectNode nvsentinels = sent.deepCopy();
    nvsentinels.remove(OUR_ATTRIBUTES);
    assertThat(nvsentinels).isEqualTo(testCase.get("expected"));
    for (JsonNode assertion : testCase.get("upstreamAssertions")) {
      assertUpstream(sent, assertion);
    }
  }

  /**
   * One assertion of the Go test case: {@code equals}, {@code length}, {@code absent}, {@code
   * notEmpty}.
   */
  private static void assertUpstream(JsonNode sent, JsonNode assertion) {
    String pointer = assertion.get("pointer").asText();
    JsonNode actual = sent.at(pointer);
    if (assertion.has("equals")) {
      assertThat(actual).as(pointer).isEqualTo(assertion.get("equals"));
    } else if (assertion.has("length")) {
      assertThat(actual.isArray()).as(pointer + " is a list").isTrue();
      assertThat(actual.size()).as(pointer).isEqualTo(assertion.get("length").asInt());
    } else if (assertion.has("absent")) {
      assertThat(actual.isMissingNode()).as(pointer + " is absent").isTrue();
    } else if (assertion.has("notEmpty")) {
      assertThat(actual.asText()).as(pointer).isNotEmpty();
    } else {
      throw new IllegalArgumentException("unknown assertion " + assertion);
    }
  }

  /**
   * The event each of NVSentinel's end-to-end tests sends, checked as that test checks what its
   * mock sink received ({@code ValidateCloudEvent}), and by the reference sink's rule derived from
   * it.
   */
  @TestFactory
  Stream<DynamicTest> whatNVSentinelsEndToEndTestsSendPassesTheirValidation() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode testCase : cases("conformance/e2e-cases.json")) {
      tests.add(
          DynamicTest.dynamicTest(
              testCase.path("upstream").path("test").asText(),
              () -> {
                JsonNode event =
                    map(
                        metadataOf(testCase),
                        BsonDocument.parse(testCase.get("stored").toString()));
                JsonNode expected = testCase.get("validateCloudEvent");
                assertThat(event.path("specversion").asText()).isEqualTo("1.0");
                assertThat(event.path("type").asText())
                    .isEqualTo("com.nvidia.nvsentinel.health.v1");
                assertThat(event.path("source").asText()).contains("nvsentinel");
                assertThat(event.path("id").asText()).isNotEmpty();
                assertThat(event.path("time").asText()).isNotEmpty();
                JsonNode healthEvent = event.path("data").path("healthEvent");
                assertThat(healthEvent.isObject()).isTrue();
                for (String field :
                    List.of("checkName", "nodeName", "message", "processingStrategy")) {
                  assertThat(healthEvent.get(field)).as(field).isEqualTo(expected.get(field));
                }
                assertThat(healthEvent.get("errorCode")).contains(expected.get("errorCode"));
                assertThat(
                        NVSentinelShape.violation(
                            tools.jackson.databind.json.JsonMapper.builder()
                                .build()
                                .readTree(event.toString())))
                    .isEmpty();
              }));
    }
    assertThat(tests).hasSize(2);
    return tests.stream();
  }

  @TestFactory
  Stream<DynamicTest> metadataWithoutAClusterIsRefusedAsTheGoExporterRefusesIt()
      throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode testCase : cases()) {
      if (testCase.path("wantErr").asBoolean()) {
        tests.add(
            DynamicTest.dynamicTest(
                testCase.path("upstream").path("case").asText(),
                () -> {
                  TestProperties settings = new TestProperties();
                  settings.metadata = metadataOf(testCase);
                  // the Go exporter fails each event; this one stops at start-up, naming the key
                  assertThat(TestProperties.problems(settings.build()))
                      .anySatisfy(
                          problem ->
                              assertThat(problem)
                                  .contains("exporter.metadata.cluster is required"));
                }));
      }
    }
    assertThat(tests).hasSize(1);
    return tests.stream();
  }

  private static JsonNode map(Map<String, String> metadata, BsonDocument document)
      throws IOException {
    TestProperties settings = new TestProperties();
    settings.metadata = metadata;
    CloudEventMapper mapper =
        new CloudEventMapper(settings.build(), Clock.fixed(Instant.EPOCH, ZoneOffset.UTC));
    DecodeResult result = new HealthEventDecoder(0, new SimpleMeterRegistry()).decode(document);
    assertThat(result).isInstanceOf(DecodeResult.Decoded.class);
    DecodeResult.Decoded decoded = (DecodeResult.Decoded) result;
    assertThat(decoded.event().warnings()).as("nothing to repair").isEmpty();
    return JSON.readTree(mapper.map(decoded.event()).json());
  }

  /** The stored form as the exporter reads it from its store. */
  private static BsonDocument document(String form, JsonNode stored) {
    if (form.equals("postgresql")) {
      return StoredDocuments.of(UUID.nameUUIDFromBytes(form.getBytes()), stored.toString());
    }
    return BsonDocument.parse(stored.toString());
  }

  private static Map<String, String> metadataOf(JsonNode testCase) {
    Map<String, String> metadata = new LinkedHashMap<>();
    testCase
        .get("metadata")
        .fields()
        .forEachRemaining(e -> metadata.put(e.getKey(), e.getValue().asText()));
    return metadata;
  }

  static List<JsonNode> cases() throws IOException {
    return cases(CASES);
  }

  private static List<JsonNode> cases(String resource) throws IOException {
    try (InputStream in = ConformanceTest.class.getClassLoader().getResourceAsStream(resource)) {
      List<JsonNode> cases = new ArrayList<>();
      JSON.readTree(in).get("cases").forEach(cases::add);
      return cases;
    }
  }
}
