package io.nvsentinel.exporter.backfill.job;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.nvsentinel.exporter.cloudevent.OutgoingEvent;
import io.nvsentinel.exporter.delivery.DeliveryExhaustedException;
import io.nvsentinel.exporter.metrics.ExporterMetric;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.ExitStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.listener.ChunkListener;
import org.springframework.batch.core.listener.StepExecutionListener;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.infrastructure.item.Chunk;

/**
 * Says how the backfill is going: a log line at a fixed interval with processed/total, rate and
 * ETA, and the metrics of the exporter we replace ({@code backfill_in_progress}, {@code
 * backfill_events_processed_total}, {@code backfill_duration_seconds}).
 */
public class BackfillProgress
    implements StepExecutionListener, ChunkListener<Object, OutgoingEvent> {

  private static final Logger log = LoggerFactory.getLogger(BackfillProgress.class);

  /** The replaced exporter's buckets for the backfill's duration. */
  private static final Duration[] DURATION_BUCKETS =
      LongStream.of(1, 5, 10, 30, 60, 300, 600, 1800, 3600)
          .mapToObj(Duration::ofSeconds)
          .toArray(Duration[]::new);

  /** Step execution-context key of the innermost cause of a failed run. */
  static final String FAILURE_REASON = "backfill.failureReason";

  private final Clock clock;
  private final Duration interval;
  private final long total;
  private final String window;
  private final AtomicInteger inProgress;
  private final Counter processed;
  private final Timer duration;
  private StepExecution step;
  private long startedMillis;
  private long startReadCount;
  private long lastLogMillis;
  private long counted;

  BackfillProgress(
      Clock clock,
      Duration interval,
      long total,
      String window,
      MeterRegistry meters,
      AtomicInteger inProgress) {
    this.clock = clock;
    this.interval = interval;
    this.total = total;
    this.window = window;
    this.inProgress = inProgress;
    this.processed =
        Counter.builder(ExporterMetric.BACKFILL_EVENTS_READ.meterName())
            .description("Events the backfill read, whatever became of them")
            .register(meters);
    this.duration =
        Timer.builder(ExporterMetric.BACKFILL_DURATION.meterName())
            .description("Duration of backfill windows that completed")
            .serviceLevelObjectives(DURATION_BUCKETS)
            .register(meters);
  }

  @Override
  public void beforeStep(StepExecution stepExecution) {
    step = stepExecution;
    startedMillis = clock.millis();
    lastLogMillis = startedMillis;
    startReadCount = stepExecution.getReadCount();
    counted = stepExecution.getReadCount();
    inProgress.set(1);
    log.info("backfill of {} started: {} events to export", window, total);
  }

  @Override
  public void afterChunk(Chunk<OutgoingEvent> chunk) {
    long read = step.getReadCount();
    processed.increment(Math.max(0, read - counted));
    counted = read;
    long now = clock.millis();
    if (now - lastLogMillis >= interval.toMillis()) {
      lastLogMillis = now;
      log.info(line(read, DecodeAndMap.filtered(step.getExecutionContext()), now));
    }
  }

  String line(long read, long filtered, long now) {
    double seconds = Math.max(0.001, (now - startedMillis) / 1000.0);
    double rate = (read - startReadCount) / seconds;
    long left = Math.max(0, total - read);
    String eta =
        rate > 0
            ? Duration.ofSeconds((long) Math.ceil(left / rate))
                .toString()
                .substring(2)
                .toLowerCase()
            : "unknown";
    return String.format(
        "backfill %s: %d/%d events (%.0f%%, %d filtered), %.0f events/s, ETA %s",
        window, read, total, total == 0 ? 100.0 : 100.0 * read / total, filtered, rate, eta);
  }

  @Override
  public ExitStatus afterStep(StepExecution stepExecution) {
    long read = stepExecution.getReadCount();
    processed.increment(Math.max(0, read - counted));
    counted = read;
    inProgress.set(0);
    if (stepExecution.getStatus() == BatchStatus.COMPLETED) {
      // as the replaced exporter observes it: once per backfill that ran to its end
      duration.record(Duration.ofMillis(clock.millis() - startedMillis));
    }
    long filtered = DecodeAndMap.filtered(stepExecution.getExecutionContext());
    log.info(
        "backfill of {} {}: {} read, {} delivered or dead-lettered, {} filtered, {} undecodable"
            + " set aside",
        window,
        stepExecution.getStatus(),
        read,
        stepExecution.getWriteCount(),
        filtered,
        Math.max(0, stepExecution.getFilterCount() - filtered));
    if (!stepExecution.getFailureExceptions().isEmpty()) {
      // kept with the step for `list` in a later run: what an operator can act on, not the
      // wrappers around it
      Throwable root = stepExecution.getFailureExceptions().get(0);
      while (root.getCause() != null
          && root.getCause() != root
          && !(root instanceof DeliveryExhaustedException)) {
        root = root.getCause();
      }
      stepExecution
          .getExecutionContext()
          .putString(FAILURE_REASON, String.valueOf(root.getMessage()));
    }
    return stepExecution.getExitStatus();
  }

  /**
   * The events {@code exporter.filter.expression} dropped in the window of {@code execution}, as
   * far as its chunks committed (a restarted window goes on counting where it stopped).
   */
  public static long filtered(JobExecution execution) {
    return execution.getStepExecutions().stream()
        .mapToLong(step -> DecodeAndMap.filtered(step.getExecutionContext()))
        .sum();
  }

  /**
   * Why a run failed, as an operator can act on it: the innermost cause its step kept (in this
   * process or an earlier one), else the job's exit description.
   */
  public static String failureReason(JobExecution execution) {
    return execution.getStepExecutions().stream()
        .filter(step -> step.getExecutionContext().containsKey(FAILURE_REASON))
        .map(step -> step.getExecutionContext().getString(FAILURE_REASON))
        .findFirst()
        .orElse(execution.getExitStatus().getExitDescription());
  }
}
