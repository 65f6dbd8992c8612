package io.nvsentinel.exporter.backfill.orchestration;

import io.nvsentinel.exporter.backfill.window.BackfillWindow;
import io.nvsentinel.exporter.checkpoint.GapWindow;
import io.nvsentinel.exporter.config.ExporterProperties;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;

/**
 * Decides which windows a {@code run} exports, in order: the window given on the command line, or
 * else the last unfinished window, or else the documented default window (none when the live
 * exporter took over from the replaced exporter, which exported that history); then — only when
 * those completed — every pending window (gaps the live exporter recorded, remainders of capped
 * windows).
 */
public final class RunPlanner {

  /**
   * What a run did.
   *
   * @param executions the windows it ran, in order
   * @param note why the default window did not run, or {@code null}
   */
  public record Outcome(List<JobExecution> executions, String note) {}

  private final BackfillRuns runs;
  private final CutoffWaiter cutoff;
  private final ExporterProperties.Backfill backfill;

  public RunPlanner(BackfillRuns runs, CutoffWaiter cutoff, ExporterProperties.Backfill backfill) {
    this.runs = runs;
    this.cutoff = cutoff;
    this.backfill = backfill;
  }

  /** The documented default: {@code [end - maxAge, end)}, end being the live exporter's cutoff. */
  public BackfillWindow defaultWindow() {
    return explicitWindow(null, null);
  }

  /** A window given on the command line; a missing end is the default end. */
  public BackfillWindow explicitWindow(Instant start, Instant end) {
    Instant until = end != null ? end : cutoff.windowEnd();
    Instant from = start != null ? start : until.minus(backfill.maxAge());
    return new BackfillWindow(from, until, backfill.maxEvents(), null);
  }

  /**
   * Runs what {@code run} runs.
   *
   * @param start the window's start from the command line, or {@code null}
   * @param end the window's end from the command line, or {@code null}
   * @param force export a completed window again
   */
  public Outcome run(Instant start, Instant end, boolean force) throws Exception {
    if (!backfill.enabled()) {
      return new Outcome(
          List.of(), "backfill is disabled (exporter.backfill.enabled=false); nothing to do");
    }
    // windows recorded from here on (the rest of a window capped now) wait for the next run
    List<GapWindow> pending = runs.pendingWindows();
    List<JobExecution> executions = new ArrayList<>();
    String nothingToDo = null;
    if (start != null || end != null) {
      executions.add(runs.run(explicitWindow(start, end), force));
    } else {
      // the last unfinished window first; the next run moves on to a new default window
      BackfillWindow unfinished = runs.unfinished();
      Optional<Instant> takenOver = unfinished == null ? cutoff.takenOverAt() : Optional.empty();
      if (takenOver.isPresent()) {
        nothingToDo =
            "the live exporter took over from the replaced exporter at "
                + takenOver.get()
                + ", which had exported the history before; no default window (give"
                + " --window-start and --window-end to export one anyway)";
      } else if (unfinished != null) {
        executions.add(runs.run(unfinished, false));
      } else {
        BackfillWindow window = defaultWindow();
        if (!force && runs.completed(window)) {
          nothingToDo =
              "window "
                  + window
                  + " was exported completely already; nothing to do (--force exports it again)";
        } else {
          executions.add(runs.run(window, force));
        }
      }
    }
    if (executions.stream().allMatch(e -> e.getStatus() == BatchStatus.COMPLETED)) {
      executions.addAll(runs.runPendingWindows(pending));
    }
    return new Outcome(executions, nothingToDo);
  }
}
