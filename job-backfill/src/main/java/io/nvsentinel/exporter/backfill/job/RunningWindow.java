package io.nvsentinel.exporter.backfill.job;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.listener.JobExecutionListener;

/**
 * The job execution running in this process, as the job itself holds it: stopping that object (not
 * a copy read back from the repository) is what makes the step end after its chunk.
 */
public final class RunningWindow implements JobExecutionListener {

  private final AtomicReference<JobExecution> current = new AtomicReference<>();

  @Override
  public void beforeJob(JobExecution execution) {
    current.set(execution);
  }

  @Override
  public void afterJob(JobExecution execution) {
    synchronized (current) {
      current.compareAndSet(execution, null);
      current.notifyAll();
    }
  }

  /**
   * Waits until the job running now has ended (its last chunk committed or rolled back), at most
   * {@code timeout}. The repository may call a stopped execution STOPPED before that.
   *
   * @return whether it ended in time
   */
  public boolean awaitEnd(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (current) {
      while (current.get() != null) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(current, left);
      }
    }
    return true;
  }

  /** The running execution, or {@code null}. */
  public JobExecution get() {
    return current.get();
  }
}
