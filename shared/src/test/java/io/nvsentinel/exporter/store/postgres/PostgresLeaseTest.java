package io.nvsentinel.exporter.store.postgres;

import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.LeaseContract;
import io.nvsentinel.exporter.checkpoint.StreamPosition;
import io.nvsentinel.exporter.config.TestProperties;
import io.nvsentinel.exporter.devstack.EmbeddedPostgresStore;
import io.nvsentinel.exporter.testkit.PostgresServer;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt64;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The lease as a row of {@code event_exporter_leases}, checked in the checkpoint's transaction. */
class PostgresLeaseTest extends LeaseContract {

  @RegisterExtension static final PostgresServer postgres = new PostgresServer();

  @Override
  protected CheckpointStore store() {
    try {
      EmbeddedPostgresStore db = postgres.freshDatabase("lease");
      return new PostgresCheckpointStore(new PostgresConnections(TestProperties.postgresqlOf(db)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Numbers past 32 bits, which the JSON the position is stored as reads back unchanged. */
  @Override
  protected StreamPosition position(int n) {
    long id = 10_000_000_000L + n;
    return new ChangelogPosition(
        new BsonDocument("watermark", new BsonInt64(id))
            .append("id", new BsonInt64(id))
            .append("changedAt", new BsonDateTime(T.plusSeconds(n).toEpochMilli()))
            .append("changedAtMicros", new BsonInt64(T.plusSeconds(n).toEpochMilli() * 1_000)));
  }
}
