package io.nvsentinel.exporter.backfill;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nvsentinel.exporter.backfill.command.BackfillCommandLine;
import io.nvsentinel.exporter.backfill.job.RunningWindow;
import io.nvsentinel.exporter.backfill.window.BackfillRuns;
import io.nvsentinel.exporter.backfill.window.CutoffWaiter;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.delivery.DeadLetterStore;
import io.nvsentinel.exporter.delivery.EventDeliverer;
import java.time.Clock;
import java.time.Duration;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.launch.JobOperator;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

/** The backfill job: exports the stored history of health events over a time window. */
@SpringBootApplication
@EnableConfigurationProperties(BackfillJobProperties.class)
public class BackfillApplication {

  public static void main(String[] args) {
    System.exit(SpringApplication.exit(SpringApplication.run(BackfillApplication.class, args)));
  }

  /** Counts for the run's summary and tests; a Job has no scrape endpoint. */
  @Bean
  @ConditionalOnMissingBean
  MeterRegistry meterRegistry() {
    return new SimpleMeterRegistry();
  }

  @Bean
  CutoffWaiter cutoffWaiter(
      CheckpointStore checkpoints,
      ExporterProperties properties,
      BackfillJobProperties job,
      Clock clock) {
    return new CutoffWaiter(
        checkpoints,
        properties.resumeToken().clientName(),
        job.waitForCutoff(),
        Duration.ofSeconds(1),
        clock);
  }

  @Bean
  BackfillRuns backfillRuns(
      JobOperator operator,
      JobRepository repository,
      Job healthEventBackfill,
      ExporterProperties properties,
      BackfillJobProperties job,
      CutoffWaiter cutoffWaiter,
      GapWindowStore gaps,
      Clock clock) {
    return new BackfillRuns(
        operator,
        repository,
        healthEventBackfill,
        properties.backfill(),
        job,
        cutoffWaiter,
        gaps,
        clock);
  }

  @Bean
  BackfillCommandLine backfillCommandLine(
      BackfillRuns runs,
      ExporterProperties properties,
      BackfillJobProperties job,
      EventDeliverer deliverer,
      DeadLetterStore deadLetters,
      JobOperator operator,
      RunningWindow runningWindow,
      ConfigurableApplicationContext context) {
    return new BackfillCommandLine(
        runs, properties.backfill(), job, deliverer, deadLetters, operator, runningWindow, context);
  }
}
