package io.nvsentinel.exporter.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

/**
 * The defaults the operator documentation gives, written down once for every test that holds the
 * applications or the chart to them.
 */
public final class DocumentedDefaults {

  public static final ExporterProperties.Backfill BACKFILL =
      new ExporterProperties.Backfill(true, Duration.ofHours(720), 1_000_000, 500, 1000);

  public static final ExporterProperties.FailureHandling FAILURE_HANDLING =
      new ExporterProperties.FailureHandling(17, Duration.ofSeconds(1), Duration.ofMinutes(5), 2.0);

  public static final ExporterProperties.ResumeToken RESUME_TOKEN =
      new ExporterProperties.ResumeToken(
          "HealthEventsDatabase", "ResumeTokens", "exportergaps", "event-exporter");

  public static final Duration SINK_TIMEOUT = Duration.ofSeconds(30);

  public static final int MAX_MESSAGE_LENGTH = 65536;

  private DocumentedDefaults() {}

  /** Asserts every documented default that the given configuration did not set. */
  public static void assertHeldBy(ExporterProperties p) {
    assertThat(p.sink().timeout()).as("exporter.sink.timeout").isEqualTo(SINK_TIMEOUT);
    assertThat(p.sink().insecureSkipVerify()).as("exporter.sink.insecureSkipVerify").isFalse();
    assertThat(p.backfill()).as("exporter.backfill").isEqualTo(BACKFILL);
    assertThat(p.failureHandling()).as("exporter.failureHandling").isEqualTo(FAILURE_HANDLING);
    assertThat(p.resumeToken()).as("exporter.resumeToken").isEqualTo(RESUME_TOKEN);
    assertThat(p.maxMessageLength()).as("exporter.maxMessageLength").isEqualTo(MAX_MESSAGE_LENGTH);
  }
}
