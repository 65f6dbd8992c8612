package io.nvsentinel.exporter.sink;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Bounds blocking HTTP exchanges: a thread that is still in its exchange when its deadline passes
 * is interrupted, which makes the JDK client cancel the exchange. One daemon thread looks every
 * {@value #CHECK_MILLIS} ms, so a deadline is kept to within that.
 */
final class ExchangeWatchdog {

  static final long CHECK_MILLIS = 50;

  /** One watched exchange. */
  final class Exchange {
    private final Thread thread = Thread.currentThread();
    private final long deadline;
    private boolean ended;
    private boolean timedOut;

    private Exchange(long deadline) {
      this.deadline = deadline;
    }

    /**
     * Ends the watch, however the exchange ended; idempotent. Returns whether the deadline had
     * passed, in which case the thread was interrupted for it, and that interrupt is cleared here:
     * it must not reach unrelated work.
     */
    synchronized boolean end() {
      if (!ended) {
        ended = true;
        watched.remove(this);
        if (timedOut) {
          Thread.interrupted();
        }
      }
      return timedOut;
    }

    private synchronized void expireIfDue(long now) {
      if (!ended && !timedOut && now - deadline > 0) {
        timedOut = true;
        thread.interrupt();
      }
    }
  }

  private final Map<Exchange, Boolean> watched = new ConcurrentHashMap<>();

  ExchangeWatchdog() {
    ScheduledExecutorService checker =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "sink-exchange-watchdog");
              thread.setDaemon(true);
              return thread;
            });
    checker.scheduleWithFixedDelay(this::check, CHECK_MILLIS, CHECK_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** Watches the calling thread's exchange; call {@link Exchange#end()} when it returns. */
  Exchange watch(Duration timeout) {
    Exchange exchange = new Exchange(System.nanoTime() + timeout.toNanos());
    watched.put(exchange, Boolean.TRUE);
    return exchange;
  }

  private void check() {
    long now = System.nanoTime();
    for (Exchange exchange : watched.keySet()) {
      exchange.expireIfDue(now);
    }
  }
}
