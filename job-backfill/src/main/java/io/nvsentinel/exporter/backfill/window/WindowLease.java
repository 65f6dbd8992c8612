package io.nvsentinel.exporter.backfill.window;

import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.batch.core.job.DefaultJobKeyGenerator;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.listener.ItemWriteListener;
import org.springframework.batch.core.listener.JobExecutionListener;
import org.springframework.batch.infrastructure.item.Chunk;
import org.springframework.dao.DataAccessException;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Who is exporting a window, kept in the job repository's database beside Spring Batch's tables: a
 * lease per window that the running process renews every third of {@code abandonedAfter}. A window
 * whose execution is still marked running counts as abandoned only once its lease has expired —
 * Spring Batch itself writes the execution's last update only at its start and end, so that alone
 * would let a second pod take over any window running longer than {@code abandonedAfter}.
 *
 * <p>A run writes a chunk only while it holds the lease: taken, and renewed within {@code
 * abandonedAfter} (by its own clock, since the database may be out of reach). A renewal that finds
 * the lease taken by another process, or renewals failing until it would have expired, make the
 * next chunk fail before it is delivered, so the run stops and the window goes on in the one
 * process that holds it.
 */
public final class WindowLease implements JobExecutionListener, ItemWriteListener<Object> {

  private static final Logger log = LoggerFactory.getLogger(WindowLease.class);
  private static final DefaultJobKeyGenerator KEYS = new DefaultJobKeyGenerator();

  private final JdbcTemplate jdbc;
  private final Duration ttl;
  private final Clock clock;
  private final String owner;
  private ScheduledExecutorService heartbeat;
  private volatile String running;

  /** Until when (this process's clock) the running window's lease is known to be held. */
  private volatile long heldUntilMillis;

  private volatile boolean taken;

  public WindowLease(DataSource dataSource, Duration ttl, Clock clock) {
    this.jdbc = new JdbcTemplate(dataSource);
    this.ttl = ttl;
    this.clock = clock;
    this.owner =
        ManagementFactory.getRuntimeMXBean().getName()
            + "/"
            + UUID.randomUUID().toString().substring(0, 8);
    jdbc.execute(
        "CREATE TABLE IF NOT EXISTS BACKFILL_WINDOW_LEASE ("
            + "WINDOW_KEY VARCHAR(64) NOT NULL PRIMARY KEY, "
            + "OWNER VARCHAR(255) NOT NULL, "
            + "EXPIRES_AT BIGINT NOT NULL)");
  }

  /** The key of the window a job runs, from its identifying parameters. */
  public static String key(JobParameters parameters) {
    return KEYS.generateKey(parameters);
  }

  /** Takes the window's lease unless another live process holds it. */
  public boolean tryAcquire(String key) {
    long now = clock.millis();
    long expires = now + ttl.toMillis();
    boolean acquired;
    try {
      jdbc.update(
          "INSERT INTO BACKFILL_WINDOW_LEASE (WINDOW_KEY, OWNER, EXPIRES_AT) VALUES (?, ?, ?)",
          key,
          owner,
          expires);
      acquired = true;
    } catch (DuplicateKeyException held) {
      acquired =
          jdbc.update(
                  "UPDATE BACKFILL_WINDOW_LEASE SET OWNER = ?, EXPIRES_AT = ?"
                      + " WHERE WINDOW_KEY = ? AND (OWNER = ? OR EXPIRES_AT < ?)",
                  owner,
                  expires,
                  key,
                  owner,
                  now)
              == 1;
    }
    if (acquired) {
      heldUntilMillis = expires;
      taken = false;
    }
    return acquired;
  }

  /** Whether this process still holds the running window's lease, as far as it can know. */
  public boolean held() {
    return running != null && !taken && clock.millis() < heldUntilMillis;
  }

  /** Whether another process holds an unexpired lease on the window. */
  public boolean heldByAnother(String key) {
    List<String> holders =
        jdbc.queryForList(
            "SELECT OWNER FROM BACKFILL_WINDOW_LEASE"
                + " WHERE WINDOW_KEY = ? AND OWNER <> ? AND EXPIRES_AT >= ?",
            String.class,
            key,
            owner,
            clock.millis());
    return !holders.isEmpty();
  }

  public void release(String key) {
    jdbc.update("DELETE FROM BACKFILL_WINDOW_LEASE WHERE WINDOW_KEY = ? AND OWNER = ?", key, owner);
  }

  void renew(String key) {
    try {
      long expires = clock.millis() + ttl.toMillis();
      int renewed =
          jdbc.update(
              "UPDATE BACKFILL_WINDOW_LEASE SET EXPIRES_AT = ? WHERE WINDOW_KEY = ? AND OWNER = ?",
              expires,
              key,
              owner);
      if (renewed == 0) {
        taken = true;
        log.error(
            "the lease on the running window {} was taken by another process: this run stops"
                + " before its next chunk",
            key);
      } else if (!taken) {
        heldUntilMillis = expires;
      }
    } catch (DataAccessException e) {
      log.warn("could not renew the lease on the running window: {}", e.toString());
    }
  }

  /** Fencing: no chunk is delivered, nor its position committed, without the lease. */
  @Override
  public void beforeWrite(Chunk<?> items) {
    if (!held()) {
      throw new LeaseLostException(
          "the lease on window "
              + running
              + " is no longer this run's ("
              + (taken
                  ? "another process took it"
                  : "it could not be renewed within exporter.backfill.abandonedAfter, " + ttl)
              + "): this run stops so that one process exports the window; it continues in the"
              + " process holding the lease, or in the next run");
    }
  }

  /** The lease of the running window is another process's now. */
  public static final class LeaseLostException extends IllegalStateException {
    LeaseLostException(String message) {
      super(message);
    }
  }

  /** Keeps the running window's lease fresh while its job runs. */
  @Override
  public synchronized void beforeJob(JobExecution execution) {
    String key = key(execution.getJobParameters());
    running = key;
    if (!tryAcquire(key)) {
      taken = true; // the first chunk fails, naming it
    }
    long every = Math.max(1, ttl.toMillis() / 3);
    heartbeat =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "backfill-lease");
              thread.setDaemon(true);
              return thread;
            });
    heartbeat.scheduleWithFixedDelay(() -> renew(key), every, every, TimeUnit.MILLISECONDS);
  }

  @Override
  public synchronized void afterJob(JobExecution execution) {
    if (heartbeat != null) {
      heartbeat.shutdownNow();
      heartbeat = null;
    }
    release(key(execution.getJobParameters()));
    running = null;
  }
}
