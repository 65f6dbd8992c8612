package io.nvsentinel.exporter.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.nvsentinel.exporter.config.TestProperties;
import io.nvsentinel.exporter.devstack.EmbeddedPostgresStore;
import io.nvsentinel.exporter.store.DatastoreUnavailableException;
import io.nvsentinel.exporter.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The connection a work used serves the next one, against a real PostgreSQL: reused while it is
 * sound, replaced when the server ended it, closed when the work failed or left a transaction open,
 * and at most {@link PostgresConnections#MAX_IDLE} kept.
 */
class PostgresConnectionsTest {

  @RegisterExtension static final PostgresServer postgres = new PostgresServer();

  EmbeddedPostgresStore db;
  PostgresConnections connections;

  @BeforeEach
  void database() throws Exception {
    db = postgres.freshDatabase("pool");
    connections = new PostgresConnections(TestProperties.postgresqlOf(db));
  }

  @AfterEach
  void close() {
    connections.close();
  }

  @Test
  void theConnectionOfOneWorkServesTheNext() throws Exception {
    int first = backend();
    assertThat(backend()).isEqualTo(first);
    assertThat(backend()).isEqualTo(first);
    assertThat(open()).containsExactly(first);
  }

  @Test
  void aWorkThatFailsOrLeavesATransactionOpenDoesNotHandItsConnectionOn() throws Exception {
    int first = backend();
    assertThatThrownBy(
            () ->
                connections.with(
                    "failing",
                    connection -> {
                      throw new SQLException("refused", "42501");
                    }))
        .isInstanceOf(DatastoreUnavailableException.class)
        .hasMessageContaining("failing");
    int second = backend();
    assertThat(second).isNotEqualTo(first);

    connections.with(
        "leaving a transaction open",
        connection -> {
          connection.setAutoCommit(false);
          return null;
        });
    assertThat(backend()).isNotEqualTo(second);
    await().atMost(Duration.ofSeconds(10)).until(() -> open().size() == 1);
  }

  @Test
  void aConnectionTheServerEndedIsReplacedWithoutAFailedWork() throws Exception {
    int first = backend();
    try (Connection admin = postgres.store().connect();
        PreparedStatement terminate = admin.prepareStatement("SELECT pg_terminate_backend(?)")) {
      terminate.setInt(1, first);
      terminate.execute();
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> !open().contains(first));
    int second = backend();
    assertThat(second).isNotEqualTo(first);
    assertThat(open()).containsExactly(second);
  }

  @Test
  void worksAtOnceHaveAConnectionEachAndAtMostAFewAreKept() throws Exception {
    int works = PostgresConnections.MAX_IDLE + 2;
    CountDownLatch allRunning = new CountDownLatch(works);
    ExecutorService pool = Executors.newFixedThreadPool(works);
    try {
      List<Future<Integer>> backends = new ArrayList<>();
      for (int i = 0; i < works; i++) {
        backends.add(
            pool.submit(
                () ->
                    connections.with(
                        "waiting for the others",
                        connection -> {
                          allRunning.countDown();
                          try {
                            assertThat(allRunning.await(30, TimeUnit.SECONDS)).isTrue();
                          } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                          }
                          return pid(connection);
                        })));
      }
      List<Integer> pids = new ArrayList<>();
      for (Future<Integer> backend : backends) {
        pids.add(backend.get(60, TimeUnit.SECONDS));
      }
      assertThat(pids).doesNotHaveDuplicates();
    } finally {
      pool.shutdownNow();
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> open().size() == PostgresConnections.MAX_IDLE);
  }

  @Test
  void closingClosesTheKeptConnections() throws Exception {
    int first = backend();
    assertThat(open()).containsExactly(first);
    connections.close();
    await().atMost(Duration.ofSeconds(10)).until(() -> open().isEmpty());
  }

  private int backend() {
    return connections.with("asking for the backend", PostgresConnectionsTest::pid);
  }

  private static int pid(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet row = statement.executeQuery("SELECT pg_backend_pid()")) {
      row.next();
      return row.getInt(1);
    }
  }

  /** The exporter's connections to this test's database that the server has open. */
  private List<Integer> open() throws SQLException {
    try (Connection admin = postgres.store().connect();
        PreparedStatement query =
            admin.prepareStatement(
                "SELECT pid FROM pg_stat_activity WHERE datname = ? AND application_name = ?")) {
      query.setString(1, db.database());
      query.setString(2, "nvsentinel-event-exporter");
      List<Integer> pids = new ArrayList<>();
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          pids.add(rows.getInt(1));
        }
      }
      return pids;
    }
  }
}
