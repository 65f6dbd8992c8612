package io.nvsentinel.exporter.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sink's live page in a real headless Chromium: it loads, runs its script, polls the sink,
 * shows the same numbers the sink counts and draws its chart with the library the sink serves.
 * Skipped, saying so, where no Chromium is installed ({@code .ci/run} installs Debian's chromium so
 * CI always runs it).
 */
class SinkPageTest {

  static final Path CHROMIUM = Path.of("/usr/bin/chromium");

  @TempDir Path dir;

  @Test
  void thePageShowsWhatTheSinkReceivedAndKeepsRefreshing() throws Exception {
    assumeTrue(
        Files.isExecutable(CHROMIUM),
        "no Chromium at " + CHROMIUM + ": apt-get install chromium to run this test");
    Demo demo = new Demo(new DemoOptions(120, 10, 2, 0, 0, 0, true, "", "mongodb", dir));
    try {
      DemoSummary summary = demo.run();
      var sink = demo.sink();
      Process chromium =
          new ProcessBuilder(
                  List.of(
                      CHROMIUM.toString(),
                      "--headless",
                      "--no-sandbox",
                      "--disable-gpu",
                      "--disable-quic",
                      "--no-first-run",
                      "--disable-background-networking",
                      "--disable-component-update",
                      "--disable-sync",
                      "--user-data-dir=" + dir.resolve("chromium-profile"),
                      "--virtual-time-budget=4000",
                      "--dump-dom",
                      sink.pageUrl()))
              .redirectError(dir.resolve("chromium.err").toFile())
              .start();
      String dom = new String(chromium.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(chromium.waitFor(60, TimeUnit.SECONDS)).isTrue();

      assertThat(number(dom, "accepted")).isEqualTo(sink.accepted().size());
      assertThat(number(dom, "distinct")).isEqualTo(summary.backfilled() + summary.live());
      assertThat(number(dom, "duplicates")).isEqualTo(sink.duplicates());
      Matcher refreshes = Pattern.compile("data-refreshes=\"(\\d+)\"").matcher(dom);
      assertThat(refreshes.find()).as("the script ran and polled the sink").isTrue();
      assertThat(Integer.parseInt(refreshes.group(1)))
          .as("it keeps polling")
          .isGreaterThanOrEqualTo(2);
      Matcher chart = Pattern.compile("data-chart-points=\"(\\d+)\"").matcher(dom);
      assertThat(chart.find()).as("the chart library loaded from the sink and drew").isTrue();
      assertThat(Integer.parseInt(chart.group(1))).isEqualTo(120);
      assertThat(dom).contains("class=\"uplot").containsPattern("id=\"p99\">\\d+ ms<");
      String newest = sink.accepted().get(sink.accepted().size() - 1).id();
      assertThat(dom).contains(newest).contains("gpu-node-");
    } finally {
      demo.close();
    }
  }

  private static int number(String dom, String id) {
    Matcher m = Pattern.compile("id=\"" + id + "\">(\\d+)<").matcher(dom);
    assertThat(m.find()).as("the page shows #" + id).isTrue();
    return Integer.parseInt(m.group(1));
  }
}
