package io.nvsentinel.exporter.cloudevent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import io.nvsentinel.exporter.event.Samples;
import io.nvsentinel.exporter.filter.EventFilter;
import io.nvsentinel.exporter.tracing.EventTracing;
import io.nvsentinel.exporter.tracing.TestTracing;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class EventConverterTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final HealthEventDecoder decoder = new HealthEventDecoder(65_536, meters);
  private final EventConverter converter =
      new EventConverter(
          decoder,
          new CloudEventMapper(
              CloudEventMapperTest.properties("c", "HealthEvents"),
              Clock.fixed(CloudEventMapperTest.NOW, ZoneOffset.UTC)));

  static Iterable<String> poisonCases() {
    return Samples.poison().keySet();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("poisonCases")
  void aPoisonValueIsRepairedIntoAValidCloudEvent(String name) throws Exception {
    BsonDocument document = Samples.poison().get(name);

    Conversion conversion = converter.convert(document);

    assertThat(conversion).isInstanceOf(Conversion.Converted.class);
    OutgoingEvent event = ((Conversion.Converted) conversion).event();
    JsonNode json = JSON.readTree(event.json());
    // an RFC 3339 time with a four-digit year, which every sink can parse
    assertThat(json.path("time").asText()).matches("\\d{4}-.*");
    OffsetDateTime.parse(json.path("time").asText());
    OffsetDateTime.parse(json.path("data").path("healthEvent").path("generatedTimestamp").asText());
    assertThat(meters.find("health_events_exporter_decode_repairs").counters())
        .as("the repair is counted")
        .isNotEmpty();
  }

  @Test
  void aNumberTooLargeForTheEnumIsExportedAsUnknown() throws Exception {
    for (String name :
        new String[] {
          "recommendedAction is a number too large for the enum",
          "recommendedAction is a 64-bit number"
        }) {
      OutgoingEvent event =
          ((Conversion.Converted) converter.convert(Samples.poison().get(name))).event();
      assertThat(JSON.readTree(event.json()).at("/data/healthEvent/recommendedAction").asText())
          .as(name)
          .isEqualTo("UNKNOWN");
    }
  }

  @Test
  void anUnusableTimeFallsBackToTheNextOneTheDocumentHolds() throws Exception {
    OutgoingEvent event =
        ((Conversion.Converted)
                converter.convert(
                    Samples.poison().get("generatedTimestamp seconds beyond any instant")))
            .event();
    assertThat(event.event().getTime().toInstant())
        .isEqualTo(Instant.parse("2026-11-20T12:00:00Z"));
  }

  @Test
  void aFailureInsideTheConversionMakesTheDocumentUndecodableWithTheReason() {
    AtomicInteger counted = new AtomicInteger();
    EventConverter failing =
        new EventConverter(
            document -> {
              throw new NumberFormatException("For input string: \"12345678901\"");
            },
            (stored, span) -> null,
            null,
            counted::incrementAndGet,
            EventFilter.compile("", new SimpleMeterRegistry()),
            EventTracing.OFF);
    BsonDocument document = Samples.good().get(0);

    Conversion conversion = failing.convert(document);

    assertThat(conversion).isInstanceOf(Conversion.Undecodable.class);
    assertThat(((Conversion.Undecodable) conversion).reason())
        .contains("NumberFormatException")
        .contains("12345678901");
    assertThat(conversion.documentId()).isEqualTo(document.get("_id"));
    assertThat(counted).hasValue(1);
  }

  @Test
  void aDocumentWithoutIdIsUndecodable() {
    BsonDocument document = Samples.good().get(0).clone();
    document.remove("_id");
    Conversion conversion = converter.convert(document);
    assertThat(conversion).isInstanceOf(Conversion.Undecodable.class);
    assertThat(((Conversion.Undecodable) conversion).reason()).isEqualTo("the document has no _id");
  }

  @Test
  void onlyDocumentsWithoutAHealthEventAreUndecodable() {
    for (BsonDocument sample : Samples.good()) {
      assertThat(converter.convert(sample)).isInstanceOf(Conversion.Converted.class);
    }
    for (Map.Entry<String, BsonDocument> bad : Samples.malformed().entrySet()) {
      boolean noHealthEvent = !(bad.getValue().get("healthevent") instanceof BsonDocument);
      assertThat(converter.convert(bad.getValue()))
          .as(bad.getKey())
          .isInstanceOf(noHealthEvent ? Conversion.Undecodable.class : Conversion.Converted.class);
    }
  }

  @Test
  void anEventTheFilterDropsIsFilteredWithItsIdAndTheStepsAreSpansOfTheEvent() {
    TestTracing test = new TestTracing();
    CloudEventMapper mapper =
        new CloudEventMapper(
            CloudEventMapperTest.properties("c", "HealthEvents"),
            Clock.fixed(CloudEventMapperTest.NOW, ZoneOffset.UTC),
            test.tracing);
    EventConverter filtering =
        new EventConverter(
            decoder,
            mapper,
            EventFilter.compile("event.recommendedAction != 'NONE'", meters),
            test.tracing);
    BsonDocument none =
        Samples.good().stream()
            .filter(
                d ->
                    d.getDocument("healthevent")
                        .getString("recommendedAction", new BsonString(""))
                        .getValue()
                        .equals("NONE"))
            .findFirst()
            .orElseThrow();

    Conversion conversion = filtering.convert(none);

    assertThat(conversion).isInstanceOf(Conversion.Filtered.class);
    assertThat(((Conversion.Filtered) conversion).eventId())
        .isEqualTo(mapper.eventId(none.get("_id")));
    assertThat(conversion.documentId()).isEqualTo(none.get("_id"));
    EventTracing.finish(conversion.span(), "filtered");
    SpanData root = test.named(EventTracing.PROCESS_EVENT);
    SpanData transform = test.named(EventTracing.TRANSFORM);
    SpanData filter = test.named(EventTracing.FILTER);
    assertThat(transform.getParentSpanId()).isEqualTo(root.getSpanId());
    assertThat(filter.getParentSpanId()).isEqualTo(transform.getSpanId());
    assertThat(filter.getAttributes().asMap().toString()).contains("drop");
    assertThat(root.getAttributes().asMap().toString())
        .contains(mapper.eventId(none.get("_id")))
        .contains("filtered");
    assertThat(filtering.convert(Samples.good().get(2)))
        .as("an event the expression keeps")
        .isInstanceOf(Conversion.Converted.class);
  }
}
