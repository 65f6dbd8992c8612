package io.nvsentinel.exporter.backfill.job;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationPredicate;
import io.nvsentinel.exporter.backfill.config.BackfillJobProperties;
import io.nvsentinel.exporter.backfill.window.BackfillWindow;
import io.nvsentinel.exporter.backfill.window.WindowLease;
import io.nvsentinel.exporter.backfill.window.WindowParameters;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.cloudevent.EventConverter;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import io.nvsentinel.exporter.delivery.EventDeliverer;
import io.nvsentinel.exporter.delivery.RetrySchedule;
import io.nvsentinel.exporter.metrics.ExporterMetric;
import io.nvsentinel.exporter.store.Datastore;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.bson.BsonDocument;
import org.springframework.batch.core.configuration.annotation.StepScope;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.listener.ItemWriteListener;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.Step;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * The backfill job: one chunk-oriented step, reader → processor → writer, {@code
 * backfill.batchSize} events per chunk. The window comes from the job parameters.
 */
@Configuration(proxyBeanMethods = false)
public class BackfillJobConfiguration {

  public static final String JOB = "healthEventBackfill";
  public static final String STEP = "export";

  @Bean
  Job healthEventBackfill(
      JobRepository jobs, Step export, RunningWindow runningWindow, WindowLease lease) {
    return new JobBuilder(JOB, jobs).listener(runningWindow).listener(lease).start(export).build();
  }

  /**
   * No observation of each item read and processed: Spring Batch makes one per item, which with its
   * span and its timer cost about a tenth of the job's CPU (bench/README.md, *Profiles*); the
   * chunk's, the step's and the job's remain, and each event has its own export span when tracing
   * is on.
   */
  @Bean
  ObservationPredicate noItemObservations() {
    return (name, context) -> !name.startsWith(ITEM_OBSERVATIONS);
  }

  static final String ITEM_OBSERVATIONS = "spring.batch.item.";

  @Bean
  WindowLease windowLease(DataSource dataSource, BackfillJobProperties jobProperties, Clock clock) {
    return new WindowLease(dataSource, jobProperties.abandonedAfter(), clock);
  }

  @Bean
  RunningWindow runningWindow() {
    return new RunningWindow();
  }

  @Bean
  Step export(
      JobRepository jobs,
      PlatformTransactionManager transactions,
      ExporterProperties properties,
      WindowItemReader reader,
      DecodeAndMap processor,
      DeliveringWriter writer,
      BackfillProgress progress,
      WindowCap cap,
      WindowLease lease) {
    return new StepBuilder(STEP, jobs)
        .<BsonDocument, OutgoingEvent>chunk(properties.backfill().batchSize())
        .transactionManager(transactions)
        .reader(reader)
        .processor(processor)
        .writer(writer)
        .listener(progress)
        .listener(cap)
        .listener((ItemWriteListener<Object>) lease)
        .build();
  }

  @Bean
  @StepScope
  WindowItemReader reader(
      Datastore datastore,
      ExporterProperties properties,
      @Value("#{jobParameters}") Map<String, Object> jobParameters) {
    BackfillWindow window = WindowParameters.window(jobParameters);
    return WindowItemReader.of(
        datastore.windowReader(
            window.start(), window.end(), window.maxEvents(), properties.backfill().batchSize()));
  }

  @Bean
  @StepScope
  WindowCap cap(
      WindowItemReader reader,
      GapWindowStore gaps,
      ExporterProperties properties,
      @Value("#{jobParameters}") Map<String, Object> jobParameters,
      MeterRegistry meters,
      Clock clock) {
    return new WindowCap(
        reader,
        WindowParameters.window(jobParameters),
        gaps,
        properties.resumeToken().clientName(),
        meters,
        clock);
  }

  @Bean
  DecodeAndMap processor(EventConverter converter, DeadLetterStore deadLetters) {
    return new DecodeAndMap(converter, deadLetters);
  }

  @Bean(destroyMethod = "shutdownNow")
  ExecutorService deliveryPool(BackfillJobProperties jobProperties) {
    return Executors.newFixedThreadPool(jobProperties.concurrency());
  }

  @Bean
  RateLimiter rateLimiter(ExporterProperties properties) {
    return new RateLimiter(properties.backfill().rateLimit());
  }

  @Bean
  DeliveringWriter writer(
      EventDeliverer deliverer,
      RateLimiter rateLimiter,
      ExecutorService deliveryPool,
      ExporterProperties properties,
      MeterRegistry meters) {
    // every event of a chunk may wait its turn at the limiter, then take its whole retry budget;
    // a batch the sink refuses is sent again in halves, each of which may take it again
    ExporterProperties.Batch batch = properties.sink().batch();
    int rounds =
        batch.enabled() ? 1 + 2 * (32 - Integer.numberOfLeadingZeros(batch.maxEvents())) : 1;
    Duration bound =
        new RetrySchedule(properties.failureHandling())
            .worstCase(properties.sink().timeout())
            .multipliedBy(rounds)
            .plus(Duration.ofMinutes(1));
    return new DeliveringWriter(
        deliverer,
        rateLimiter,
        deliveryPool,
        bound,
        batch.enabled() ? batch.maxEvents() : 1,
        meters);
  }

  @Bean
  AtomicInteger backfillInProgress(MeterRegistry meters) {
    AtomicInteger inProgress = new AtomicInteger();
    Gauge.builder(ExporterMetric.BACKFILL_IN_PROGRESS.meterName(), inProgress, AtomicInteger::get)
        .description("1 while a backfill runs")
        .register(meters);
    return inProgress;
  }

  @Bean
  @StepScope
  BackfillProgress progress(
      Clock clock,
      BackfillJobProperties jobProperties,
      Datastore datastore,
      @Value("#{jobParameters}") Map<String, Object> jobParameters,
      MeterRegistry meters,
      AtomicInteger backfillInProgress) {
    BackfillWindow window = WindowParameters.window(jobParameters);
    long inWindow = datastore.count(window.start(), window.end());
    return new BackfillProgress(
        clock,
        jobProperties.progressInterval(),
        Math.min(inWindow, window.maxEvents()),
        window.toString(),
        meters,
        backfillInProgress);
  }
}
