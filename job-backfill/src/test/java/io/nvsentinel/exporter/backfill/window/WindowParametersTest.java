package io.nvsentinel.exporter.backfill.window;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.batch.core.job.parameters.JobParameters;

class WindowParametersTest {

  private static final Instant START = Instant.parse("2026-11-01T00:00:00Z");
  private static final Instant END = Instant.parse("2026-11-02T00:00:00Z");

  @Test
  void aWindowReadBackFromItsParametersIsTheSameWindow() {
    BackfillWindow window = new BackfillWindow(START, END, 500, "gap-1");

    JobParameters parameters = WindowParameters.of(window, null);

    assertThat(WindowParameters.window(parameters)).isEqualTo(window);
    assertThat(WindowParameters.gapWindowId(parameters)).contains("gap-1");
    assertThat(WindowParameters.range(parameters)).isEqualTo("[" + START + ", " + END + ")");
  }

  @Test
  void stepScopedBeansReadTheSameWindowFromTheParameterMap() {
    BackfillWindow window = new BackfillWindow(START, END, 7, null);
    Map<String, Object> map = new HashMap<>();
    WindowParameters.of(window, null).parameters().forEach(p -> map.put(p.name(), p.value()));

    assertThat(WindowParameters.window(map)).isEqualTo(window);
  }

  @Test
  void aForcedRunIsAnotherJobInstanceOfTheSameWindow() {
    BackfillWindow window = new BackfillWindow(START, END, 500, null);

    JobParameters plain = WindowParameters.of(window, null);
    JobParameters forced = WindowParameters.of(window, Instant.parse("2026-11-28T12:00:00Z"));

    assertThat(forced).isNotEqualTo(plain);
    assertThat(WindowParameters.window(forced)).isEqualTo(window);
    assertThat(WindowParameters.gapWindowId(plain)).isEmpty();
  }

  @Test
  void theStoredNamesStayWhatEarlierReleasesWrote() {
    // job repositories of earlier releases name their windows so; renaming would orphan them
    JobParameters parameters = WindowParameters.of(new BackfillWindow(START, END, 3, "g"), START);

    assertThat(parameters.getString("windowStart")).isEqualTo(START.toString());
    assertThat(parameters.getString("windowEnd")).isEqualTo(END.toString());
    assertThat(parameters.getLong("maxEvents")).isEqualTo(3L);
    assertThat(parameters.getString("gapWindowId")).isEqualTo("g");
    assertThat(parameters.getString("forcedAt")).isEqualTo(START.toString());
  }
}
