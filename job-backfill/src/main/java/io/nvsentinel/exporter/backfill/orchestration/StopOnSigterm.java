package io.nvsentinel.exporter.backfill.orchestration;

import io.nvsentinel.exporter.backfill.job.RunningWindow;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.launch.JobOperator;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * On SIGTERM (a pod being deleted or evicted), stops the running window after its current chunk,
 * waits up to {@code exporter.backfill.stopTimeout} for that chunk to commit, then closes the
 * application. The window ends STOPPED and the same command resumes it. Spring Batch 6 leaves this
 * hook to the application; Spring Boot's own hook would close the context under the running chunk.
 */
public final class StopOnSigterm {

  private static final Logger log = LoggerFactory.getLogger(StopOnSigterm.class);

  private final JobOperator operator;
  private final RunningWindow runningWindow;
  private final Duration stopTimeout;
  private final ConfigurableApplicationContext context;

  public StopOnSigterm(
      JobOperator operator,
      RunningWindow runningWindow,
      Duration stopTimeout,
      ConfigurableApplicationContext context) {
    this.operator = operator;
    this.runningWindow = runningWindow;
    this.stopTimeout = stopTimeout;
    this.context = context;
  }

  /** Runs the command with the hook installed; afterwards the JVM's exit is the usual one. */
  public void around(Command command) throws Exception {
    Thread hook = new Thread(this::stop, "backfill-sigterm");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      command.run();
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running: it closes the context once the window has stopped
      }
    }
  }

  /** A command of the job's command line. */
  @FunctionalInterface
  public interface Command {
    void run() throws Exception;
  }

  void stop() {
    try {
      JobExecution running = runningWindow.get();
      if (running != null && running.isRunning()) {
        log.warn("SIGTERM: stopping window execution {} after its current chunk", running.getId());
        operator.stop(running);
        boolean ended = runningWindow.awaitEnd(stopTimeout);
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
}
