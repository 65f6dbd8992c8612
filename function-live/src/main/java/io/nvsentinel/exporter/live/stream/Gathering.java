package io.nvsentinel.exporter.live.stream;

import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.live.function.ExportResult;
import io.nvsentinel.exporter.store.ChangeEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Batched delivery for the {@link ChangeStreamRunner} ({@code exporter.sink.batch}): the changes
 * the reader registered are gathered and handed to a worker as one batch once {@code maxEvents} are
 * gathered or the first of them waited {@code maxWait}, whichever comes first; the worker exports
 * the batch and finishes each of its changes in the window it was registered in. Thread-safe.
 */
final class Gathering {

  /** What the runner does with a change once it is accounted for. */
  interface Finisher {
    void finished(CommitWindow<Position> window, long sequence);
  }

  /** A change read, with its place in the window it was registered in. */
  private record Gathered(ChangeEvent change, CommitWindow<Position> window, long sequence) {}

  private final ExporterProperties.Batch batch;
  private final AccountedExport<List<ChangeEvent>, List<ExportResult>> export;
  private final Executor workers;
  private final Finisher finisher;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("batch-timer"));
  private List<Gathered> gathered;
  private long generation;

  Gathering(
      ExporterProperties.Batch batch,
      AccountedExport<List<ChangeEvent>, List<ExportResult>> export,
      Executor workers,
      Finisher finisher) {
    this.batch = batch;
    this.export = export;
    this.workers = workers;
    this.finisher = finisher;
    this.gathered = new ArrayList<>(batch.maxEvents());
  }

  synchronized void add(ChangeEvent change, CommitWindow<Position> window, long sequence) {
    gathered.add(new Gathered(change, window, sequence));
    if (gathered.size() >= batch.maxEvents()) {
      handOver();
    } else if (gathered.size() == 1) {
      long current = generation;
      timer.schedule(
          () -> handOverIfStill(current), batch.maxWait().toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  /** On shutdown: no more timer; what is gathered goes to a worker now, full or not. */
  void handOverTheRest() throws InterruptedException {
    timer.shutdownNow();
    timer.awaitTermination(5, TimeUnit.SECONDS);
    synchronized (this) {
      if (!gathered.isEmpty()) {
        handOver();
      }
    }
  }

  /** As a crash would: what is gathered stays uncommitted. */
  void halt() {
    timer.shutdownNow();
  }

  private synchronized void handOverIfStill(long batchGeneration) {
    if (generation == batchGeneration && !gathered.isEmpty()) {
      handOver();
    }
  }

  private void handOver() {
    List<Gathered> full = gathered;
    gathered = new ArrayList<>(batch.maxEvents());
    generation++;
    workers.execute(() -> process(full));
  }

  private void process(List<Gathered> batch) {
    List<ChangeEvent> changes = new ArrayList<>(batch.size());
    for (Gathered one : batch) {
      changes.add(one.change());
    }
    if (export.apply(changes) == null) {
      return; // not accounted for: the batch stays uncommitted
    }
    for (Gathered one : batch) {
      finisher.finished(one.window(), one.sequence());
    }
  }
}
