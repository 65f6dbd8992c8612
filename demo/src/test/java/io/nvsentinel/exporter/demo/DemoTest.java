package io.nvsentinel.exporter.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.nvsentinel.exporter.devstack.ReferenceSink;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo command itself, to its summary, with the numbers checked against the sink. */
class DemoTest {

  @TempDir Path dir;

  @Test
  void backfillThenLiveDeliversEveryStoredEventExactlyOnceAndTheSummarySaysSo() throws Exception {
    Demo demo = new Demo(new DemoOptions(600, 25, 4, 0, 0, 0, true, "", "mongodb", dir));
    try {
      DemoSummary summary = demo.run();
      ReferenceSink sink = demo.sink();

      assertThat(summary.backfillExitCode()).isZero();
      assertThat(summary.stored()).isEqualTo(600);
      assertThat(summary.backfilled()).isEqualTo(600);
      assertThat(summary.inserted()).isEqualTo(100);
      assertThat(summary.live()).isEqualTo(100);
      assertThat(sink.distinct()).hasSize(summary.backfilled() + summary.live());
      assertThat(sink.accepted()).as("exactly once: no event arrived twice").hasSize(700);
      assertThat(summary.duplicates()).isEqualTo(sink.duplicates()).isZero();
      assertThat(summary.deadLetters()).isZero();
      assertThat(summary.render())
          .contains("nothing lost.")
          .contains("backfilled to the sink       600 events");
    } finally {
      demo.close();
    }
  }

  /** The same demo on NVSentinel's PostgreSQL store: ./demo.sh --store=postgresql. */
  @Test
  void onPostgresqlTooEveryStoredEventArrivesExactlyOnce() throws Exception {
    Demo demo = new Demo(new DemoOptions(300, 25, 4, 0, 0, 0, true, "", "postgresql", dir));
    try {
      DemoSummary summary = demo.run();
      ReferenceSink sink = demo.sink();

      assertThat(summary.backfillExitCode()).isZero();
      assertThat(summary.backfilled()).isEqualTo(300);
      assertThat(summary.live()).isEqualTo(100);
      assertThat(sink.accepted()).as("exactly once").hasSize(400);
      assertThat(summary.deadLetters()).isZero();
      assertThat(summary.render()).contains("nothing lost.");
    } finally {
      demo.close();
    }
  }

  @Test
  void aSinkOutageInTheMiddleLosesNothing() throws Exception {
    Demo demo = new Demo(new DemoOptions(200, 25, 6, 2, 0, 0, true, "", "mongodb", dir));
    try {
      DemoSummary summary = demo.run();
      assertThat(demo.sink().refused()).as("the outage happened").isPositive();
      assertThat(summary.backfilled()).isEqualTo(200);
      assertThat(summary.live()).isEqualTo(summary.inserted()).isEqualTo(150);
      assertThat(summary.deadLetters()).isZero();
    } finally {
      demo.close();
    }
  }

  @Test
  void withAFilterOnlyTheEventsItKeepsArriveAndTheSummaryCountsTheRest() throws Exception {
    Demo demo =
        new Demo(
            new DemoOptions(
                400, 25, 4, 0, 0, 0, true, "event.recommendedAction != 'NONE'", "mongodb", dir));
    try {
      DemoSummary summary = demo.run();

      assertThat(summary.complete()).as(summary.render()).isTrue();
      assertThat(summary.backfillFiltered()).isPositive();
      assertThat(summary.liveFiltered()).isPositive();
      assertThat(summary.backfilled() + summary.backfillFiltered()).isEqualTo(400);
      assertThat(summary.live() + summary.liveFiltered()).isEqualTo(100);
      assertThat(demo.sink().distinct())
          .hasSize(summary.backfilled() + summary.live())
          .allMatch(
              r ->
                  !r.event()
                      .path("data")
                      .path("healthEvent")
                      .path("recommendedAction")
                      .asString()
                      .equals("NONE"));
      assertThat(summary.render())
          .contains("filtered by the backfill  %6d events".formatted(summary.backfillFiltered()))
          .contains("nothing lost.");
    } finally {
      demo.close();
    }
  }
}
