package io.nvsentinel.exporter.backfill.orchestration;

import io.nvsentinel.exporter.backfill.job.BackfillJobConfiguration;
import io.nvsentinel.exporter.backfill.window.BackfillWindow;
import io.nvsentinel.exporter.backfill.window.WindowLease;
import io.nvsentinel.exporter.backfill.window.WindowParameters;
import io.nvsentinel.exporter.checkpoint.GapWindow;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.JobInstance;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.launch.JobOperator;
import org.springframework.batch.core.repository.JobRepository;

/**
 * Launches backfill windows as job instances, one instance per window: a FAILED or STOPPED window
 * run again with the same parameters continues after its last committed chunk; a COMPLETED one runs
 * again only when forced. A window runs in one process at a time ({@link WindowLease}).
 */
public final class BackfillRuns {

  private static final Logger log = LoggerFactory.getLogger(BackfillRuns.class);
  private static final String JOB = BackfillJobConfiguration.JOB;

  private final JobOperator operator;
  private final JobRepository repository;
  private final Job job;
  private final long maxEvents;
  private final Duration abandonedAfter;
  private final GapWindowStore gaps;
  private final WindowLease lease;
  private final Clock clock;

  public BackfillRuns(
      JobOperator operator,
      JobRepository repository,
      Job job,
      long maxEvents,
      Duration abandonedAfter,
      GapWindowStore gaps,
      WindowLease lease,
      Clock clock) {
    this.operator = operator;
    this.repository = repository;
    this.job = job;
    this.maxEvents = maxEvents;
    this.abandonedAfter = abandonedAfter;
    this.gaps = gaps;
    this.lease = lease;
    this.clock = clock;
  }

  /**
   * The most recent window that did not finish, if its run is over (failed, stopped, abandoned).
   * Pending windows are not among them: they are run from their own list.
   */
  public BackfillWindow unfinished() {
    JobInstance last = repository.getLastJobInstance(JOB);
    if (last == null) {
      return null;
    }
    JobExecution execution = repository.getLastJobExecution(last);
    if (execution == null || execution.getStatus() == BatchStatus.COMPLETED) {
      return null;
    }
    if (execution.getStatus().isRunning() && !abandoned(execution)) {
      return null;
    }
    JobParameters p = execution.getJobParameters();
    if (WindowParameters.gapWindowId(p).isPresent()) {
      return null;
    }
    return WindowParameters.window(p);
  }

  /** Whether the window already ran to completion. */
  public boolean completed(BackfillWindow window) {
    JobExecution last = repository.getLastJobExecution(JOB, WindowParameters.of(window, null));
    return last != null && last.getStatus() == BatchStatus.COMPLETED;
  }

  /**
   * Runs the window to its end, or resumes it after its last committed chunk.
   *
   * @throws IllegalStateException when it completed already and {@code force} is false, or when
   *     another process is running it
   */
  public JobExecution run(BackfillWindow window, boolean force) throws Exception {
    JobParameters parameters = WindowParameters.of(window, force ? clock.instant() : null);
    String key = WindowLease.key(parameters);
    JobExecution last = repository.getLastJobExecution(JOB, parameters);
    if (!lease.tryAcquire(key)) {
      throw new IllegalStateException(
          "window "
              + window
              + " is being exported by another run"
              + (last == null ? "" : " (execution " + last.getId() + ")")
              + "; if its process died, its lease expires after exporter.backfill.abandonedAfter ("
              + abandonedAfter
              + ") and the window can be resumed");
    }
    try {
      return start(window, force, parameters, last);
    } catch (Exception | Error e) {
      lease.release(key);
      throw e;
    }
  }

  private JobExecution start(
      BackfillWindow window, boolean force, JobParameters parameters, JobExecution last)
      throws Exception {
    if (last != null && last.getStatus().isRunning()) {
      log.warn(
          "execution {} of window {} was abandoned by its process; resuming it",
          last.getId(),
          window);
      operator.recover(last);
    }
    if (last != null && last.getStatus() == BatchStatus.COMPLETED && !force) {
      throw new IllegalStateException(
          "window "
              + window
              + " was exported completely already (execution "
              + last.getId()
              + "); add --force to export it again");
    }
    if (last != null && !force) {
      log.info(
          "resuming window {} after its last committed chunk (execution {} ended {})",
          window,
          last.getId(),
          last.getStatus());
    }
    return operator.start(job, parameters);
  }

  /** The pending windows: gaps the live exporter recorded and remainders of capped windows. */
  public List<GapWindow> pendingWindows() {
    return gaps.pending();
  }

  /**
   * Runs these pending windows, marking each done when it completes. A gap is exported whole —
   * {@code maxEvents} never caps what the live stream lost — and a remainder is capped again. A
   * window whose end is not after its start (clocks far apart when it was recorded) is run as the
   * second before its end rather than refused, so it can never block the runs after it.
   */
  public List<JobExecution> runPendingWindows(List<GapWindow> pending) throws Exception {
    List<JobExecution> runs = new ArrayList<>();
    for (GapWindow gap : pending) {
      Instant start = gap.start();
      if (!start.isBefore(gap.end())) {
        log.warn(
            "pending window {} runs from {} to {}, backwards; exporting the second before its end",
            gap.id(),
            start,
            gap.end());
        start = gap.end().minusSeconds(1);
      }
      long cap = gap.kind() == GapWindow.Kind.GAP ? Long.MAX_VALUE : maxEvents;
      BackfillWindow window = new BackfillWindow(start, gap.end(), cap, gap.id());
      JobExecution execution = completed(window) ? null : run(window, false);
      if (execution == null || execution.getStatus() == BatchStatus.COMPLETED) {
        gaps.markDone(gap.id(), clock.instant());
      }
      if (execution != null) {
        runs.add(execution);
      }
    }
    return runs;
  }

  /** Resumes every window whose last run failed, stopped or was abandoned. */
  public List<JobExecution> rerunFailed() throws Exception {
    List<JobExecution> runs = new ArrayList<>();
    for (JobInstance instance : repository.findJobInstances(JOB)) {
      JobExecution last = repository.getLastJobExecution(instance);
      if (last == null || !unfinished(last.getStatus())) {
        continue;
      }
      if (last.getStatus().isRunning() && !abandoned(last)) {
        continue;
      }
      String key = WindowLease.key(last.getJobParameters());
      if (!lease.tryAcquire(key)) {
        continue;
      }
      try {
        if (last.getStatus().isRunning()) {
          operator.recover(last);
        }
        log.info(
            "resuming window {} (execution {} ended {})",
            WindowParameters.range(last.getJobParameters()),
            last.getId(),
            last.getStatus());
        // the exact parameters, a forced run's included, name the same job instance
        runs.add(operator.start(job, last.getJobParameters()));
      } catch (Exception | Error e) {
        lease.release(key);
        throw e;
      }
    }
    return runs;
  }

  /**
   * Whether a window whose last run ended so can be resumed (ABANDONED is an operator's verdict).
   */
  static boolean unfinished(BatchStatus status) {
    return status != null && status != BatchStatus.COMPLETED && status != BatchStatus.ABANDONED;
  }

  /** A window marked running whose process no longer renews its lease. */
  private boolean abandoned(JobExecution execution) {
    return !lease.heldByAnother(WindowLease.key(execution.getJobParameters()));
  }
}
