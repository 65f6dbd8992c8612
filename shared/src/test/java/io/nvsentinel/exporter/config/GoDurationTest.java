package io.nvsentinel.exporter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class GoDurationTest {

  @ParameterizedTest(name = "{0} is {1}")
  @CsvSource({
    "720h, PT720H",
    "30s, PT30S",
    "100ms, PT0.1S",
    "5m, PT5M",
    "1h30m, PT1H30M",
    "1.5h, PT1H30M",
    "2h45m30s, PT2H45M30S",
    "1m0.5s, PT1M0.5S",
    "250us, PT0.00025S",
    "10ns, PT0.00000001S",
    ".5s, PT0.5S",
    "-1h, PT-1H",
    "2d, PT48H",
    "PT15M, PT15M",
    "1500, PT1.5S",
    "0, PT0S",
  })
  void readsGoAndSpringSyntax(String text, String iso) {
    assertThat(GoDuration.parse(text)).isEqualTo(Duration.parse(iso));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "abc", "5", "5x", "h", "1h30", "1..5s", "1h 30m", "PTfoo", "s30"})
  void rejectsAnythingElseNamingTheValueAndTheAllowedForms(String text) {
    if (text.equals("5")) {
      // a bare number is Spring's millisecond form, not an error
      assertThat(GoDuration.parse(text)).isEqualTo(Duration.ofMillis(5));
      return;
    }
    assertThatThrownBy(() -> GoDuration.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + text + "' is not a duration")
        .hasMessageContaining("1h30m");
  }

  @ParameterizedTest(name = "{0} formats as {1}")
  @CsvSource({"PT720H, 720h", "PT1H30M, 1h30m", "PT0.1S, 100ms", "PT30S, 30s", "PT1M0.5S, 1m0.5s"})
  void formatsAsOperatorsWriteIt(String iso, String text) {
    assertThat(GoDuration.format(Duration.parse(iso))).isEqualTo(text);
    assertThat(GoDuration.parse(text)).isEqualTo(Duration.parse(iso));
  }
}
