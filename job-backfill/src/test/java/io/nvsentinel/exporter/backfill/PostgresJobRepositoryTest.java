package io.nvsentinel.exporter.backfill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.nvsentinel.exporter.backfill.BackfillStack.Result;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import io.nvsentinel.exporter.testkit.LocalStack;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The job repository on a real PostgreSQL, through the standard spring.datasource settings. */
class PostgresJobRepositoryTest {

  // relative to today: the default window reaches back maxAge (720h) from now, and a fixed date
  // falls out of it a month later
  static final Instant T = Instant.now().truncatedTo(ChronoUnit.HOURS).minus(Duration.ofDays(2));

  @TempDir Path dir;
  @RegisterExtension static final LocalStack tokens = LocalStack.issuer();
  TokenIssuer issuer;
  BackfillStack stack;
  EmbeddedPostgres postgres;

  @BeforeEach
  void setUp() throws Exception {
    postgres =
        EmbeddedPostgres.builder().setOverrideWorkingDirectory(dir.resolve("pg").toFile()).start();
    issuer = tokens.tokens();
    stack = new BackfillStack(issuer, dir);
    stack.properties.put("spring.datasource.url", postgres.getJdbcUrl("postgres", "postgres"));
    stack.properties.put("spring.datasource.username", "postgres");
    stack.properties.put("spring.datasource.password", "");
  }

  @AfterEach
  void tearDown() throws Exception {
    stack.close();
    postgres.close();
  }

  @Test
  void aFailedWindowResumesFromTheStateKeptInPostgres() throws Exception {
    stack.insertEvents("e", T, 200);
    stack.properties.put("exporter.backfill.batchSize", "20");
    stack.sink.faults().acceptAtMost(100);
    String[] window = {"--window-start=" + T, "--window-end=" + T.plusSeconds(3600)};

    Result failed = stack.backfill(window);
    assertThat(failed.exitCode()).isEqualTo(1);

    stack.sink.faults().acceptAtMost(Long.MAX_VALUE);
    Result resumed = stack.backfill(window);
    assertThat(resumed.exitCode()).as(resumed.err()).isZero();
    assertThat(stack.sink.distinct()).hasSize(200);
    assertThat(stack.sink.duplicates()).isZero();

    try (Connection connection = postgres.getPostgresDatabase().getConnection();
        ResultSet rows =
            connection
                .createStatement()
                .executeQuery("select status from batch_job_execution order by job_execution_id")) {
      rows.next();
      assertThat(rows.getString(1)).isEqualTo("FAILED");
      rows.next();
      assertThat(rows.getString(1)).isEqualTo("COMPLETED");
    }
  }

  @Test
  void aWindowRunningLongerThanAbandonedAfterIsNotTakenOverByASecondRun() throws Exception {
    stack.insertEvents("e", T, 400);
    stack.properties.put("exporter.backfill.batchSize", "20");
    // 400 events at 50 per second: the first run takes about 8 s, four times abandonedAfter
    stack.properties.put("exporter.backfill.rateLimit", "50");
    stack.properties.put("exporter.backfill.abandonedAfter", "2s");
    String[] window = {"--window-start=" + T, "--window-end=" + T.plusSeconds(3600)};
    Process first = stack.startProcess(dir.resolve("first-run.log"), window);
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> stack.sink.accepted().size() >= 20);
      long sawItRun = System.nanoTime();
      await()
          .pollDelay(Duration.ofSeconds(3))
          .until(() -> System.nanoTime() - sawItRun > 3_000_000_000L);
      assertThat(first.isAlive()).as("the first run is still exporting").isTrue();

      Result second = stack.backfill(window);

      assertThat(second.exitCode()).isEqualTo(1);
      assertThat(second.err()).contains("is being exported by another run");
      assertThat(first.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(first.exitValue()).isZero();
    } finally {
      first.destroyForcibly();
    }
    assertThat(stack.sink.distinct()).hasSize(400);
    assertThat(stack.sink.duplicates()).isZero();
  }
}
