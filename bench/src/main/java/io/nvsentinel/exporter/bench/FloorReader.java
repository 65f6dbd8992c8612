package io.nvsentinel.exporter.bench;

import com.mongodb.client.MongoChangeStreamCursor;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.changestream.ChangeStreamDocument;
import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.devstack.EmbeddedPostgresStore;
import io.nvsentinel.exporter.store.ChangeEvent;
import io.nvsentinel.exporter.store.ChangeSource;
import io.nvsentinel.exporter.store.postgres.PostgresChangelogSource;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.sql.DriverManager;
import java.time.Instant;
import java.util.List;
import org.bson.BsonDocument;

/**
 * The floor of the live latency: a change-stream reader with no export at all, run as its own
 * process under the same limits as the exporter. It reads each inserted event — the MongoDB
 * driver's change stream, or the exporter's own PostgreSQL change-log source — and prints its
 * CloudEvent id, which the benchmark times as the exporter's arrival at the sink.
 *
 * <p>Usage: {@code FloorReader mongo <uri>} or {@code FloorReader postgresql <port>}.
 */
public final class FloorReader {

  private FloorReader() {}

  public static void main(String[] args) throws Exception {
    PrintStream out =
        new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out)), false);
    if (args[0].equals("mongo")) {
      try (MongoClient client = MongoClients.create(args[1]);
          MongoChangeStreamCursor<ChangeStreamDocument<BsonDocument>> cursor =
              client
                  .getDatabase(FootprintBenchmark.DATABASE)
                  .getCollection(FootprintBenchmark.COLLECTION, BsonDocument.class)
                  .watch(List.of(Aggregates.match(Filters.eq("operationType", "insert"))))
                  .cursor()) {
        ready(out);
        while (true) {
          BsonDocument document = cursor.next().getFullDocument();
          out.println(
              EventIds.of(
                  FootprintBenchmark.DATABASE, FootprintBenchmark.COLLECTION, document.get("_id")));
          out.flush();
        }
      }
    }
    if (args[0].equals("postgresql-plain")) {
      plainChangelog(out, args[1]);
      return;
    }
    String url =
        "jdbc:postgresql://localhost:"
            + args[1]
            + "/"
            + EmbeddedPostgresStore.DATABASE
            + "?user="
            + EmbeddedPostgresStore.USER;
    PostgresChangelogSource source =
        new PostgresChangelogSource(
            () -> DriverManager.getConnection(url), List.of("insert"), ChangeSource.POLL_WAIT, 500);
    try (ChangeSource.Cursor cursor = source.open(null, Instant.now())) {
      ready(out);
      while (true) {
        ChangeEvent change = cursor.tryNext();
        if (change != null) {
          out.println(
              EventIds.of(
                  EmbeddedPostgresStore.DATABASE, "health_events", change.document().get("_id")));
          out.flush();
        }
      }
    }
  }

  /**
   * The least a change-log reader can do: LISTEN, and on each wake-up one query for the rows above
   * the highest id read. It skips a row whose transaction commits after a later id was read — the
   * case the exporter's source guards against with its watermark — so it is a floor, not a reader.
   */
  private static void plainChangelog(PrintStream out, String port) throws Exception {
    String url =
        "jdbc:postgresql://localhost:"
            + port
            + "/"
            + EmbeddedPostgresStore.DATABASE
            + "?user="
            + EmbeddedPostgresStore.USER;
    try (var connection = DriverManager.getConnection(url);
        var listen = connection.createStatement();
        var query =
            connection.prepareStatement(
                "SELECT id, record_id FROM datastore_changelog WHERE id > ?"
                    + " AND table_name = 'health_events' AND operation = 'INSERT' ORDER BY id")) {
      listen.execute("LISTEN nvsentinel_changes");
      long last;
      try (var max =
          connection
              .createStatement()
              .executeQuery("SELECT coalesce(max(id), 0) FROM datastore_changelog")) {
        max.next();
        last = max.getLong(1);
      }
      ready(out);
      var pg = connection.unwrap(org.postgresql.PGConnection.class);
      while (true) {
        pg.getNotifications(500);
        query.setLong(1, last);
        try (var rows = query.executeQuery()) {
          while (rows.next()) {
            last = rows.getLong(1);
            out.println(
                EventIds.of(
                    EmbeddedPostgresStore.DATABASE,
                    "health_events",
                    new org.bson.BsonString(rows.getString(2))));
          }
        }
        out.flush();
      }
    }
  }

  private static void ready(PrintStream out) {
    out.println("READY");
    out.flush();
  }
}
