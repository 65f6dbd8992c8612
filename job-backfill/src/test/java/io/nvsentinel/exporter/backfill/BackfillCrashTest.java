package io.nvsentinel.exporter.backfill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.nvsentinel.exporter.backfill.BackfillStack.Result;
import io.nvsentinel.exporter.devstack.EmbeddedPostgresStore;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import io.nvsentinel.exporter.testkit.LocalStack;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.bson.BsonDocument;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.batch.core.BatchStatus;

/**
 * The job process is killed mid-run (SIGKILL, not an exception); the rerun goes on from there, on
 * either datastore.
 */
class BackfillCrashTest {

  // relative to today: the default window reaches back maxAge (720h) from now, and a fixed date
  // falls out of it a month later
  static final Instant T = Instant.now().truncatedTo(ChronoUnit.HOURS).minus(Duration.ofDays(2));

  @TempDir Path dir;
  @RegisterExtension static final LocalStack tokens = LocalStack.issuer();
  TokenIssuer issuer;
  BackfillStack stack;
  EmbeddedPostgresStore postgres;
  Process process;

  @BeforeEach
  void setUp() throws Exception {
    issuer = tokens.tokens();
    stack = new BackfillStack(issuer, dir);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (process != null) {
      process.destroyForcibly();
    }
    stack.close();
    if (postgres != null) {
      postgres.close();
    }
  }

  private String otherJvmLog() throws IOException {
    List<String> lines = Files.readAllLines(dir.resolve("other-jvm.log"));
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }

  private Process startInAnotherJvm(String... args) throws Exception {
    return stack.startProcess(dir.resolve("other-jvm.log"), args);
  }

  @Test
  void aRunThatFindsTheJobRepositoryHeldSaysSoAndExitsThree() throws Exception {
    List<BsonDocument> docs = stack.insertEvents("e", T, 20);
    String[] window = {"--window-start=" + T, "--window-end=" + T.plusSeconds(60)};
    // another process holding the H2 job repository, as a pod of a second run on the same volume
    try (Connection holder =
        DriverManager.getConnection(
            "jdbc:h2:file:" + dir.resolve("jobs").resolve("jobs"), "sa", "")) {
      process = startInAnotherJvm(window);
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();

      assertThat(process.exitValue())
          .as(otherJvmLog())
          .isEqualTo(BackfillApplication.REPOSITORY_HELD)
          .isEqualTo(3);
      assertThat(otherJvmLog())
          .contains("another run holds the job repository")
          .contains("nothing was done, exiting 3");
      assertThat(stack.sink.accepted()).isEmpty();
    }

    process = startInAnotherJvm(window);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(otherJvmLog()).isZero();
    assertThat(stack.sink.distinct()).hasSize(docs.size());
  }

  @Test
  void sigtermStopsAfterTheCurrentChunkAndLeavesARestartableWindow() throws Exception {
    List<BsonDocument> docs = stack.insertEvents("e", T, 1000);
    stack.properties.put("exporter.backfill.batchSize", "50");
    stack.properties.put("exporter.backfill.rateLimit", "400");
    String[] window = {"--window-start=" + T, "--window-end=" + T.plusSeconds(3600)};
    process = startInAnotherJvm(window);

    await().atMost(Duration.ofSeconds(60)).until(() -> stack.sink.accepted().size() >= 200);
    process.destroy(); // SIGTERM
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    int sent = stack.sink.accepted().size();
    assertThat(sent).isLessThan(1000);

    Result list = stack.backfill("list");
    assertThat(list.out()).as(otherJvmLog()).contains("STOPPED");

    Result rerun = stack.backfill(window);
    assertThat(rerun.exitCode()).as(rerun.err()).isZero();
    assertThat(stack.sink.distinct()).hasSize(1000);
    assertThat(stack.sink.duplicates()).as("a graceful stop commits its last chunk").isZero();
  }

  @ParameterizedTest(name = "on {0}")
  @ValueSource(strings = {"mongodb", "postgresql"})
  void afterAKillTheRerunContinuesFromTheLastCommittedChunk(String datastore) throws Exception {
    if (datastore.equals("postgresql")) {
      stack.close();
      postgres = EmbeddedPostgresStore.start(dir.resolve("pg"));
      stack = new BackfillStack(issuer, dir, BackfillStore.postgres(postgres));
    }
    List<BsonDocument> docs = stack.insertEvents("e", T, 1000);
    stack.properties.put("exporter.backfill.batchSize", "50");
    stack.properties.put("exporter.backfill.rateLimit", "400");
    // a killed run's lease on its window expires after this; then the window counts as abandoned
    stack.properties.put("exporter.backfill.abandonedAfter", "2s");
    String[] window = {"--window-start=" + T, "--window-end=" + T.plusSeconds(3600)};

    process = stack.startProcess(dir.resolve("killed-run.log"), window);

    await().atMost(Duration.ofSeconds(60)).until(() -> stack.sink.accepted().size() >= 300);
    process.destroyForcibly().waitFor();
    int beforeKill = stack.sink.accepted().size();
    assertThat(beforeKill).as("killed mid-run").isLessThan(1000);

    // the killed run is still marked as running; once its lease expired it counts as abandoned
    long killedAt = System.nanoTime();
    await()
        .pollDelay(Duration.ofMillis(2_100))
        .until(() -> System.nanoTime() - killedAt > 2_100_000_000L);
    Result rerun = stack.backfill(window);

    assertThat(rerun.exitCode()).as(rerun.err()).isZero();
    Set<String> delivered =
        stack.sink.distinct().stream().map(ReferenceSink.Received::id).collect(Collectors.toSet());
    assertThat(delivered)
        .isEqualTo(docs.stream().map(d -> stack.eventId(d.get("_id"))).collect(Collectors.toSet()));
    // only what the killed run had sent of its unfinished chunk goes out again
    assertThat(stack.sink.duplicates()).isLessThanOrEqualTo(50L);
    assertThat(rerun.withStatus(BatchStatus.COMPLETED)).hasSize(1);
    assertThat(rerun.executions()).hasSize(2);
  }
}
