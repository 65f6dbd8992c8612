package io.nvsentinel.exporter.backfill.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.JobInstance;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.step.StepExecution;

class BackfillProgressTest {

  @Test
  void theProgressLineSaysHowFarHowFastAndHowLongToGo() {
    Instant start = Instant.parse("2026-11-27T00:00:00Z");
    BackfillProgress progress =
        new BackfillProgress(
            Clock.fixed(start, ZoneOffset.UTC),
            Duration.ofSeconds(10),
            10_000,
            "[a, b)",
            new SimpleMeterRegistry(),
            new AtomicInteger());
    progress.beforeStep(
        new StepExecution(
            "export", new JobExecution(1L, new JobInstance(1L, "job"), new JobParameters())));
    String line = progress.line(1500, 120, start.plusSeconds(10).toEpochMilli());
    assertThat(line)
        .isEqualTo("backfill [a, b): 1500/10000 events (15%, 120 filtered), 150 events/s, ETA 57s");
  }
}
