package io.nvsentinel.exporter.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nvsentinel.exporter.event.DecodeResult;
import io.nvsentinel.exporter.event.HealthEvent;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import io.nvsentinel.exporter.event.Samples;
import io.nvsentinel.exporter.metrics.ExporterMetric;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EventFilterTest {

  /**
   * What each example of README's Filtering section means, said in Java. An example README gains
   * without a meaning here fails the test, so the documentation cannot drift from the behaviour.
   */
  private static final Map<String, Predicate<HealthEvent>> README_EXAMPLES =
      Map.of(
          "event.recommendedAction != 'NONE'",
          e -> !e.recommendedAction().equals("NONE"),
          "event.recommendedAction != 'NONE' && !('45' in event.errorCode)",
          e -> !e.recommendedAction().equals("NONE") && !e.errorCode().contains("45"),
          "event.isFatal == true",
          HealthEvent::isFatal,
          "'79' in event.errorCode",
          e -> e.errorCode().contains("79"),
          "event.componentClass == 'GPU' && event.isHealthy == false",
          e -> e.componentClass().equals("GPU") && !e.isHealthy(),
          "event.recommendedAction in ['RESTART_VM', 'RESTART_BM', 'REPLACE_VM']",
          e -> List.of("RESTART_VM", "RESTART_BM", "REPLACE_VM").contains(e.recommendedAction()),
          "event.nodeName.startsWith('gpu-node-00')",
          e -> e.nodeName().startsWith("gpu-node-00"),
          "has(event.metadata.instanceType) && event.metadata.instanceType == 'p5.48xlarge'",
          e -> e.metadata() != null && "p5.48xlarge".equals(e.metadata().get("instanceType")));

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final List<HealthEvent> samples =
      Samples.good().stream()
          .map(d -> new HealthEventDecoder(65_536, meters).decode(d))
          .map(r -> ((DecodeResult.Decoded) r).event().event())
          .toList();

  @Test
  void everyReadmeExampleSelectsExactlyTheSampleEventsItSaysItDoes() throws IOException {
    Map<String, String> documented = readmeExamples();
    assertThat(documented.keySet()).containsExactlyInAnyOrderElementsOf(README_EXAMPLES.keySet());
    for (String expression : documented.keySet()) {
      EventFilter filter = EventFilter.compile(expression, meters);
      Predicate<HealthEvent> meaning = README_EXAMPLES.get(expression);
      for (HealthEvent event : samples) {
        assertThat(filter.evaluate(event))
            .as("%s for %s/%s", expression, event.checkName(), event.nodeName())
            .isEqualTo(meaning.test(event) ? EventFilter.Verdict.EXPORT : EventFilter.Verdict.DROP);
      }
    }
    // the examples are not vacuous on the sample data: each keeps some events and drops others
    for (Predicate<HealthEvent> meaning : README_EXAMPLES.values()) {
      assertThat(samples).anyMatch(meaning).anyMatch(meaning.negate());
    }
  }

  @Test
  void theRecommendedActionIsTheEnumNameAsNVSentinelsGoCodeSpellsIt() {
    HealthEvent restart =
        samples.stream()
            .filter(e -> e.recommendedAction().equals("RESTART_VM"))
            .findFirst()
            .orElseThrow();
    assertThat(EventFilter.variables(restart)).containsEntry("recommendedAction", "RESTART_VM");
    HealthEvent older =
        samples.stream().filter(e -> e.recommendedAction().equals("4")).findFirst().orElseThrow();
    assertThat(EventFilter.variables(older))
        .as("a number without a name reads as Go prints an unknown enum value")
        .containsEntry("recommendedAction", "4");
    assertThat(EventFilter.variables(restart).keySet())
        .containsExactlyInAnyOrder(
            "agent",
            "checkName",
            "componentClass",
            "errorCode",
            "isFatal",
            "isHealthy",
            "recommendedAction",
            "nodeName",
            "metadata",
            "message");
  }

  @Test
  void droppedEventsAreCountedAndAnEmptyExpressionExportsEverything() {
    EventFilter none = EventFilter.compile("  ", meters);
    assertThat(none.active()).isFalse();
    assertThat(samples).allMatch(e -> none.evaluate(e) == EventFilter.Verdict.EXPORT);

    EventFilter actionable = EventFilter.compile("event.recommendedAction != 'NONE'", meters);
    long dropped = samples.stream().filter(e -> !actionable.evaluate(e).exported()).count();

    assertThat(dropped)
        .isEqualTo(samples.stream().filter(e -> e.recommendedAction().equals("NONE")).count())
        .isPositive();
    assertThat(meters.get(ExporterMetric.EVENTS_FILTERED.meterName()).counter().count())
        .isEqualTo(dropped);
    assertThat(meters.get(ExporterMetric.FILTER_ERRORS.meterName()).counter().count()).isZero();
  }

  @Test
  void anExpressionThatFailsForAnEventExportsItAndCountsTheError() {
    // metadata is empty for most events: reading a key it lacks is an evaluation error
    EventFilter careless =
        EventFilter.compile("event.metadata.instanceType == 'p5.48xlarge'", meters);
    long withoutKey =
        samples.stream()
            .filter(e -> e.metadata() == null || !e.metadata().containsKey("instanceType"))
            .count();

    List<EventFilter.Verdict> verdicts = samples.stream().map(careless::evaluate).toList();

    assertThat(verdicts.stream().filter(v -> v == EventFilter.Verdict.EXPORT_ON_ERROR).count())
        .isEqualTo(withoutKey)
        .isPositive();
    assertThat(verdicts).allMatch(v -> v != EventFilter.Verdict.EXPORT_ON_ERROR || v.exported());
    assertThat(meters.get(ExporterMetric.FILTER_ERRORS.meterName()).counter().count())
        .isEqualTo(withoutKey);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "event.isFatal",
        "event.agent",
        "event.recommendedAction != 'NONE' &&",
        "events.isFatal == true",
        "size(event.errorCode)"
      })
  void anExpressionThatIsNoBooleanFilterIsRefusedInOneLineWithTheWorkingForm(String expression) {
    String problem = EventFilter.problem(expression).orElseThrow();

    assertThat(problem)
        .startsWith("exporter.filter.expression '" + expression + "' cannot be used: ")
        .contains("event.isFatal == true")
        .contains("'45' in event.errorCode")
        .doesNotContain("\n");
    assertThatThrownBy(() -> EventFilter.compile(expression, meters))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(problem);
  }

  @Test
  void aBareFieldReadIsRefusedSayingWhyAsTheReplacedExporterDoes() {
    assertThat(EventFilter.problem("event.isFatal").orElseThrow())
        .contains("not a boolean (a bare field read is untyped: compare it)");
    assertThat(EventFilter.problem("event.isFatal == true")).isEmpty();
    assertThat(EventFilter.problem("")).isEmpty();
  }

  /** The expressions in the table of the "Filtering" section of docs/configuration.md. */
  static Map<String, String> readmeExamples() throws IOException {
    String readme = Files.readString(Path.of("..", "docs", "configuration.md"));
    int start = readme.indexOf("\n## Filtering");
    assertThat(start).as("README has a Filtering section").isPositive();
    int end = readme.indexOf("\n## ", start + 1);
    String section = readme.substring(start, end < 0 ? readme.length() : end);
    Map<String, String> examples = new LinkedHashMap<>();
    Matcher row = Pattern.compile("(?m)^\\| `([^`]+)` \\| (.+) \\|$").matcher(section);
    while (row.find()) {
      examples.put(row.group(1), row.group(2));
    }
    return examples;
  }
}
