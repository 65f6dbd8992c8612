package io.nvsentinel.exporter.backfill.command;

import io.nvsentinel.exporter.backfill.BackfillJobProperties;
import io.nvsentinel.exporter.backfill.job.RunningWindow;
import io.nvsentinel.exporter.backfill.window.BackfillRuns;
import io.nvsentinel.exporter.backfill.window.BackfillWindow;
import io.nvsentinel.exporter.checkpoint.GapWindow;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.delivery.DeadLetterRedrive;
import io.nvsentinel.exporter.delivery.DeadLetterStore;
import java.io.PrintStream;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.launch.JobOperator;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.ExitCodeGenerator;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The job's command line:
 *
 * <ul>
 *   <li>{@code run} (default): the default window (or {@code --window-start}/{@code --window-end}),
 *       resuming the last unfinished one first, then every pending gap window;
 *   <li>{@code list}: every window with its status, unfinished first;
 *   <li>{@code rerun-failed}: resume every failed, stopped or abandoned window;
 *   <li>{@code redrive-dead-letters} [{@code --limit=N}]: send dead letters again.
 * </ul>
 *
 * Exit status 0 on success, 1 with a one-line reason on failure, 2 for a usage error.
 */
public final class BackfillCommandLine implements ApplicationRunner, ExitCodeGenerator {

  private static final Logger log = LoggerFactory.getLogger(BackfillCommandLine.class);
  static final Set<String> COMMANDS = Set.of("run", "list", "rerun-failed", "redrive-dead-letters");

  private final BackfillRuns runs;
  private final ExporterProperties.Backfill backfill;
  private final BackfillJobProperties settings;
  private final DeadLetterRedrive redrive;
  private final DeadLetterStore deadLetters;
  private final JobOperator operator;
  private final RunningWindow runningWindow;
  private final ConfigurableApplicationContext context;
  private final PrintStream out;
  private final PrintStream err;
  private volatile int exitCode;

  public BackfillCommandLine(
      BackfillRuns runs,
      ExporterProperties.Backfill backfill,
      BackfillJobProperties settings,
      DeadLetterRedrive redrive,
      DeadLetterStore deadLetters,
      JobOperator operator,
      RunningWindow runningWindow,
      ConfigurableApplicationContext context) {
    this.runs = runs;
    this.backfill = backfill;
    this.settings = settings;
    this.redrive = redrive;
    this.deadLetters = deadLetters;
    this.operator = operator;
    this.runningWindow = runningWindow;
    this.context = context;
    this.out = System.out;
    this.err = System.err;
  }

  @Override
  public void run(ApplicationArguments args) {
    List<String> commands = args.getNonOptionArgs();
    String command = commands.isEmpty() ? "run" : commands.get(0);
    if (!COMMANDS.contains(command) || commands.size() > 1) {
      fail(
          2,
          "usage: backfill [run|list|rerun-failed|redrive-dead-letters] [--window-start=ISO-8601] [--window-end=ISO-8601] [--force] [--limit=N]; got "
              + commands);
      return;
    }
    Thread hook = new Thread(this::stopGracefully, "backfill-sigterm");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      switch (command) {
        case "list" -> list();
        case "rerun-failed" -> finish(runs.rerunFailed());
        case "redrive-dead-letters" -> redrive(args);
        default -> runWindows(args);
      }
    } catch (IllegalArgumentException | IllegalStateException | DateTimeParseException e) {
      fail(1, e.getMessage());
    } catch (Exception e) {
      fail(1, e.getClass().getSimpleName() + ": " + e.getMessage());
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running: it closes the context once the job has stopped
      }
    }
  }

  private void runWindows(ApplicationArguments args) throws Exception {
    if (!backfill.enabled()) {
      out.println("backfill is disabled (exporter.backfill.enabled=false); nothing to do");
      return;
    }
    List<JobExecution> executions = new ArrayList<>();
    // windows recorded from here on (the rest of a capped window) wait for the next run
    List<GapWindow> pending = runs.pendingWindows();
    Instant start = instant(args, "window-start");
    Instant end = instant(args, "window-end");
    boolean force = args.containsOption("force");
    if (start != null || end != null) {
      executions.add(runs.run(runs.explicitWindow(start, end), force));
    } else {
      // the last unfinished window first; the next run moves on to a new default window
      BackfillWindow unfinished = runs.unfinished();
      BackfillWindow window = unfinished != null ? unfinished : runs.defaultWindow();
      if (unfinished == null && runs.completed(window) && !force) {
        out.println(
            "window "
                + window
                + " was exported completely already; nothing to do (--force exports it again)");
      } else {
        executions.add(runs.run(window, force && unfinished == null));
      }
    }
    if (executions.stream().allMatch(e -> e.getStatus() == BatchStatus.COMPLETED)) {
      executions.addAll(runs.runPendingWindows(pending));
    }
    finish(executions);
  }

  private void list() {
    List<BackfillRuns.WindowStatus> windows = runs.list();
    if (windows.isEmpty()) {
      out.println("no backfill windows yet");
    }
    for (BackfillRuns.WindowStatus w : windows) {
      out.printf(
          "%-10s %-62s %-36s read=%d%s%n",
          w.status() == null ? "PENDING" : w.status(),
          w.window(),
          w.kind(),
          w.read(),
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
        String reason = BackfillRuns.failureReason(execution);
        fail(
            1,
            "window execution "
                + execution.getId()
                + " ended "
                + execution.getStatus()
                + (reason == null || reason.isBlank()
                    ? ""
                    : ": " + reason.strip().lines().findFirst().orElse(""))
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

  /** On SIGTERM: stop the running window after its current chunk, then close the application. */
  private void stopGracefully() {
    try {
      JobExecution running = runningWindow.get();
      if (running != null && running.isRunning()) {
        log.warn("SIGTERM: stopping window execution {} after its current chunk", running.getId());
        operator.stop(running);
        boolean ended = runningWindow.awaitEnd(settings.stopTimeout());
        log.warn(
            "window execution {} {}{}; run the same command again to resume it",
            running.getId(),
            running.getStatus(),
            ended ? "" : " (its chunk did not end within exporter.backfill.stopTimeout)");
      }
    } catch (Exception e) {
      log.warn("could not stop the running window cleanly", e);
    } finally {
      context.close();
    }
  }

  @Override
  public int getExitCode() {
    return exitCode;
  }
}
