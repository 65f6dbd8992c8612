package io.nvsentinel.exporter.store.postgres;

import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.store.DatastoreUnavailableException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Connections to NVSentinel's PostgreSQL store, and the exporter's own tables in it (created when
 * missing): its checkpoints, gap windows and dead letters. NVSentinel's tables are only read, and
 * its {@code resume_tokens} only for a takeover from the replaced exporter.
 */
public final class PostgresConnections {

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
   * first work creates the exporter's tables where they are missing.
   */
  public <T> T with(String what, Work<T> work) {
    try (Connection connection = open()) {
      if (!tablesReady) {
        try (Statement statement = connection.createStatement()) {
          statement.execute(SCHEMA);
        }
        tablesReady = true;
      }
      return work.on(connection);
    } catch (SQLException e) {
      throw new DatastoreUnavailableException(
          what + " in PostgreSQL at " + location + " failed", e);
    }
  }

  /** Work on a connection. */
  @FunctionalInterface
  public interface Work<T> {
    T on(Connection connection) throws SQLException;
  }
}
