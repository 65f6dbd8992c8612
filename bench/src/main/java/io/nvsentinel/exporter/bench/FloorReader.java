package io.nvsentinel.exporter.bench;

import com.mongodb.client.MongoChangeStreamCursor;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.changestream.ChangeStreamDocument;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nvsentinel.exporter.cloudevent.CloudEventMapper;
import io.nvsentinel.exporter.cloudevent.Conversion;
import io.nvsentinel.exporter.cloudevent.EventConverter;
import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.devstack.EmbeddedPostgresStore;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import io.nvsentinel.exporter.store.ChangeEvent;
import io.nvsentinel.exporter.store.ChangeSource;
import io.nvsentinel.exporter.store.postgres.PostgresChangelogSource;
import io.nvsentinel.exporter.store.postgres.StoredDocuments;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;
import org.bson.BsonDocument;

/**
 * The floor of the live latency: a change-stream reader with no export at all, run as its own
 * process under the same limits as the exporter. It reads each inserted event — the MongoDB
 * driver's change stream, or the exporter's own PostgreSQL change-log source — and prints its
 * CloudEvent id, which the benchmark times as the exporter's arrival at the sink.
 *
 * <p>Usage: {@code FloorReader mongo <uri>}, {@code FloorReader postgresql <port>} or {@code
 * FloorReader postgresql-plain <port>}; for the backfill's floor, {@code FloorReader mongo-window
 * <uri> <from> <count>} or {@code postgresql-window <port> <from> <count>} page through {@code
 * count} events from {@code from} (an instant) as the backfill's reader does, 500 a page in storage
 * order, and print the CPU the last four fifths took; {@code mongo-window-mapped} and {@code
 * postgresql-window-mapped} also decode and map each one to its CloudEvent with the exporter's
 * converter, as the backfill does before it posts (and send nothing).
 */
public final class FloorReader {

  private FloorReader() {}

  public static void main(String[] args) throws Exception {
    PrintStream out =
        new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out)), false);
    if (args[0].contains("-window")) {
      window(out, args[0], args[1], Instant.parse(args[2]), Integer.parseInt(args[3]));
      return;
    }
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
    String url = jdbcUrl(args[1]);
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
    String url = jdbcUrl(port);
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

  /**
   * Reads {@code count} events a page of 500 at a time after the last key, as the backfill's reader
   * does (the MongoDB driver's documents; PostgreSQL's rows with the document as text), exporting
   * nothing; prints {@code CPU <ms> EVENTS <n>} for all but the first fifth.
   */
  private static void window(PrintStream out, String mode, String where, Instant from, int count)
      throws Exception {
    Tally tally = new Tally(count / 5, mode.endsWith("-mapped") ? converter() : null);
    if (mode.startsWith("mongo")) {
      try (MongoClient client = MongoClients.create(where)) {
        var events =
            client
                .getDatabase(FootprintBenchmark.DATABASE)
                .getCollection(FootprintBenchmark.COLLECTION, BsonDocument.class);
        Object[] last = {java.util.Date.from(from), null};
        tally.pages(
            count,
            () -> {
              int page = 0;
              java.util.Date at = (java.util.Date) last[0];
              for (BsonDocument event :
                  events
                      .find(
                          last[1] == null
                              ? Filters.gte("createdAt", at)
                              : Filters.or(
                                  Filters.gt("createdAt", at),
                                  Filters.and(
                                      Filters.eq("createdAt", at), Filters.gt("_id", last[1]))))
                      .sort(com.mongodb.client.model.Sorts.ascending("createdAt", "_id"))
                      .limit(500)) {
                last[0] = new java.util.Date(event.getDateTime("createdAt").getValue());
                last[1] = event.get("_id");
                page++;
                tally.one(() -> event);
              }
              return page;
            });
      }
    } else {
      try (var connection = DriverManager.getConnection(jdbcUrl(where));
          var query =
              connection.prepareStatement(
                  "SELECT id, created_at, document::text FROM health_events"
                      + " WHERE (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT 500")) {
        query.setTimestamp(1, java.sql.Timestamp.from(from.minusSeconds(1)));
        query.setObject(2, new java.util.UUID(0, 0));
        tally.pages(
            count,
            () -> {
              int page = 0;
              try (var rows = query.executeQuery()) {
                while (rows.next()) {
                  java.util.UUID id = rows.getObject(1, java.util.UUID.class);
                  query.setObject(2, id);
                  query.setTimestamp(1, rows.getTimestamp(2));
                  String text = rows.getString(3);
                  page++;
                  tally.one(() -> StoredDocuments.of(id, text));
                }
              }
              return page;
            });
      }
    }
    out.println(tally);
    out.flush();
  }

  /** Reads one page; returns how many events it held. */
  private interface Page {
    int read() throws Exception;
  }

  /** The exporter's decoder and mapper, with the benchmark's settings. */
  private static EventConverter converter() {
    ExporterProperties properties =
        DeliveryBenchmark.properties(
            "http://127.0.0.1:9/events",
            "http://127.0.0.1:9/token",
            "mongodb://127.0.0.1:9",
            Path.of("unused"));
    return new EventConverter(
        new HealthEventDecoder(properties.maxMessageLength(), new SimpleMeterRegistry()),
        new CloudEventMapper(properties, Clock.systemUTC()));
  }

  /** Events read (and mapped, with a converter), and the CPU and time from the warm-up on. */
  private static final class Tally {
    private final int warmUp;
    private final EventConverter converter;
    private int read;
    private long bytes;
    private long cpuAtWarm;
    private long warmAt;

    Tally(int warmUp, EventConverter converter) {
      this.warmUp = warmUp;
      this.converter = converter;
    }

    void pages(int count, Page page) throws Exception {
      while (read < count && page.read() > 0) {
        // the next page starts after the last event read
      }
    }

    /** One event read; its document is built and mapped only when mapping is measured. */
    void one(Supplier<BsonDocument> document) {
      if (converter != null
          && converter.convert(document.get()) instanceof Conversion.Converted converted) {
        bytes += converted.event().json().length;
      }
      if (++read == warmUp) {
        cpuAtWarm = cpuMillis();
        warmAt = System.nanoTime();
      }
    }

    @Override
    public String toString() {
      return "CPU "
          + (cpuMillis() - cpuAtWarm)
          + " EVENTS "
          + (read - warmUp)
          + " MS "
          + (System.nanoTime() - warmAt) / 1_000_000
          + " BYTES "
          + bytes;
    }
  }

  /** The benchmark's PostgreSQL on {@code port}, as its superuser. */
  private static String jdbcUrl(String port) {
    return "jdbc:postgresql://localhost:"
        + port
        + "/"
        + EmbeddedPostgresStore.DATABASE
        + "?user="
        + EmbeddedPostgresStore.USER;
  }

  private static long cpuMillis() {
    return ProcessHandle.current().info().totalCpuDuration().orElseThrow().toMillis();
  }

  private static void ready(PrintStream out) {
    out.println("READY");
    out.flush();
  }
}
