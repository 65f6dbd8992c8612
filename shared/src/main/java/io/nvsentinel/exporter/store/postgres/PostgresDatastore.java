package io.nvsentinel.exporter.store.postgres;

import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import io.nvsentinel.exporter.store.ChangeSource;
import io.nvsentinel.exporter.store.Datastore;
import io.nvsentinel.exporter.store.PagedWindowReader;
import io.nvsentinel.exporter.store.WindowReader;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * NVSentinel's PostgreSQL store: health events in {@code health_events}, changes read from {@code
 * datastore_changelog}; the exporter's checkpoints, gap windows and dead letters in tables of its
 * own ({@link PostgresConnections#SCHEMA}).
 */
public final class PostgresDatastore implements Datastore {

  /** Change-log rows read at once, at most. */
  public static final int CHANGELOG_BATCH = 500;

  private final PostgresConnections db;
  private final CheckpointStore checkpoints;
  private final GapWindowStore gaps;
  private final DeadLetterStore deadLetters;

  public PostgresDatastore(PostgresConnections db, MeterRegistry meters, Clock clock) {
    this.db = db;
    this.checkpoints = new PostgresCheckpointStore(db);
    this.gaps = new PostgresGapWindowStore(db);
    this.deadLetters = new PostgresDeadLetterStore(db, meters, clock);
  }

  @Override
  public String location() {
    return "PostgreSQL " + db.location() + " health_events";
  }

  @Override
  public CheckpointStore checkpoints() {
    return checkpoints;
  }

  @Override
  public GapWindowStore gapWindows() {
    return gaps;
  }

  @Override
  public DeadLetterStore deadLetters() {
    return deadLetters;
  }

  @Override
  public ChangeSource changeSource(List<String> operationTypes) {
    return new PostgresChangelogSource(
        db::open, operationTypes, ChangeSource.POLL_WAIT, CHANGELOG_BATCH);
  }

  @Override
  public WindowReader windowReader(Instant start, Instant end, long maxEvents, int pageSize) {
    return new PagedWindowReader<>(new PostgresWindowPages(db, start, end), maxEvents, pageSize);
  }

  @Override
  public long count(Instant start, Instant end) {
    return PostgresWindowPages.count(db, start, end);
  }

  @Override
  public Optional<BsonDocument> find(BsonValue id) {
    return Optional.ofNullable(StoredDocuments.find(db, id));
  }
}
