package io.nvsentinel.exporter.delivery;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the sink can take events at all right now, as opposed to refusing one event. Deliveries
 * report here: an acceptance makes it available; a misconfiguration, or retries running out while
 * another event — a probe, or a second held one — failed too, makes it unavailable ({@link
 * FaultIsolation}). The live exporter pauses reading while it is unavailable (and reports not
 * ready) instead of turning an outage into dead letters; held deliveries wake up as soon as it
 * recovers. Thread-safe.
 */
public final class SinkAvailability {

  private static final Logger log = LoggerFactory.getLogger(SinkAvailability.class);

  /** Why the sink is unavailable, since when ({@link System#nanoTime()}). */
  public record Problem(String reason, boolean misconfigured, long sinceNanos) {}

  private final Object changed = new Object();
  private final List<Runnable> onRecovery = new CopyOnWriteArrayList<>();
  private final Set<String> undecided = ConcurrentHashMap.newKeySet();
  private volatile Problem problem;
  private volatile long lastAcceptedNanos = System.nanoTime() - TimeUnit.DAYS.toNanos(1);
  private volatile long probeFailedNanos = lastAcceptedNanos;
  private volatile Parcel lastAccepted;

  /**
   * The sink accepted an event sent at {@code sentNanos} ({@link System#nanoTime()}). The time it
   * was sent counts, not the time the answer came: an answer that comes late says nothing of how
   * the sink treats what was sent after it.
   */
  void accepted(long sentNanos, Parcel parcel) {
    synchronized (changed) {
      if (sentNanos - lastAcceptedNanos > 0) {
        lastAcceptedNanos = sentNanos;
        lastAccepted = parcel;
        // held events waiting for evidence that the sink takes others
        changed.notifyAll();
      }
    }
    Problem was = problem;
    if (was == null) {
      return;
    }
    synchronized (changed) {
      if (problem == null) {
        return;
      }
      problem = null;
      changed.notifyAll();
    }
    log.warn(
        "the sink accepts events again after {} s; reading resumes",
        Duration.ofNanos(System.nanoTime() - was.sinceNanos()).toSeconds());
    onRecovery.forEach(Runnable::run);
  }

  /** Every event would fail now: {@code failure} is no fault of the event's. */
  void unavailable(DeliveryFailure failure) {
    boolean misconfigured = failure.kind() == DeliveryFailure.Kind.MISCONFIGURED;
    synchronized (changed) {
      Problem was = problem;
      if (was != null && was.misconfigured() == misconfigured) {
        return;
      }
      problem =
          new Problem(
              failure.getMessage(),
              misconfigured,
              was != null ? was.sinceNanos() : System.nanoTime());
    }
    if (misconfigured) {
      log.error(
          "a setting is wrong, so no event can be delivered; reading is paused, nothing is"
              + " dead-lettered, and delivery resumes by itself once it is fixed: {}",
          failure.getMessage());
    } else {
      log.error(
          "the sink is unavailable for every event; reading is paused and nothing is"
              + " dead-lettered until it answers again: {}",
          failure.getMessage());
    }
  }

  /** Whether the sink accepted any event sent after {@code nanos} ({@link System#nanoTime()}). */
  boolean acceptedSince(long nanos) {
    return lastAcceptedNanos - nanos > 0;
  }

  /**
   * The event the sink accepted last: sent again, under its own id, it tells whether the sink takes
   * events at all; {@code null} before the first.
   */
  Parcel lastAccepted() {
    Parcel accepted = lastAccepted;
    return accepted == null ? null : accepted.probe();
  }

  /** A probe sent at {@code sentNanos} failed: the sink took nothing then. */
  void probeFailed(long sentNanos) {
    probeFailedNanos = sentNanos;
  }

  /** Whether a probe sent after {@code nanos} failed, so that another tells nothing new. */
  boolean probeFailedSince(long nanos) {
    return probeFailedNanos - nanos > 0;
  }

  /**
   * Event {@code id} ran out of retries with nothing else to tell a refused payload from an outage.
   * Returns whether another event is in the same state: two payloads failing with nothing accepted
   * is an outage.
   */
  boolean undecided(String id) {
    undecided.add(id);
    return undecided.size() > 1;
  }

  /** Event {@code id} is no longer waiting for a verdict. */
  void settled(String id) {
    undecided.remove(id);
  }

  /** The current problem, or {@code null} while the sink is available. */
  public Problem problem() {
    return problem;
  }

  /** Runs {@code action} on every recovery, on the thread of the delivery that saw it. */
  public void onRecovery(Runnable action) {
    onRecovery.add(action);
  }

  /**
   * Waits up to {@code wait}, or until the sink accepts an event sent after {@code sinceNanos}
   * ({@link System#nanoTime()}), whichever comes first: a held event tries again at once when the
   * sink recovers or shows that it takes other events.
   */
  void awaitAcceptance(Duration wait, long sinceNanos) throws InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    synchronized (changed) {
      for (long left = wait.toNanos(); !acceptedSince(sinceNanos) && left > 0; ) {
        TimeUnit.NANOSECONDS.timedWait(changed, left);
        left = deadline - System.nanoTime();
      }
    }
  }
}
