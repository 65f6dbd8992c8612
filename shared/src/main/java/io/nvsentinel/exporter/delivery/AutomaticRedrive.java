package io.nvsentinel.exporter.delivery;

import io.nvsentinel.exporter.deadletter.DeadLetter;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Sends {@code exhausted} dead letters again, on its own thread, at start-up and whenever the sink
 * recovers from an outage: events that ran out of retries need no operator once the sink answers.
 * Refused and undecodable ones stay for the operator. Runs one re-drive at a time; a request while
 * one runs is folded into it.
 */
public final class AutomaticRedrive implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(AutomaticRedrive.class);
  static final int BATCH = 1_000;

  private final DeadLetterRedrive redrive;
  private final DeadLetterStore deadLetters;
  private final ExecutorService worker =
      new ThreadPoolExecutor(
          1,
          1,
          0,
          TimeUnit.MILLISECONDS,
          new LinkedBlockingQueue<>(1),
          runnable -> {
            Thread thread = new Thread(runnable, "dead-letter-redrive");
            thread.setDaemon(true);
            return thread;
          },
          new ThreadPoolExecutor.DiscardPolicy());
  private volatile boolean running;

  public AutomaticRedrive(
      SinkAvailability availability, DeadLetterRedrive redrive, DeadLetterStore deadLetters) {
    this.redrive = redrive;
    this.deadLetters = deadLetters;
    availability.onRecovery(this::request);
  }

  /** Asks for a re-drive; returns at once. */
  void request() {
    if (running) {
      worker.execute(this::redriveExhausted);
    }
  }

  private void redriveExhausted() {
    try {
      while (running && deadLetters.count(DeadLetter.Kind.EXHAUSTED) > 0) {
        DeadLetterRedrive.Report report = redrive.redrive(BATCH, DeadLetter.Kind.EXHAUSTED);
        if (report.failedAgain() > 0 || report.delivered() == 0) {
          return;
        }
      }
    } catch (RuntimeException e) {
      log.warn("automatic re-drive of exhausted dead letters failed: {}", e.toString());
    }
  }

  @Override
  public void start() {
    running = true;
    request();
  }

  @Override
  public void stop() {
    running = false;
    worker.shutdownNow();
  }

  @Override
  public boolean isRunning() {
    return running;
  }
}
