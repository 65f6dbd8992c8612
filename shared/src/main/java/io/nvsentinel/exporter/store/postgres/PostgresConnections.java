package io.nvsentinel.exporter.store.postgres;

import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.store.DatastoreUnavailableException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Deque;
import java.util.concurrent.ConcurrentLinkedDeque;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Connections to NVSentinel's PostgreSQL store, and the exporter's own tables in it (created when
 * missing): its checkpoints, gap windows and dead letters. NVSentinel's tables are only read, and
 * its {@code resume_tokens} only for a takeover from the replaced exporter.
 *
 * <p>The connection a {@linkplain #with work} used is kept for the next one (a few at most): a new
 * connection costs the server a process and both sides a handshake, and the live exporter writes
 * its checkpoint several times a second. A kept connection is checked with a round trip before it
 * is used again, so one the server ended (a restart, a failover) is replaced without a failed work;
 * one older than {@link #MAX_AGE} is closed, so that a rotated client key applies.
 */
public final class PostgresConnections implements AutoCloseable {

  static final String SCHEMA =
      """
      CREATE TABLE IF NOT EXISTS event_exporter_checkpoints (
          client_name TEXT PRIMARY KEY,
          resume_token JSONB,
          start_at TIMESTAMPTZ,
          backfill_cutoff TIMESTAMPTZ,
          last_event_time TIMESTAMPTZ,
          updated_at TIMESTAMPTZ NOT NULL,
          taken_over_at TIMESTAMPTZ);
      CREATE TABLE IF NOT EXISTS event_exporter_leases (
          client_name TEXT PRIMARY KEY,
          holder TEXT,
          epoch BIGINT NOT NULL,
          expires_at TIMESTAMPTZ NOT NULL);
      CREATE TABLE IF NOT EXISTS event_exporter_gap_windows (
          id BIGSERIAL PRIMARY KEY,
          client_name TEXT NOT NULL,
          kind TEXT NOT NULL,
          start_at TIMESTAMPTZ NOT NULL,
          end_at TIMESTAMPTZ NOT NULL,
          reason TEXT,
          recorded_at TIMESTAMPTZ NOT NULL,
          status TEXT NOT NULL,
          done_at TIMESTAMPTZ,
          UNIQUE (client_name, kind, start_at));
      CREATE TABLE IF NOT EXISTS event_exporter_dead_letters (
          id TEXT PRIMARY KEY,
          document_id TEXT,
          kind TEXT NOT NULL,
          reason TEXT,
          error_type TEXT,
          last_status INTEGER NOT NULL DEFAULT 0,
          attempts INTEGER NOT NULL DEFAULT 0,
          first_attempt_at TIMESTAMPTZ NOT NULL,
          last_attempt_at TIMESTAMPTZ NOT NULL,
          cloud_event TEXT,
          document TEXT);
      """;

  /** The advisory lock the creation of the exporter's tables is taken under ("nvsexprt"). */
  static final long SCHEMA_LOCK = 0x6e76736578707274L;

  /** Idle connections kept for the next work; one more finished is closed. */
  static final int MAX_IDLE = 4;

  /** A connection is not used again once it is this old. */
  static final Duration MAX_AGE = Duration.ofMinutes(10);

  private record Kept(Connection connection, long openedAt) {}

  private final Deque<Kept> idle = new ConcurrentLinkedDeque<>();
  private volatile boolean closed;
  private final PGSimpleDataSource dataSource = new PGSimpleDataSource();
  private final String location;
  private final PostgresClientKey clientKey;
  private volatile boolean tablesReady;

  public PostgresConnections(ExporterProperties.Postgresql settings) {
    dataSource.setUrl(settings.jdbcUrl());
    if (settings.username() != null) {
      dataSource.setUser(settings.username());
    }
    if (settings.password() != null) {
      dataSource.setPassword(settings.password());
    }
    dataSource.setApplicationName("nvsentinel-event-exporter");
    dataSource.setConnectTimeout(10);
    dataSource.setSocketTimeout(60);
    location = settings.host() + ":" + settings.port() + "/" + settings.database();
    clientKey = settings.sslkey() == null ? null : PostgresClientKey.of(settings.sslkey());
    if (clientKey != null) {
      dataSource.setSslKey(clientKey.current().toString());
    }
  }

  /** {@code host:port/database}, for log lines. */
  public String location() {
    return location;
  }

  /** The connections as a data source, for readers that want one. */
  public javax.sql.DataSource dataSource() {
    return dataSource;
  }

  /** A new connection, auto-committing, with the client key as it is mounted now. */
  public Connection open() throws SQLException {
    if (clientKey != null) {
      try {
        dataSource.setSslKey(clientKey.current().toString());
      } catch (RuntimeException e) {
        throw new SQLException(e.getMessage(), "08000", e);
      }
    }
    return dataSource.getConnection();
  }

  /**
   * Runs {@code work} on a connection of its own, turning a database error into a runtime one. The
   * first work creates the exporter's tables where they are missing. The connection is kept for the
   * next work if {@code work} returned and left it auto-committing; a failure closes it.
   */
  public <T> T with(String what, Work<T> work) {
    Kept kept = null;
    boolean reusable = false;
    try {
      kept = borrow();
      Connection connection = kept.connection();
      if (!tablesReady) {
        createTables(connection);
      }
      T result = work.on(connection);
      reusable = connection.getAutoCommit();
      return result;
    } catch (SQLException e) {
      throw new DatastoreUnavailableException(
          what + " in PostgreSQL at " + location + " failed", e);
    } finally {
      if (kept != null) {
        giveBack(kept, reusable);
      }
    }
  }

  /**
   * Creates the exporter's tables where they are missing, one creator at a time: {@code CREATE
   * TABLE IF NOT EXISTS} run at once by two sessions fails in one of them. Exporters starting
   * together (a standby beside its leader, works running at once) take turns on an advisory lock.
   */
  private void createTables(Connection connection) throws SQLException {
    connection.setAutoCommit(false);
    try (Statement statement = connection.createStatement()) {
      statement.execute("SELECT pg_advisory_xact_lock(" + SCHEMA_LOCK + ")");
      statement.execute(SCHEMA);
      connection.commit();
      tablesReady = true;
    } catch (SQLException e) {
      connection.rollback();
      throw e;
    } finally {
      connection.setAutoCommit(true);
    }
  }

  /** The most recently used idle connection that is young and alive, or a new one. */
  private Kept borrow() throws SQLException {
    long now = System.nanoTime();
    for (Kept kept; (kept = idle.pollFirst()) != null; ) {
      if (now - kept.openedAt() < MAX_AGE.toNanos() && kept.connection().isValid(5)) {
        return kept;
      }
      closeQuietly(kept.connection());
    }
    return new Kept(open(), now);
  }

  private void giveBack(Kept kept, boolean reusable) {
    if (reusable && !closed && idle.size() < MAX_IDLE) {
      idle.addFirst(kept);
      if (closed) {
        closeIdle();
      }
    } else {
      closeQuietly(kept.connection());
    }
  }

  private void closeIdle() {
    for (Kept kept; (kept = idle.pollFirst()) != null; ) {
      closeQuietly(kept.connection());
    }
  }

  /** Closes {@code connection}, if any, ignoring what fails. */
  static void closeQuietly(Connection connection) {
    if (connection == null) {
      return;
    }
    try {
      connection.close();
    } catch (SQLException ignored) {
      // closing anyway
    }
  }

  /** Closes the idle connections; work still running closes its own when it ends. */
  @Override
  public void close() {
    closed = true;
    closeIdle();
  }

  /** Work on a connection. */
  @FunctionalInterface
  public interface Work<T> {
    T on(Connection connection) throws SQLException;
  }
}
