package io.nvsentinel.exporter.bench;

import io.nvsentinel.exporter.devstack.EmbeddedPostgresStore;
import io.nvsentinel.exporter.store.ChangeSource;
import io.nvsentinel.exporter.store.postgres.PostgresChangelogSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Instant;
import java.util.List;

/**
 * How fast the live exporter's change-log source reads a backlog of NVSentinel's PostgreSQL change
 * log — what it does after a restart or a long pause — with the application's poll wait and batch
 * size, against a real PostgreSQL. Reading only: no delivery.
 */
public final class ChangelogBenchmark {

  /** The application's change-log batch ({@code PostgresDatastore.CHANGELOG_BATCH}). */
  private static final int BATCH = 500;

  private ChangelogBenchmark() {}

  public static void main(String[] args) throws Exception {
    int backlog = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    // "updates": each event is also updated once, as NVSentinel's components update its status
    boolean updates = args.length > 1 && args[1].equals("updates");
    Path dir = Files.createTempDirectory("changelog-bench");
    try (EmbeddedPostgresStore store = EmbeddedPostgresStore.start(dir.resolve("pg"))) {
      Instant before = Instant.now().minusSeconds(2);
      try (Connection connection = store.connect()) {
        connection.setAutoCommit(false);
        for (int i = 0; i < backlog; i++) {
          EmbeddedPostgresStore.insert(
              connection, "node-" + i % 288, EmbeddedPostgresStore.document("node-" + i, "m" + i));
          if (i % 1000 == 999) {
            update(connection, updates);
            connection.commit();
          }
        }
        update(connection, updates);
        connection.commit();
      }
      PostgresChangelogSource source =
          new PostgresChangelogSource(
              store::connect, List.of("insert"), ChangeSource.POLL_WAIT, BATCH);
      read(source, before, backlog); // warm-up
      long start = System.nanoTime();
      read(source, before, backlog);
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf(
          "change-log backlog of %d events%s, batch %d, poll wait %d ms: read in %.2f s, %.0f"
              + " events/s%n",
          backlog,
          updates ? " each updated once" : "",
          BATCH,
          ChangeSource.POLL_WAIT.toMillis(),
          seconds,
          backlog / seconds);
    }
  }

  /** Updates every event not updated yet once, when asked to. */
  private static void update(Connection connection, boolean updates) throws Exception {
    if (updates) {
      connection
          .createStatement()
          .execute("UPDATE health_events SET updated_at = now() WHERE updated_at = created_at");
    }
  }

  private static void read(PostgresChangelogSource source, Instant from, int rows) {
    try (ChangeSource.Cursor cursor = source.open(null, from)) {
      int read = 0;
      while (read < rows) {
        if (cursor.tryNext() != null) {
          read++;
        }
      }
    }
  }
}
