package io.nvsentinel.exporter.testkit;

import io.nvsentinel.exporter.devstack.EmbeddedPostgresStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real PostgreSQL with NVSentinel's tables for a test class, started and stopped by JUnit, its
 * data in a temporary directory removed afterwards.
 *
 * <pre>{@code @RegisterExtension static final PostgresServer postgres = new PostgresServer();}
 * </pre>
 */
public final class PostgresServer implements BeforeAllCallback, AfterAllCallback {

  private Path directory;
  private EmbeddedPostgresStore store;

  /** The server's own database, laid out as NVSentinel's. */
  public EmbeddedPostgresStore store() {
    if (store == null) {
      throw new IllegalStateException("PostgreSQL is not started for this test");
    }
    return store;
  }

  /** A new database of its own on the server, named {@code prefix} and a random suffix. */
  public EmbeddedPostgresStore freshDatabase(String prefix) throws IOException, SQLException {
    return store().newDatabase(prefix + "_" + UUID.randomUUID().toString().replace("-", ""));
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    directory = Files.createTempDirectory("postgres-test");
    store = EmbeddedPostgresStore.start(directory.resolve("pg"));
  }

  @Override
  public void afterAll(ExtensionContext context) throws IOException {
    try {
      store.close();
    } finally {
      store = null;
      try (Stream<Path> files = Files.walk(directory)) {
        files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
      }
    }
  }
}
