package io.nvsentinel.exporter.backfill.job;

import io.nvsentinel.exporter.store.WindowReader;
import java.time.Instant;
import org.bson.BsonDocument;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.batch.infrastructure.item.ItemStreamReader;

/**
 * The datastore's window reader as the step's reader: where it stands is saved with every committed
 * chunk, so a restart goes on after the last event handed out.
 */
final class WindowItemReader implements ItemStreamReader<BsonDocument> {

  private final WindowReader reader;

  WindowItemReader(WindowReader reader) {
    this.reader = reader;
  }

  @Override
  public void open(ExecutionContext context) {
    reader.open(context.toMap());
  }

  @Override
  public BsonDocument read() {
    return reader.read();
  }

  @Override
  public void update(ExecutionContext context) {
    reader.state().forEach(context::put);
  }

  @Override
  public void close() {
    reader.close();
  }

  /** See {@link WindowReader#firstLeftOut()}. */
  Instant firstLeftOut() {
    return reader.firstLeftOut();
  }
}
