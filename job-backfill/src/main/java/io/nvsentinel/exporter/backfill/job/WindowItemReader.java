package io.nvsentinel.exporter.backfill.job;

import io.nvsentinel.exporter.store.WindowReader;
import java.time.Instant;
import org.bson.BsonDocument;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.batch.infrastructure.item.ItemStreamReader;

/**
 * The datastore's window reader as the step's reader: where it stands is saved with every committed
 * chunk, so a restart goes on after the last event handed out. An interface, so the step scope can
 * proxy it.
 */
interface WindowItemReader extends ItemStreamReader<BsonDocument> {

  /** See {@link WindowReader#firstLeftOut()}. */
  Instant firstLeftOut();

  static WindowItemReader of(WindowReader reader) {
    return new WindowItemReader() {
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

      @Override
      public Instant firstLeftOut() {
        return reader.firstLeftOut();
      }
    };
  }
}
