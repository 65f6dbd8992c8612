package io.nvsentinel.exporter.backfill.command;

import io.nvsentinel.exporter.backfill.job.BackfillProgress;
import io.nvsentinel.exporter.backfill.orchestration.BackfillRuns;
import io.nvsentinel.exporter.backfill.orchestration.RunPlanner;
import io.nvsentinel.exporter.backfill.orchestration.StopOnSigterm;
import io.nvsentinel.exporter.backfill.orchestration.UnfinishedWindows;
import io.nvsentinel.exporter.backfill.orchestration.WindowListing;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import io.nvsentinel.exporter.delivery.DeadLetterRedrive;
import java.io.PrintStream;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.ExitCodeGenerator;

/**
 * The job's command line: one of {@link BackfillCommand} (default {@code run}) and its options.
 * Exit status 0 on success, 1 with a one-line reason on failure, 2 for a usage error (and, from
 * {@code BackfillApplication}, for a configuration error: both are beyond what a rerun can mend).
 */
public final class BackfillCommandLine implements ApplicationRunner, ExitCodeGenerator {

  private final RunPlanner planner;
  private final BackfillRuns runs;
  private final WindowListing listing;
  private final DeadLetterRedrive redrive;
  private final DeadLetterStore deadLetters;
  private final StopOnSigterm sigterm;
  private final PrintStream out = System.out;
  private final PrintStream err = System.err;

  /** Exit status of a usage error: a command or argument this job does not know. */
  public static final int USAGE_ERROR = 2;

  private final UnfinishedWindows unfinished;
  private volatile int exitCode;

  public BackfillCommandLine(
      RunPlanner planner,
      BackfillRuns runs,
      WindowListing listing,
      DeadLetterRedrive redrive,
      DeadLetterStore deadLetters,
      StopOnSigterm sigterm,
      UnfinishedWindows unfinished) {
    this.planner = planner;
    this.unfinished = unfinished;
    this.runs = runs;
    this.listing = listing;
    this.redrive = redrive;
    this.deadLetters = deadLetters;
    this.sigterm = sigterm;
  }

  @Override
  public void run(ApplicationArguments args) {
    List<String> words = args.getNonOptionArgs();
    Optional<BackfillCommand> command =
        words.isEmpty() ? Optional.of(BackfillCommand.RUN) : BackfillCommand.named(words.get(0));
    if (command.isEmpty() || words.size() > 1) {
      fail(USAGE_ERROR, BackfillCommand.usage() + "; got " + words);
      return;
    }
    try {
      sigterm.around(
          () -> {
            switch (command.get()) {
              case LIST -> list();
              case RERUN_FAILED -> finish(runs.rerunFailed());
              case REDRIVE_DEAD_LETTERS -> redrive(args);
              case RUN -> runPlanned(args);
            }
          });
    } catch (IllegalArgumentException | IllegalStateException | DateTimeParseException e) {
      fail(1, e.getMessage());
    } catch (Exception e) {
      fail(1, e.getClass().getSimpleName() + ": " + e.getMessage());
    }
    try {
      unfinished.update();
    } catch (RuntimeException e) {
      err.println("backfill: could not count the unfinished windows: " + e.getMessage());
    }
  }

  private void runPlanned(ApplicationArguments args) throws Exception {
    RunPlanner.Outcome outcome =
        planner.run(
            instant(args, "window-start"),
            instant(args, "window-end"),
            args.containsOption("force"));
    if (outcome.note() != null) {
      out.println(outcome.note());
    }
    if (!outcome.executions().isEmpty()) {
      finish(outcome.executions());
    }
  }

  private void list() {
    List<WindowListing.WindowStatus> windows = listing.list();
    if (windows.isEmpty()) {
      out.println("no backfill windows yet");
    }
    for (WindowListing.WindowStatus w : windows) {
      out.printf(
          "%-10s %-62s %-36s read=%d filtered=%d%s%n",
          w.status() == null ? "PENDING" : w.status(),
          w.window(),
          w.kind(),
          w.read(),
          w.filtered(),
          w.exitDescription().isEmpty() ? "" : "  " + w.exitDescription());
    }
    out.printf("%d dead letters%n", deadLetters.count());
  }

  private void redrive(ApplicationArguments args) {
    int limit =
        args.containsOption("limit")
            ? Integer.parseInt(args.getOptionValues("limit").get(0))
            : 10_000;
    DeadLetterRedrive.Report report = redrive.redrive(limit);
    out.printf(
        "re-drove dead letters: %d delivered, %d failed again, %d undecodable left for fixing%n",
        report.delivered(), report.failedAgain(), report.skippedUndecodable());
    if (report.failedAgain() > 0) {
      exitCode = 1;
    }
  }

  private void finish(List<JobExecution> executions) {
    for (JobExecution execution : executions) {
      if (execution.getStatus() != BatchStatus.COMPLETED) {
        String reason = BackfillProgress.failureReason(execution);
        reason = reason == null ? "" : reason.strip().lines().findFirst().orElse("");
        fail(
            1,
            "window execution "
                + execution.getId()
                + " ended "
                + execution.getStatus()
                + (reason.isEmpty() ? "" : ": " + reason)
                + "; run the same command again to resume it");
        return;
      }
    }
    out.printf("%d window(s) exported completely%n", executions.size());
  }

  private static Instant instant(ApplicationArguments args, String name) {
    if (!args.containsOption(name)) {
      return null;
    }
    String value = args.getOptionValues(name).get(0);
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "--"
              + name
              + " must be an ISO-8601 instant such as 2026-11-01T00:00:00Z, got '"
              + value
              + "'");
    }
  }

  private void fail(int code, String reason) {
    exitCode = code;
    err.println("backfill failed: " + reason);
  }

  @Override
  public int getExitCode() {
    return exitCode;
  }
}
