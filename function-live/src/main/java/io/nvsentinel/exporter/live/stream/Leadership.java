package io.nvsentinel.exporter.live.stream;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.Lease;
import io.nvsentinel.exporter.live.config.LeaseProperties;
import io.nvsentinel.exporter.metrics.ExporterMetric;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;

/**
 * One leader among the live exporters of a client, the others warm standbys: started, connected,
 * ready, not reading. The leader holds the lease kept beside the checkpoint and renews it every
 * {@code renewInterval}; each term reads through a {@link ChangeStreamRunner} of its own whose
 * writes are conditional on the term's epoch ({@link FencedStores}). A standby tries to take the
 * lease every {@code retryInterval} and leads once it runs out or is released.
 *
 * <p>A term ends when a renewal finds another term, when a fenced write does (the leader was paused
 * or cut off and woke up late), or when renewals failed for the whole lease: the runner is halted
 * at once, abandoning what is in flight (another term sends it again, under the same ids), and the
 * exporter stands by. On shutdown the leader stops reading, finishes or abandons what is in flight
 * within {@code shutdownTimeout}, writes its checkpoint and releases the lease, so a standby
 * continues at once.
 */
public final class Leadership implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(Leadership.class);

  private final CheckpointStore store;
  private final String client;
  private final LeaseProperties settings;
  private final BiFunction<Lease, Runnable, ChangeStreamRunner> terms;
  private final Standby standby;
  private final Clock clock;
  private final Counter acquisitions;
  private final AtomicInteger leading = new AtomicInteger();
  private final Object wakeUp = new Object();

  private volatile boolean running;
  private volatile boolean lost;

  /** The last failure to reach the lease, logged once until the lease is reached again. */
  private String unreachable;

  private Thread thread;
  private Lease lease;
  private ChangeStreamRunner term;

  Leadership(
      CheckpointStore store,
      String client,
      LeaseProperties settings,
      BiFunction<Lease, Runnable, ChangeStreamRunner> terms,
      Runnable warmUp,
      ApplicationEventPublisher events,
      MeterRegistry meters,
      Clock clock) {
    this.store = store;
    this.client = client;
    this.settings = settings;
    this.terms = terms;
    this.standby = new Standby(events, this, warmUp);
    this.clock = clock;
    Gauge.builder(ExporterMetric.LEADER.meterName(), leading, AtomicInteger::get)
        .description("1 while this exporter holds the lease and exports, 0 while it stands by")
        .tag("client", client)
        .register(meters);
    this.acquisitions =
        Counter.builder(ExporterMetric.LEASE_ACQUISITIONS.meterName())
            .description("Terms this exporter began as the leader")
            .tag("client", client)
            .register(meters);
  }

  @Override
  public synchronized void start() {
    if (running) {
      return;
    }
    running = true;
    log.info(
        "standing by as '{}' for the lease of client '{}' in {} (duration {}, renewed every {})",
        settings.holder(),
        client,
        store.location(),
        settings.duration(),
        settings.renewInterval());
    thread = DaemonThreads.named("lease").newThread(this::run);
    thread.start();
  }

  private void run() {
    try {
      while (running) {
        pause(step());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Takes, renews or gives up the lease as the moment asks; returns how long to wait then. */
  private Duration step() {
    try {
      if (term == null) {
        Optional<Lease> taken =
            store.acquireLease(client, settings.holder(), settings.duration(), clock.instant());
        reached();
        if (taken.isPresent()) {
          lead(taken.get());
          return settings.renewInterval();
        }
        standby.ready(true);
        return settings.retryInterval();
      }
      if (lost) {
        stepDown("a write found that another exporter holds the lease now");
        return Duration.ZERO;
      }
      Optional<Lease> renewed = store.renewLease(lease, settings.duration(), clock.instant());
      reached();
      if (renewed.isPresent()) {
        lease = renewed.get();
        return settings.renewInterval();
      }
      stepDown("another exporter holds the lease now");
      return Duration.ZERO;
    } catch (RuntimeException e) {
      if (term != null && !clock.instant().isBefore(lease.expiresAt())) {
        stepDown("the lease could not be renewed before it ran out (" + e.getMessage() + ")");
      }
      if (unreachable == null) {
        log.warn(
            "cannot reach the lease in {}, trying every {}: {}",
            store.location(),
            settings.retryInterval(),
            e.toString());
      }
      unreachable = e.toString();
      if (term == null) {
        standby.ready(false);
      }
      return settings.retryInterval();
    }
  }

  private void reached() {
    if (unreachable != null) {
      log.info("the lease in {} can be reached again", store.location());
      unreachable = null;
    }
  }

  private void lead(Lease taken) {
    lease = taken;
    lost = false;
    log.info(
        "'{}' became the leader of client '{}' (lease epoch {}): reading and exporting",
        taken.holder(),
        client,
        taken.epoch());
    acquisitions.increment();
    ChangeStreamRunner runner = terms.apply(taken, this::leaseLost);
    try {
      runner.start();
    } catch (RuntimeException e) {
      log.warn(
          "'{}' stopped being the leader of client '{}' (lease epoch {}): could not start"
              + " reading: {}",
          taken.holder(),
          client,
          taken.epoch(),
          e.toString());
      releaseQuietly();
      throw e;
    }
    term = runner;
    leading.set(1);
  }

  /** A write of the term found another term: the lease thread ends this one at once. */
  private void leaseLost() {
    lost = true;
    synchronized (wakeUp) {
      wakeUp.notifyAll();
    }
  }

  /** Ends the term at once: nothing more is read, and nothing more is written by it. */
  private void stepDown(String why) {
    try {
      term.halt();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    term = null;
    lost = false;
    leading.set(0);
    log.warn(
        "'{}' stopped being the leader of client '{}' (lease epoch {}): {}; standing by",
        lease.holder(),
        client,
        lease.epoch(),
        why);
  }

  private void pause(Duration duration) throws InterruptedException {
    synchronized (wakeUp) {
      if (running && !lost && !duration.isZero()) {
        wakeUp.wait(duration.toMillis());
      }
    }
  }

  private void releaseQuietly() {
    try {
      store.releaseLease(lease);
    } catch (RuntimeException e) {
      log.warn("could not release the lease; it runs out by itself: {}", e.toString());
    }
  }

  /** Hands off: the term stops as on any shutdown, then the lease is released for a standby. */
  @Override
  public void stop() {
    synchronized (this) {
      if (!running) {
        return;
      }
      running = false;
    }
    synchronized (wakeUp) {
      wakeUp.notifyAll();
    }
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (term != null) {
      term.stop();
      releaseQuietly();
      term = null;
      leading.set(0);
      log.info(
          "'{}' stopped being the leader of client '{}' (lease epoch {}): shutting down, lease"
              + " released",
          lease.holder(),
          client,
          lease.epoch());
    }
  }

  /** Stops at once, as a crash would: the lease is neither renewed nor released. */
  void halt() throws InterruptedException {
    running = false;
    thread.interrupt();
    thread.join(10_000);
    if (term != null) {
      term.halt();
      term = null;
    }
  }

  /** Whether this exporter leads now. */
  boolean leading() {
    return leading.get() == 1;
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  /** As the runner: start after the metrics port, stop before it, so probes see both. */
  @Override
  public int getPhase() {
    return Integer.MAX_VALUE - 100;
  }
}
