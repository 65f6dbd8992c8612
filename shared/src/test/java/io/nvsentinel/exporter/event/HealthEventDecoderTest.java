package io.nvsentinel.exporter.event;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.bson.BsonBoolean;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.junit.jupiter.api.Test;

class HealthEventDecoderTest {

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final HealthEventDecoder decoder = new HealthEventDecoder(65_536, meters);
  private final Map<String, BsonDocument> malformed = Samples.malformed();

  private StoredHealthEvent decoded(BsonDocument document) {
    DecodeResult result = decoder.decode(document);
    assertThat(result).isInstanceOf(DecodeResult.Decoded.class);
    return ((DecodeResult.Decoded) result).event();
  }

  private StoredHealthEvent decodedCase(String name) {
    return decoded(malformed.get(name));
  }

  private String rejectionOf(String name) {
    DecodeResult result = decoder.decode(malformed.get(name));
    assertThat(result).isInstanceOf(DecodeResult.Rejected.class);
    assertThat(result.documentId()).isEqualTo(malformed.get(name).get("_id"));
    return ((DecodeResult.Rejected) result).reason();
  }

  private double repairs(String field) {
    var counter =
        meters.find("health_events_exporter_decode_repairs").tag("field", field).counter();
    return counter == null ? 0 : counter.count();
  }

  @Test
  void everySampleDocumentDecodesWithoutRepairsButOlderWritersUndeclaredActions() {
    List<BsonDocument> samples = Samples.good();
    assertThat(samples).hasSize(40);
    int undeclared = 0;
    for (BsonDocument sample : samples) {
      StoredHealthEvent event = decoded(sample);
      if (sample.getDocument("healthevent").isNumber("recommendedAction")) {
        // older writers stored numbers, some of which the enum has never declared (4, 13, 17, 20)
        assertThat(event.warnings())
            .as(sample.toJson())
            .singleElement()
            .satisfies(w -> assertThat(w.detail()).contains("is not declared"));
        assertThat(event.event().recommendedAction()).matches("\\d+");
        undeclared++;
      } else {
        assertThat(event.warnings()).as(sample.toJson()).isEmpty();
      }
      assertThat(event.id()).isEqualTo(sample.get("_id"));
      assertThat(event.createdAt()).isNotNull();
      assertThat(event.event().generatedTimestamp()).isNotNull();
      assertThat(event.event().nodeName()).startsWith("gpu-node-");
    }
    assertThat(undeclared).isEqualTo(6);
  }

  @Test
  void sampleFieldsAreReadAsStored() {
    StoredHealthEvent first = decoded(Samples.good().get(0));
    HealthEvent e = first.event();
    assertThat(e.version()).isEqualTo(1);
    assertThat(e.agent()).isEqualTo("syslog-health-monitor");
    assertThat(e.componentClass()).isEqualTo("GPU");
    assertThat(e.checkName()).isEqualTo("SysLogsGPUFallenOff");
    assertThat(e.isFatal()).isFalse();
    assertThat(e.isHealthy()).isFalse();
    assertThat(e.message()).isEqualTo("Scheduled maintenance event");
    assertThat(e.recommendedAction()).isEqualTo("COMPONENT_RESET");
    assertThat(e.processingStrategy()).isEqualTo("EXECUTE_REMEDIATION");
    assertThat(e.customRecommendedAction()).isEmpty();
    assertThat(e.errorCode()).containsExactly("13");
    assertThat(e.entitiesImpacted())
        .containsExactly(
            new Entity("GPU_UUID", "GPU-d786ae6e-f40e-a120-0670-8fe97674dae8"),
            new Entity("PCI", "0000:b3:00.0"));
    assertThat(e.metadata())
        .containsEntry("providerID", "aws:///us-west-2a/i-de5c5486de9f")
        .containsEntry("instanceType", "p5.48xlarge");
    assertThat(e.generatedTimestamp()).isEqualTo(Instant.parse("2026-10-06T14:30:28.891Z"));
    assertThat(first.createdAt()).isEqualTo(Instant.parse("2026-10-06T14:30:28.993Z"));
    assertThat(e.quarantineOverrides()).isNull();
    assertThat(e.drainOverrides()).isNull();
  }

