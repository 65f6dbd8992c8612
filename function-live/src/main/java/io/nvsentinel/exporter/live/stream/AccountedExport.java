package io.nvsentinel.exporter.live.stream;

import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.delivery.DeliveryInterruptedException;
import io.nvsentinel.exporter.live.function.ExportResult;
import io.nvsentinel.exporter.store.ChangeEvent;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.retry.RetryException;
import org.springframework.core.retry.RetryListener;
import org.springframework.core.retry.RetryPolicy;
import org.springframework.core.retry.RetryState;
import org.springframework.core.retry.RetryTemplate;
import org.springframework.core.retry.Retryable;

/**
 * Runs the export function until the event is accounted for. An export normally ends delivered or
 * dead-lettered; when it can do neither (the dead-letter store is unreachable, say) the event must
 * not be skipped: it is tried again, ever more slowly, with its id in the log, and the checkpoint
 * waits for it. Only shutdown ends the wait. An {@link Error} is never retried: it goes to the
 * fatal handler, which by default ends the JVM so Kubernetes restarts the pod from its checkpoint.
 */
final class AccountedExport<T, R> {

  private static final Logger log = LoggerFactory.getLogger(AccountedExport.class);

  private final Function<T, R> export;
  private final Function<T, String> name;
  private final RetryTemplate untilAccountedFor =
      new RetryTemplate(
          RetryPolicy.builder()
              .maxRetries(Long.MAX_VALUE)
              .delay(Duration.ofSeconds(1))
              .multiplier(2)
              .maxDelay(Duration.ofMinutes(1))
              .predicate(e -> e instanceof Exception && !interrupted(e))
              .build());
  private volatile Consumer<Error> onFatalError = AccountedExport::haltTheJvm;

  /**
   * @param name what the logs call an input: asked only when one is logged
   */
  AccountedExport(Function<T, R> export, Function<T, String> name) {
    this.export = export;
    this.name = name;
    untilAccountedFor.setRetryListener(
        new RetryListener() {
          @Override
          public void beforeRetry(RetryPolicy policy, Retryable<?> retryable, RetryState state) {
            log.error(
                "{} could be neither delivered nor set aside (attempt {}), trying again; the"
                    + " checkpoint waits for it: {}",
                retryable.getName(),
                state.getRetryCount() + 1,
                String.valueOf(state.getLastException()));
          }
        });
  }

  /** The export of one change, whose logs name it by its CloudEvent id. */
  static AccountedExport<ChangeEvent, ExportResult> ofEvents(
      Function<ChangeEvent, ExportResult> export, ExporterProperties.Datastore datastore) {
    return new AccountedExport<>(export, change -> "event " + eventId(datastore, change));
  }

  /** The export of several changes in one request, whose logs name the first. */
  static AccountedExport<List<ChangeEvent>, List<ExportResult>> ofBatches(
      Function<List<ChangeEvent>, List<ExportResult>> export,
      ExporterProperties.Datastore datastore) {
    return new AccountedExport<>(
        export,
        changes ->
            "the batch of "
                + changes.size()
                + " events starting with "
                + eventId(datastore, changes.get(0)));
  }

  private static String eventId(ExporterProperties.Datastore datastore, ChangeEvent change) {
    return EventIds.of(
        datastore.eventDatabase(), datastore.eventCollection(), change.document().get("_id"));
  }

  /**
   * Exports {@code input} until it is delivered or set aside.
   *
   * @return how it ended, or {@code null} when shutdown (or a fatal error) ended it first: the
   *     events then stay uncommitted and are sent again after a restart
   */
  R apply(T input) {
    Retryable<R> exportIt =
        new Retryable<>() {
          @Override
          public R execute() {
            return export.apply(input);
          }

          /** Only logs ask for it, so the id is not computed for every event. */
          @Override
          public String getName() {
            return name.apply(input);
          }
        };
    try {
      R result = untilAccountedFor.execute(exportIt);
      if (log.isDebugEnabled()) {
        log.debug("{} accounted for: {}", exportIt.getName(), result);
      }
      return result;
    } catch (RetryException e) {
      if (e.getCause() instanceof Error error) {
        onFatalError.accept(error);
        return null;
      }
      log.info("{} left uncommitted: {}", exportIt.getName(), e.getLastException().toString());
      return null;
    }
  }

  /** What happens on an {@link Error}; tests replace the default, a JVM halt. */
  void onFatalError(Consumer<Error> handler) {
    this.onFatalError = handler;
  }

  private static boolean interrupted(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof DeliveryInterruptedException || t instanceof InterruptedException) {
        return true;
      }
    }
    return Thread.currentThread().isInterrupted();
  }

  /**
   * An {@link OutOfMemoryError} or another {@link Error} leaves the process in no state to go on,
   * and a retry must never swallow it.
   */
  private static void haltTheJvm(Error error) {
    log.error("fatal error in a delivery; the process ends now", error);
    Runtime.getRuntime().halt(70);
  }
}
