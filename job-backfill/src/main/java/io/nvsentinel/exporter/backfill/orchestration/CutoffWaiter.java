package io.nvsentinel.exporter.backfill.orchestration;

import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.retry.RetryException;
import org.springframework.core.retry.RetryPolicy;
import org.springframework.core.retry.RetryTemplate;

/**
 * Finds where the default window ends: the live exporter's backfill cutoff. Deployed together with
 * it, the job waits a bounded time for the cutoff to appear rather than guessing "now", which could
 * open a gap between what the backfill exports and what the stream starts with.
 */
public final class CutoffWaiter {

  private static final Logger log = LoggerFactory.getLogger(CutoffWaiter.class);

  private final CheckpointStore checkpoints;
  private final String clientName;
  private final Duration wait;
  private final Duration pollEvery;
  private final Clock clock;

  public CutoffWaiter(
      CheckpointStore checkpoints,
      String clientName,
      Duration wait,
      Duration pollEvery,
      Clock clock) {
    this.checkpoints = checkpoints;
    this.clientName = clientName;
    this.wait = wait;
    this.pollEvery = pollEvery;
    this.clock = clock;
  }

  /**
   * When the live exporter continued from the replaced exporter's position instead of starting with
   * a cutoff: the history before it was that exporter's to export.
   */
  public Optional<Instant> takenOverAt() {
    return checkpoints.load(clientName).map(Checkpoint::takenOverAt);
  }

  /**
   * The cutoff, waiting up to {@code waitForCutoff} for it; when the live exporter took over from
   * the replaced exporter, the moment it did; now when there is neither and no wait is configured.
   *
   * @throws IllegalStateException when a wait is configured and the cutoff did not appear in time
   */
  public Instant windowEnd() {
    Optional<Checkpoint> checkpoint = checkpoints.load(clientName);
    Optional<Instant> cutoff = checkpoint.map(Checkpoint::backfillCutoff);
    if (cutoff.isPresent()) {
      return cutoff.get();
    }
    Optional<Instant> takenOver = checkpoint.map(Checkpoint::takenOverAt);
    if (takenOver.isPresent()) {
      log.info(
          "the live exporter '{}' took over from the replaced exporter at {}; the window ends there",
          clientName,
          takenOver.get());
      return takenOver.get();
    }
    if (wait.isZero() || wait.isNegative()) {
      Instant now = clock.instant();
      log.info(
          "no backfill cutoff from a live exporter named '{}'; the window ends now ({})",
          clientName,
          now);
      return now;
    }
    log.info(
        "waiting up to {} for the live exporter '{}' to store its backfill cutoff",
        wait,
        clientName);
    RetryTemplate polling =
        new RetryTemplate(
            RetryPolicy.builder()
                .delay(pollEvery)
                .maxRetries(Math.max(1, wait.toMillis() / Math.max(1, pollEvery.toMillis())))
                .build());
    try {
      return polling.execute(
          () ->
              checkpoints
                  .backfillCutoff(clientName)
                  .orElseThrow(() -> new IllegalStateException("no cutoff yet")));
    } catch (RetryException e) {
      throw new IllegalStateException(
          "the live exporter '"
              + clientName
              + "' stored no backfill cutoff within "
              + wait
              + " (exporter.backfill.waitForCutoff); start it first, or give the window explicitly with"
              + " --window-end, or set waitForCutoff to 0s to end the window now");
    }
  }
}