  @Test
  void enumsAreReadAsNameOrNumberAndGoOutByTheirNames() {
    assertThat(action(new BsonString("RESTART_VM"))).isEqualTo("RESTART_VM");
    assertThat(action(new BsonString("replace_vm"))).isEqualTo("REPLACE_VM");
    assertThat(action(new BsonInt32(24))).isEqualTo("RESTART_BM");
    assertThat(action(new BsonInt32(27))).isEqualTo("CUSTOM");
    assertThat(action(new BsonString("15"))).isEqualTo("RESTART_VM");
    assertThat(action(new BsonDouble(26))).isEqualTo("RUN_DCGMEUD");
    assertThat(action(null)).as("unset is Go's zero value").isEqualTo("NONE");
    assertThat(repairs("recommendedAction")).isZero();
    assertThat(strategy(new BsonInt32(2))).isEqualTo("STORE_ONLY");
    assertThat(strategy(new BsonString("STORE_AND_ANALYSE"))).isEqualTo("STORE_AND_ANALYSE");
    assertThat(strategy(null)).isEqualTo("UNSPECIFIED");
    assertThat(repairs("processingStrategy")).isZero();
  }

  @Test
  void aNumberTheEnumDoesNotDeclareGoesOutAsItsDigitsWithAWarning() {
    assertThat(action(new BsonInt32(7))).isEqualTo("7");
    assertThat(action(new BsonInt32(39))).as("RESTART_APP was never in the enum").isEqualTo("39");
    assertThat(strategy(new BsonInt64(9))).isEqualTo("9");
    assertThat(repairs("recommendedAction")).isEqualTo(2);
    assertThat(repairs("processingStrategy")).isEqualTo(1);
  }

  @Test
  void whatIsNoValueOfTheEnumGoesOutAsUnknownWithAWarning() {
    assertThat(action(new BsonString("RESTART_APP"))).isEqualTo("UNKNOWN");
    assertThat(action(new BsonInt64(12_345_678_901L))).isEqualTo("UNKNOWN");
    assertThat(action(BsonBoolean.TRUE)).isEqualTo("UNKNOWN");
    assertThat(strategy(new BsonString("PERSIST_ONLY"))).isEqualTo("UNKNOWN");
    assertThat(strategy(new BsonDouble(1.5))).isEqualTo("UNKNOWN");
    assertThat(repairs("recommendedAction")).isEqualTo(3);
    assertThat(repairs("processingStrategy")).isEqualTo(2);
  }

  @Test
  void theCustomActionIsReadWhenStored() {
    BsonDocument doc =
        BsonDocument.parse(
            "{_id: 'c', healthevent: {recommendedAction: 'CUSTOM',"
                + " customRecommendedAction: 'REPLACE_DISK'}}");
    HealthEvent e = decoded(doc).event();
    assertThat(e.recommendedAction()).isEqualTo("CUSTOM");
    assertThat(e.customRecommendedAction()).isEqualTo("REPLACE_DISK");
  }

  private String action(BsonValue value) {
    return decoded(withField("recommendedAction", value)).event().recommendedAction();
  }

  private String strategy(BsonValue value) {
    return decoded(withField("processingStrategy", value)).event().processingStrategy();
  }

  private static BsonDocument withField(String name, BsonValue value) {
    BsonDocument event = new BsonDocument("agent", new BsonString("a"));
    if (value != null) {
      event.append(name, value);
    }
    return new BsonDocument("_id", new BsonString("x")).append("healthevent", event);
  }

  @Test
  void noHealtheventFieldIsRejectedWithItsReason() {
    assertThat(rejectionOf("no healthevent field"))
        .isEqualTo("the document has no healthevent field");
  }

  @Test
  void nullHealtheventIsRejectedWithItsReason() {
    assertThat(rejectionOf("healthevent is null")).isEqualTo("healthevent is null");
  }

  @Test
  void stringHealtheventIsRejectedWithItsReason() {
    assertThat(rejectionOf("healthevent is a string"))
        .isEqualTo("healthevent is a string, expected a document");
  }

  @Test
  void rejectionsAreCountedAsTransformErrors() {
    rejectionOf("no healthevent field");
    rejectionOf("healthevent is null");
    assertThat(meters.get("health_events_exporter_transform_errors").counter().count())
        .isEqualTo(2);
  }

  @Test
  void stringGeneratedTimestampIsReadAsADate() {
    StoredHealthEvent event = decodedCase("generatedTimestamp is a string, not a date");
    assertThat(event.event().generatedTimestamp()).isEqualTo(Instant.parse("2026-11-20T10:00:00Z"));
    assertThat(event.warnings())
        .extracting(DecodeWarning::field)
        .containsExactly("generatedTimestamp");
    assertThat(repairs("generatedTimestamp")).isEqualTo(1);
  }

  @Test
  void missingGeneratedTimestampStaysAbsentAndTheEventTimeFallsBackToCreatedAt() {
    StoredHealthEvent event = decodedCase("generatedTimestamp missing");
    assertThat(event.event().generatedTimestamp()).isNull();
    assertThat(event.eventTime()).isEqualTo(Instant.parse("2026-11-20T12:00:00Z"));
    assertThat(event.warnings()).isEmpty();
  }

