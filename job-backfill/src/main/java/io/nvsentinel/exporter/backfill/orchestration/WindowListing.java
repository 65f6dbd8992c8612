package io.nvsentinel.exporter.backfill.orchestration;

import io.nvsentinel.exporter.backfill.job.BackfillJobConfiguration;
import io.nvsentinel.exporter.backfill.job.BackfillProgress;
import io.nvsentinel.exporter.backfill.job.WindowCap;
import io.nvsentinel.exporter.backfill.window.WindowParameters;
import io.nvsentinel.exporter.checkpoint.GapWindow;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.JobInstance;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.repository.JobRepository;

/** What {@code list} shows: every window with how its last run ended, unfinished ones first. */
public final class WindowListing {

  /**
   * One window and how its last run ended.
   *
   * @param status {@code null} for a pending window that has not run yet
   * @param kind {@code window}, or the kind and id of the pending window it runs
   * @param read events its last run read
   * @param filtered events {@code exporter.filter.expression} dropped over all its runs (a rerun
   *     goes on counting where the last committed chunk left it)
   */
  public record WindowStatus(
      String window,
      String kind,
      BatchStatus status,
      long read,
      long filtered,
      String exitDescription,
      Long executionId) {}

  private final JobRepository repository;
  private final GapWindowStore gaps;

  public WindowListing(JobRepository repository, GapWindowStore gaps) {
    this.repository = repository;
    this.gaps = gaps;
  }

  /**
   * Every window with how it last ended, unfinished ones first, then pending windows not yet run.
   */
  public List<WindowStatus> list() {
    List<WindowStatus> windows = new ArrayList<>();
    // read once: the kind of every window a pending-window id names, and which are still pending
    List<GapWindow> recorded = gaps.all();
    Map<String, GapWindow> byId =
        recorded.stream().collect(Collectors.toMap(GapWindow::id, Function.identity()));
    for (JobInstance instance : repository.findJobInstances(BackfillJobConfiguration.JOB)) {
      JobExecution last = repository.getLastJobExecution(instance);
      if (last == null) {
        continue;
      }
      JobParameters p = last.getJobParameters();
      long read = last.getStepExecutions().stream().mapToLong(s -> s.getReadCount()).sum();
      boolean capped = WindowCap.CAPPED.equals(last.getExitStatus().getExitCode());
      Optional<String> pending = WindowParameters.gapWindowId(p);
      windows.add(
          new WindowStatus(
              WindowParameters.range(p),
              pending
                  .map(
                      id ->
                          kind(byId.containsKey(id) ? byId.get(id).kind() : GapWindow.Kind.GAP, id))
                  .orElse("window"),
              last.getStatus(),
              read,
              BackfillProgress.filtered(last),
              (capped ? "capped: " : "") + firstLine(BackfillProgress.failureReason(last)),
              last.getId()));
    }
    for (GapWindow gap : recorded) {
      if (gap.status() != GapWindow.Status.PENDING) {
        continue;
      }
      String kind = kind(gap.kind(), gap.id());
      if (windows.stream().noneMatch(w -> w.kind().equals(kind))) {
        windows.add(
            new WindowStatus(
                "[" + gap.start() + ", " + gap.end() + ")", kind, null, 0, 0, gap.reason(), null));
      }
    }
    windows.sort(Comparator.comparingInt(WindowListing::urgency));
    return windows;
  }

  private static String kind(GapWindow.Kind kind, String id) {
    return kind.label() + " " + id;
  }

  private static int urgency(WindowStatus status) {
    if (status.status() == null) {
      return 1;
    }
    return BackfillRuns.unfinished(status.status()) ? 0 : 2;
  }

  /** The first line of a reason, at most 200 characters; empty for none. */
  public static String firstLine(String text) {
    if (text == null || text.isBlank()) {
      return "";
    }
    String line = text.strip().lines().findFirst().orElse("");
    return line.length() > 200 ? line.substring(0, 197) + "..." : line;
  }
}
