package io.nvsentinel.exporter.backfill;

import static org.assertj.core.api.Assertions.assertThat;

import io.nvsentinel.exporter.backfill.BackfillStack.Result;
import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.devstack.EmbeddedPostgresStore;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.bson.BsonString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backfill job over NVSentinel's PostgreSQL store: {@code health_events} read by {@code
 * created_at} through Spring Batch's paging reader, a real PostgreSQL, token issuer and sink.
 */
class BackfillPostgresTest {

  static final Instant T = Instant.now().truncatedTo(ChronoUnit.HOURS).minus(Duration.ofDays(2));

  @TempDir Path dir;
  TokenIssuer issuer;
  BackfillStack stack;
  EmbeddedPostgresStore store;

  @BeforeEach
  void setUp() throws Exception {
    store = EmbeddedPostgresStore.start(dir.resolve("pg"));
    issuer = TokenIssuer.start(TokenIssuer.Settings.defaults());
    stack = new BackfillStack(issuer, dir);
    stack.properties.put("exporter.datastore.provider", "postgresql");
    stack.properties.put("exporter.datastore.postgresql.host", "localhost");
    stack.properties.put("exporter.datastore.postgresql.port", String.valueOf(store.port()));
    stack.properties.put("exporter.datastore.postgresql.database", EmbeddedPostgresStore.DATABASE);
    stack.properties.put("exporter.datastore.postgresql.username", EmbeddedPostgresStore.USER);
    stack.properties.put("exporter.datastore.postgresql.sslmode", "disable");
  }

  @AfterEach
  void tearDown() throws Exception {
    stack.close();
    issuer.close();
    store.close();
  }

  List<UUID> insert(int count) throws Exception {
    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ids.add(
          store.insert(
              "node-" + i,
              EmbeddedPostgresStore.document("node-" + i, "m" + i),
              T.plusSeconds(i % 7).plusMillis(i)));
    }
    return ids;
  }

  @Test
  void aFailedWindowResumesAfterItsLastChunkWithTheLiveExportersIds() throws Exception {
    List<UUID> ids = insert(120);
    store.insert("outside", EmbeddedPostgresStore.document("outside", "x"), T.plusSeconds(7200));
    stack.properties.put("exporter.backfill.batchSize", "20");
    stack.sink.acceptAtMost(50);
    String[] window = {"run", "--window-start=" + T, "--window-end=" + T.plusSeconds(3600)};

    Result failed = stack.backfill(window);
    assertThat(failed.exitCode()).isEqualTo(1);

    stack.sink.acceptAtMost(Long.MAX_VALUE);
    Result resumed = stack.backfill(window);
    assertThat(resumed.exitCode()).as(resumed.err()).isZero();
    assertThat(stack.sink.distinct())
        .extracting(ReferenceSink.Received::id)
        .containsExactlyInAnyOrderElementsOf(
            ids.stream()
                .map(id -> EventIds.of("postgres", "health_events", new BsonString(id.toString())))
                .toList());
    assertThat(stack.sink.accepted())
        .as("only the chunk in flight when the sink stopped is sent again")
        .hasSizeLessThanOrEqualTo(120 + 20);
  }

  @Test
  void aWindowCutShortByMaxEventsLeavesTheRestAsAPendingWindowInPostgres() throws Exception {
    insert(30);
    stack.properties.put("exporter.backfill.batchSize", "10");
    stack.properties.put("exporter.backfill.maxEvents", "12");

    Result capped =
        stack.backfill("run", "--window-start=" + T, "--window-end=" + T.plusSeconds(3600));
    assertThat(stack.sink.distinct()).hasSize(12);
    assertThat(capped.out() + capped.err()).contains("maxEvents (12)");
    try (Connection connection = store.connect();
        ResultSet rows =
            connection
                .createStatement()
                .executeQuery("SELECT kind, status FROM event_exporter_gap_windows")) {
      assertThat(rows.next()).isTrue();
      assertThat(rows.getString(1)).isEqualTo("remainder");
      assertThat(rows.getString(2)).isEqualTo("pending");
    }
  }
}
