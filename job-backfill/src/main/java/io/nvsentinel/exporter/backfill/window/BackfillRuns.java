package io.nvsentinel.exporter.backfill.window;

import static io.nvsentinel.exporter.backfill.job.BackfillJobConfiguration.FORCED_AT;
import static io.nvsentinel.exporter.backfill.job.BackfillJobConfiguration.GAP_WINDOW;
import static io.nvsentinel.exporter.backfill.job.BackfillJobConfiguration.JOB;
import static io.nvsentinel.exporter.backfill.job.BackfillJobConfiguration.MAX_EVENTS;
import static io.nvsentinel.exporter.backfill.job.BackfillJobConfiguration.WINDOW_END;
import static io.nvsentinel.exporter.backfill.job.BackfillJobConfiguration.WINDOW_START;

import io.nvsentinel.exporter.backfill.BackfillJobProperties;
import io.nvsentinel.exporter.backfill.job.BackfillProgress;
import io.nvsentinel.exporter.checkpoint.GapWindow;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.config.ExporterProperties;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.JobInstance;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.job.parameters.JobParametersBuilder;
import org.springframework.batch.core.launch.JobOperator;
import org.springframework.batch.core.repository.JobRepository;

/**
 * Runs backfill windows as job instances, one instance per window: a FAILED or STOPPED window run
 * again with the same parameters continues after its last committed chunk; a COMPLETED one runs
 * again only when forced.
 */
public final class BackfillRuns {

  private static final Logger log = LoggerFactory.getLogger(BackfillRuns.class);

  /** The exit code of a window that stopped at maxEvents with events left. */
  public static final String WINDOW_CAPPED = "CAPPED";

  /** One window and how its last run ended. */
  public record WindowStatus(
      String window,
      String kind,
      BatchStatus status,
      long read,
      String exitDescription,
      Long executionId) {}

  private final JobOperator operator;
  private final JobRepository repository;
  private final Job job;
  private final ExporterProperties.Backfill backfill;
  private final BackfillJobProperties settings;
  private final CutoffWaiter cutoff;
  private final GapWindowStore gaps;
  private final WindowLease lease;
  private final Clock clock;

  public BackfillRuns(
      JobOperator operator,
      JobRepository repository,
      Job job,
      ExporterProperties.Backfill backfill,
      BackfillJobProperties settings,
      CutoffWaiter cutoff,
      GapWindowStore gaps,
      WindowLease lease,
      Clock clock) {
    this.operator = operator;
    this.repository = repository;
    this.job = job;
    this.backfill = backfill;
    this.settings = settings;
    this.cutoff = cutoff;
    this.gaps = gaps;
    this.lease = lease;
    this.clock = clock;
  }

  /** The documented default: {@code [end - maxAge, end)}, end being the live exporter's cutoff. */
  public BackfillWindow defaultWindow() {
    Instant end = cutoff.windowEnd();
    return new BackfillWindow(end.minus(backfill.maxAge()), end, backfill.maxEvents(), null);
  }

  /** A window given on the command line; a missing end is the default end. */
  public BackfillWindow explicitWindow(Instant start, Instant end) {
    Instant until = end != null ? end : cutoff.windowEnd();
    Instant from = start != null ? start : until.minus(backfill.maxAge());
    return new BackfillWindow(from, until, backfill.maxEvents(), null);
  }

  /**
   * The most recent window that did not finish, if its run is over (failed, stopped, abandoned).
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
    if (p.getString(GAP_WINDOW) != null) {
      return null;
    }
    return new BackfillWindow(
        Instant.parse(p.getString(WINDOW_START)),
        Instant.parse(p.getString(WINDOW_END)),
        p.getLong(MAX_EVENTS),
        null);
  }

  /** Whether the window already ran to completion. */
  public boolean completed(BackfillWindow window) {
    JobExecution last = repository.getLastJobExecution(JOB, parameters(window, false));
    return last != null && last.getStatus() == BatchStatus.COMPLETED;
  }

