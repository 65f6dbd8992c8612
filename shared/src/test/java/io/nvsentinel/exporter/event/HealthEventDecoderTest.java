package io.nvsentinel.exporter.event;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
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
  void everySampleDocumentDecodesWithoutRepairs() {
    List<BsonDocument> samples = Samples.good();
    assertThat(samples).hasSize(40);
    for (BsonDocument sample : samples) {
      StoredHealthEvent event = decoded(sample);
      assertThat(event.warnings()).as(sample.toJson()).isEmpty();
      assertThat(event.id()).isEqualTo(sample.get("_id"));
      assertThat(event.createdAt()).isNotNull();
      assertThat(event.event().generatedTimestamp()).isNotNull();
      assertThat(event.event().nodeName()).startsWith("gpu-node-");
    }
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
    assertThat(e.recommendedAction()).isEqualTo(new RecommendedAction(2));
    assertThat(e.errorCode()).containsExactly("13");
    assertThat(e.entitiesImpacted())
        .containsExactly(
            new Entity("GPU_UUID", "GPU-d786ae6e-f40e-a120-0670-8fe97674dae8"),
            new Entity("PCI", "0000:b3:00.0"));
    assertThat(e.gpuUuid()).contains("GPU-d786ae6e-f40e-a120-0670-8fe97674dae8");
    assertThat(e.metadata())
        .containsEntry("providerID", "aws:///us-west-2a/i-de5c5486de9f")
        .containsEntry("instanceType", "p5.48xlarge");
    assertThat(e.generatedTimestamp()).isEqualTo(Instant.parse("2026-10-06T14:30:28.891Z"));
    assertThat(first.createdAt()).isEqualTo(Instant.parse("2026-10-06T14:30:28.993Z"));
    assertThat(e.quarantineOverrides()).isNull();
    assertThat(e.drainOverrides()).isNull();
  }

  @Test
  void recommendedActionIsReadAsNameOrNumber() {
    assertThat(decoded(withAction(new BsonString("RESTART_VM"))).event().recommendedAction().code())
        .isEqualTo(15);
    assertThat(decoded(withAction(new BsonString("replace_vm"))).event().recommendedAction().code())
        .isEqualTo(25);
    assertThat(decoded(withAction(new BsonInt32(24))).event().recommendedAction().code())
        .isEqualTo(24);
    assertThat(decoded(withAction(new BsonInt32(7))).event().recommendedAction().code())
        .as("numbers we do not know are passed through")
        .isEqualTo(7);
    assertThat(repairs("recommendedAction")).isZero();
  }

  private static BsonDocument withAction(BsonValue action) {
    return new BsonDocument("_id", new BsonString("x"))
        .append("healthevent", new BsonDocument("recommendedAction", action));
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
    assertThat(event.event().recommendedAction()).isEqualTo(RecommendedAction.UNKNOWN);
    assertThat(event.event().recommendedAction().code()).isEqualTo(99);
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
  void entitiesWithoutFieldsAreKeptWithEmptyValuesAndGiveNoGpuUuid() {
    StoredHealthEvent event = decodedCase("entitiesImpacted entries lack fields");
    assertThat(event.event().entitiesImpacted())
        .containsExactly(new Entity("", ""), new Entity("GPU_UUID", ""));
    assertThat(event.event().gpuUuid()).isEmpty();
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
    assertThat(e.gpuUuid()).contains("GPU-1");
  }
}
