package io.nvsentinel.exporter.backfill;

import static org.assertj.core.api.Assertions.assertThat;

import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.devstack.DevStore;
import io.nvsentinel.exporter.devstack.EmbeddedPostgresStore;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.testkit.PostgresServer;
import java.util.UUID;
import org.bson.BsonString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The backfill contract on NVSentinel's PostgreSQL store: {@code health_events} read by {@code
 * created_at} through Spring Batch's paging reader, a real PostgreSQL with a database of its own
 * for each test.
 */
class BackfillPostgresTest extends BackfillContract {

  @RegisterExtension static final PostgresServer postgres = new PostgresServer();

  @Override
  BackfillStore store() throws Exception {
    return BackfillStore.postgres(postgres.store());
  }

  /** A row as NVSentinel's platform connector stores it: the same id as the live exporter's. */
  @Test
  void aRowStoredByNVSentinelIsExportedWithTheLiveExportersId() throws Exception {
    EmbeddedPostgresStore db = ((DevStore.Postgres) stack.store.dev).server();
    UUID row = db.insert("node-1", EmbeddedPostgresStore.document("node-1", "m"), T);

    var result = stack.backfill("run", "--window-start=" + T, "--window-end=" + T.plusSeconds(60));

    assertThat(result.exitCode()).as(result.err()).isZero();
    assertThat(stack.sink.distinct())
        .extracting(ReferenceSink.Received::id)
        .containsExactly(
            EventIds.of(db.database(), "health_events", new BsonString(row.toString())));
  }
}