  /**
   * Runs the window to its end, or resumes it after its last committed chunk.
   *
   * @throws IllegalStateException when it completed already and {@code force} is false, or when
   *     another process is running it
   */
  public JobExecution run(BackfillWindow window, boolean force) throws Exception {
    JobParameters parameters = parameters(window, force);
    String key = WindowLease.key(parameters);
    JobExecution last = repository.getLastJobExecution(JOB, parameters);
    if (!lease.tryAcquire(key)) {
      throw new IllegalStateException(
          "window "
              + window
              + " is being exported by another run"
              + (last == null ? "" : " (execution " + last.getId() + ")")
              + "; if its process died, its lease expires after exporter.backfill.abandonedAfter ("
              + settings.abandonedAfter()
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
      long cap = gap.kind() == GapWindow.Kind.GAP ? Long.MAX_VALUE : backfill.maxEvents();
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
    for (WindowStatus status : list()) {
      if (status.executionId() == null || !unfinishedStatus(status.status())) {
        continue;
      }
      JobExecution last = repository.getJobExecution(status.executionId());
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
            status.window(),
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

  /** Every window with how it last ended, unfinished ones first, then gap windows not yet run. */
  public List<WindowStatus> list() {
    List<WindowStatus> windows = new ArrayList<>();
    // read once: the kind of every window a gap id names, and which are still pending
    List<GapWindow> recorded = gaps.all();
    Map<String, String> kinds =
        recorded.stream().collect(Collectors.toMap(GapWindow::id, g -> g.kind().label()));
    for (JobInstance instance : repository.findJobInstances(JOB)) {
      JobExecution last = repository.getLastJobExecution(instance);
      if (last == null) {
        continue;
      }
      JobParameters p = last.getJobParameters();
      long read = last.getStepExecutions().stream().mapToLong(s -> s.getReadCount()).sum();
      boolean capped = WINDOW_CAPPED.equals(last.getExitStatus().getExitCode());
      windows.add(
          new WindowStatus(
              "[" + p.getString(WINDOW_START) + ", " + p.getString(WINDOW_END) + ")",
              p.getString(GAP_WINDOW) != null
                  ? kinds.getOrDefault(p.getString(GAP_WINDOW), GapWindow.Kind.GAP.label())
                      + " "
                      + p.getString(GAP_WINDOW)
                  : "window",
              last.getStatus(),
              read,
              (capped ? "capped: " : "") + firstLine(failureReason(last)),
              last.getId()));
    }
    for (GapWindow gap : recorded) {
      if (gap.status() != GapWindow.Status.PENDING) {
        continue;
      }
      String kind = gap.kind().label() + " " + gap.id();
      boolean ran = windows.stream().anyMatch(w -> w.kind().equals(kind));
      if (!ran) {
        windows.add(
            new WindowStatus(
                "[" + gap.start() + ", " + gap.end() + ")", kind, null, 0, gap.reason(), null));
      }
    }
    windows.sort(Comparator.comparingInt(BackfillRuns::urgency));
    return windows;
  }

  private static int urgency(WindowStatus status) {
    if (status.status() == null) {
      return 1;
    }
    return unfinishedStatus(status.status()) ? 0 : 2;
  }

  private static boolean unfinishedStatus(BatchStatus status) {
    return status != null && status != BatchStatus.COMPLETED && status != BatchStatus.ABANDONED;
  }

  JobParameters parameters(BackfillWindow window, boolean force) {
    JobParametersBuilder builder =
        new JobParametersBuilder()
            .addString(WINDOW_START, window.start().toString())
            .addString(WINDOW_END, window.end().toString())
            .addLong(MAX_EVENTS, window.maxEvents());
    if (window.gapWindowId() != null) {
      builder.addString(GAP_WINDOW, window.gapWindowId());
    }
    if (force) {
      builder.addString(FORCED_AT, clock.instant().toString());
    }
    return builder.toJobParameters();
  }

  /** A window marked running whose process no longer renews its lease. */
  private boolean abandoned(JobExecution execution) {
    return !lease.heldByAnother(WindowLease.key(execution.getJobParameters()));
  }

  /**
   * Why a run failed, as an operator can act on it: the innermost cause its step kept (in this
   * process or an earlier one), else the job's exit description.
   */
  public static String failureReason(JobExecution execution) {
    return execution.getStepExecutions().stream()
        .filter(step -> step.getExecutionContext().containsKey(BackfillProgress.FAILURE_REASON))
        .map(step -> step.getExecutionContext().getString(BackfillProgress.FAILURE_REASON))
        .findFirst()
        .orElse(execution.getExitStatus().getExitDescription());
  }

  private static String firstLine(String text) {
    if (text == null || text.isBlank()) {
      return "";
    }
    String line = text.strip().lines().findFirst().orElse("");
    return line.length() > 200 ? line.substring(0, 197) + "..." : line;
  }
}
