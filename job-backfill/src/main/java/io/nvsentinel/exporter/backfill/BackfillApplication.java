package io.nvsentinel.exporter.backfill;

import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.backfill.command.BackfillCommandLine;
import io.nvsentinel.exporter.backfill.config.BackfillJobProperties;
import io.nvsentinel.exporter.backfill.job.RunningWindow;
import io.nvsentinel.exporter.backfill.orchestration.BackfillRuns;
import io.nvsentinel.exporter.backfill.orchestration.CutoffWaiter;
import io.nvsentinel.exporter.backfill.orchestration.RunPlanner;
import io.nvsentinel.exporter.backfill.orchestration.StopOnSigterm;
import io.nvsentinel.exporter.backfill.orchestration.UnfinishedWindows;
import io.nvsentinel.exporter.backfill.orchestration.WindowListing;
import io.nvsentinel.exporter.backfill.window.WindowLease;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import io.nvsentinel.exporter.delivery.DeadLetterRedrive;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.launch.JobOperator;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

/** The backfill job: exports the stored history of health events over a time window. */
@SpringBootApplication
@EnableConfigurationProperties(BackfillJobProperties.class)
public class BackfillApplication {

  /**
   * The job's own defaults. They live here, as default properties (the lowest precedence), rather
   * than in an {@code application.yml}: an operator's {@code application.yml}, environment or
   * arguments override them, and the backfill job and the live exporter can share one class path
   * (the demo, the benchmarks) without one's file hiding the other's.
   */
  static final Map<String, Object> DEFAULTS =
      Map.ofEntries(
          Map.entry("spring.application.name", "event-exporter-backfill"),
          Map.entry("spring.main.banner-mode", "off"),
          Map.entry("spring.main.web-application-type", "none"),
          // the job's own SIGTERM hook stops the running window, then closes the context
          Map.entry("spring.main.register-shutdown-hook", "false"),
          // ... and still logs while it does
          Map.entry("logging.register-shutdown-hook", "false"),
          // the command line decides what runs
          Map.entry("spring.batch.job.enabled", "false"),
          Map.entry("spring.batch.jdbc.initialize-schema", "always"),
          // a Job has no scrape endpoint: with a Pushgateway address (opt-in,
          // management.prometheus.metrics.export.pushgateway.enabled) its metrics are pushed while
          // it runs and once more as it exits, under this job name
          Map.entry(
              "management.prometheus.metrics.export.pushgateway.job", "event-exporter-backfill"),
          Map.entry("management.prometheus.metrics.export.pushgateway.shutdown-operation", "put"),
          Map.entry("management.prometheus.metrics.export.pushgateway.push-rate", "30s"),
          // WRITE_DELAY=0: a commit is on disk before the chunk counts as done, so a killed pod
          // resumes exactly after its last committed chunk
          Map.entry(
              "spring.datasource.url",
              "jdbc:h2:file:${exporter.backfill.job-repository-path:./backfill-job-repository}/jobs;"
                  + "DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0"),
          Map.entry("spring.datasource.username", "sa"),
          Map.entry("spring.datasource.password", ""));

  /** The job with its defaults, for {@code main}, tests and the demo. */
  public static SpringApplicationBuilder application() {
    return new SpringApplicationBuilder(BackfillApplication.class).properties(DEFAULTS);
  }

  /**
   * Exit status of a start-up that failed on its configuration (a key no application reads, a value
   * out of range): rerunning cannot help, so a Kubernetes Job's {@code podFailurePolicy} fails at
   * once on it instead of retrying {@code backoffLimit} times. The same as a usage error.
   */
  public static final int CONFIGURATION_ERROR = BackfillCommandLine.USAGE_ERROR;

  /**
   * Exit status when another run holds the job repository (an upgrade's Job beside a scheduled run,
   * a manual rerun beside either): nothing was done and nothing is wrong, so the chart's {@code
   * podFailurePolicy} retries it later without counting it as a failure.
   */
  public static final int REPOSITORY_HELD = 3;

  /** H2's error code for a database file locked by another process. */
  static final int H2_DATABASE_IN_USE = 90020;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the job's command line; returns its exit status. */
  static int run(String[] args) {
    ConfigurableApplicationContext context;
    try {
      context = application().run(args);
    } catch (RuntimeException e) {
      if (configurationError(e)) {
        // Spring Boot has already said what is wrong, naming the key, the value and the fix
        return CONFIGURATION_ERROR;
      }
      if (repositoryHeld(e)) {
        System.err.println(
            "backfill: another run holds the job repository (a scheduled run, an upgrade's Job or"
                + " a rerun); nothing was done, exiting "
                + REPOSITORY_HELD
                + " to be tried again once it is done. One writer at a time is what keeps the"
                + " record of exported windows whole; a PostgreSQL job repository"
                + " (backfillJob.datasource) lets runs queue for each window instead");
        return REPOSITORY_HELD;
      }
      throw e;
    }
    return SpringApplication.exit(context);
  }

  static boolean configurationError(Throwable failure) {
    return causes(failure).anyMatch(t -> t instanceof BindException);
  }

  static boolean repositoryHeld(Throwable failure) {
    return causes(failure)
        .anyMatch(t -> t instanceof SQLException sql && sql.getErrorCode() == H2_DATABASE_IN_USE);
  }

  private static Stream<Throwable> causes(Throwable failure) {
    return Stream.iterate(failure, t -> t != null, t -> t.getCause() == t ? null : t.getCause());
  }

  @Bean
  CutoffWaiter cutoffWaiter(
      CheckpointStore checkpoints,
      ExporterProperties properties,
      BackfillJobProperties jobProperties,
      Clock clock) {
    return new CutoffWaiter(
        checkpoints,
        properties.resumeToken().clientName(),
        jobProperties.waitForCutoff(),
        Duration.ofSeconds(1),
        clock);
  }

  @Bean
  BackfillRuns backfillRuns(
      JobOperator operator,
      JobRepository repository,
      Job healthEventBackfill,
      ExporterProperties properties,
      BackfillJobProperties jobProperties,
      GapWindowStore gaps,
      WindowLease lease,
      Clock clock) {
    return new BackfillRuns(
        operator,
        repository,
        healthEventBackfill,
        properties.backfill().maxEvents(),
        jobProperties.abandonedAfter(),
        gaps,
        lease,
        clock);
  }

  @Bean
  BackfillCommandLine backfillCommandLine(
      BackfillRuns runs,
      CutoffWaiter cutoffWaiter,
      JobRepository repository,
      GapWindowStore gaps,
      ExporterProperties properties,
      BackfillJobProperties jobProperties,
      DeadLetterRedrive redrive,
      DeadLetterStore deadLetters,
      JobOperator operator,
      RunningWindow runningWindow,
      MeterRegistry meters,
      ConfigurableApplicationContext context) {
    WindowListing listing = new WindowListing(repository, gaps);
    return new BackfillCommandLine(
        new RunPlanner(runs, cutoffWaiter, properties.backfill()),
        runs,
        listing,
        redrive,
        deadLetters,
        new StopOnSigterm(operator, runningWindow, jobProperties.stopTimeout(), context),
        new UnfinishedWindows(listing, meters));
  }
}