  @Test
  void unknownRecommendedActionBecomesUnknownAndIsCounted() {
    StoredHealthEvent event = decodedCase("recommendedAction is an unknown name");
    assertThat(event.event().recommendedAction()).isEqualTo("UNKNOWN");
    assertThat(event.warnings())
        .singleElement()
        .satisfies(w -> assertThat(w.detail()).contains("REBOOT_THE_UNIVERSE"));
    assertThat(repairs("recommendedAction")).isEqualTo(1);
  }

  @Test
  void singleErrorCodeStringBecomesAOneElementList() {
    StoredHealthEvent event = decodedCase("errorCode is a single string, not an array");
    assertThat(event.event().errorCode()).containsExactly("79");
    assertThat(repairs("errorCode")).isEqualTo(1);
  }

  @Test
  void nonStringMetadataValuesBecomeTheirJsonText() {
    StoredHealthEvent event = decodedCase("metadata holds non-string values");
    assertThat(event.event().metadata())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("slot", "3", "nested", "{\"a\": 1}", "ok", "yes"));
    assertThat(repairs("metadata")).isEqualTo(2);
  }

  @Test
  void entitiesWithoutFieldsAreKeptWithEmptyValues() {
    StoredHealthEvent event = decodedCase("entitiesImpacted entries lack fields");
    assertThat(event.event().entitiesImpacted())
        .containsExactly(new Entity("", ""), new Entity("GPU_UUID", ""));
    assertThat(event.warnings()).hasSize(3);
  }

  @Test
  void hugeMessageIsCutToTheConfiguredLengthAndCounted() {
    StoredHealthEvent event = decodedCase("message is 1 MiB of text");
    assertThat(event.event().message()).hasSize(65_536).matches("x+");
    assertThat(event.warnings())
        .singleElement()
        .satisfies(w -> assertThat(w.detail()).contains("1048576").contains("65536"));
    assertThat(repairs("message")).isEqualTo(1);
  }

  @Test
  void messageLimitZeroMeansNoLimit() {
    HealthEventDecoder unlimited = new HealthEventDecoder(0, meters);
    DecodeResult result = unlimited.decode(malformed.get("message is 1 MiB of text"));
    assertThat(((DecodeResult.Decoded) result).event().event().message()).hasSize(1 << 20);
  }

  @Test
  void missingCreatedAtIsAbsentAndTheEventTimeComesFromTheObjectId() {
    StoredHealthEvent event = decodedCase("createdAt missing");
    assertThat(event.createdAt()).isNull();
    assertThat(event.eventTime())
        .isEqualTo(
            malformed.get("createdAt missing").getObjectId("_id").getValue().getDate().toInstant());
  }

  @Test
  void stringIdIsKept() {
    StoredHealthEvent event = decodedCase("_id is a string, not an ObjectId");
    assertThat(event.id()).isEqualTo(new BsonString("evt-0001"));
  }

  @Test
  void unicodeAndControlCharactersArePreserved() {
    StoredHealthEvent event = decodedCase("unicode and control characters in message");
    assertThat(event.event().message())
        .isEqualTo("GPU \u00e9\u4e2d\u0000\u0007 \"quoted\" \\ back");
    assertThat(event.warnings()).isEmpty();
  }

  @Test
  void everyMalformedCaseHasAnOutcomeAndNoneThrows() {
    assertThat(malformed).hasSize(13);
    malformed.forEach(
        (name, document) -> assertThat(decoder.decode(document)).as(name).isNotNull());
  }

  @Test
  void wrongScalarTypesAreConvertedNotFatal() {
    BsonDocument doc =
        BsonDocument.parse(
            "{_id: 1, healthevent: {version: '2', agent: 7, isFatal: 'true', isHealthy: 1,"
                + " nodeName: 'n', quarantineOverrides: {force: true}, drainOverrides: 'x',"
                + " entitiesImpacted: [{entityType: 'GPU_UUID', entityValue: 'GPU-1'}, 5]}}");
    HealthEvent e = decoded(doc).event();
    assertThat(e.version()).isEqualTo(2);
    assertThat(e.agent()).isEqualTo("7");
    assertThat(e.isFatal()).isTrue();
    assertThat(e.isHealthy()).isTrue();
    assertThat(e.quarantineOverrides()).isEqualTo(new Overrides(true, false));
    assertThat(e.drainOverrides()).isNull();
    assertThat(e.entitiesImpacted()).containsExactly(new Entity("GPU_UUID", "GPU-1"));
  }
}
