package io.nvsentinel.exporter.live.stream;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Threads of the runner: named for thread dumps, daemons so none holds the JVM up. */
final class DaemonThreads {

  private DaemonThreads() {}

  static ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, prefix + "-" + n.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}
