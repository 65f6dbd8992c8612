package io.nvsentinel.exporter.backfill;

import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.backfill.job.BackfillJobConfiguration;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.StackSettings;
import io.nvsentinel.exporter.devstack.TokenIssuer;
import io.nvsentinel.exporter.event.Samples;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.JobInstance;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/** A datastore, a verifying sink and the backfill job's command line, for one test. */
public final class BackfillStack implements AutoCloseable {

  /** What one command did. */
  public record Result(
      int exitCode, String out, String err, List<JobExecution> executions, MeterRegistry meters) {

    /** The executions that ended with {@code status}. */
    public List<JobExecution> withStatus(BatchStatus status) {
      return executions.stream().filter(e -> e.getStatus() == status).toList();
    }

    public double counter(String name) {
      var counter = meters.find(name).counter();
      return counter == null ? 0 : counter.count();
    }
  }

  public final BackfillStore store;
  public final ReferenceSink sink;
  public final Path dir;
  public final Map<String, String> properties = new LinkedHashMap<>();

  /** On an embedded MongoDB. */
  public BackfillStack(TokenIssuer issuer, Path dir) throws Exception {
    this(issuer, dir, BackfillStore.mongo());
  }

  public BackfillStack(TokenIssuer issuer, Path dir, BackfillStore store) throws Exception {
    this.dir = dir;
    this.store = store;
    this.sink = ReferenceSink.start(0, issuer, "events:write");
    Path secret = issuer.writeClientSecret(dir);
    properties.putAll(StackSettings.exporter("test-cluster", sink, issuer, secret));
    properties.putAll(store.settings());
    properties.put("exporter.failureHandling.initialBackoff", "1ms");
    properties.put("exporter.failureHandling.maxBackoff", "10ms");
    properties.put("exporter.failureHandling.maxRetries", "2");
    properties.put("exporter.backfill.rateLimit", "0");
    properties.put("exporter.backfill.jobRepositoryPath", dir.resolve("jobs").toString());
  }

  /** Stores the documents. */
  public void insert(List<BsonDocument> docs) {
    store.insert(docs);
  }

  /** A stored health event with this id and {@code createdAt}. */
  public static BsonDocument event(String id, Instant createdAt) {
    BsonDocument doc = Samples.good().get(Math.floorMod(id.hashCode(), 40)).clone();
    doc.put("_id", new BsonString(id));
    doc.put("createdAt", new BsonDateTime(Date.from(createdAt).getTime()));
    return doc;
  }

  /** {@code count} events one second apart, the first at {@code first}. */
  public List<BsonDocument> insertEvents(String prefix, Instant first, int count) {
    List<BsonDocument> docs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      docs.add(event(String.format("%s-%05d", prefix, i), first.plusSeconds(i)));
    }
    store.insert(docs);
    return docs;
  }

  public String eventId(BsonValue documentId) {
    return store.eventId(documentId);
  }

  public static String source() {
    return "nvsentinel://test-cluster/healthevents";
  }

  /** Runs the job's command line in this JVM and returns its exit status and output. */
  public Result backfill(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    properties.forEach((k, v) -> all.add("--" + k + "=" + v));
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    System.setOut(new PrintStream(new TeeStream(outBytes, out), true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(new TeeStream(errBytes, err), true, StandardCharsets.UTF_8));
    try {
      ConfigurableApplicationContext context =
          BackfillApplication.application().run(all.toArray(String[]::new));
      JobRepository repository = context.getBean(JobRepository.class);
      List<JobExecution> executions = new ArrayList<>();
      for (JobInstance instance : repository.findJobInstances(BackfillJobConfiguration.JOB)) {
        executions.addAll(repository.getJobExecutions(instance));
      }
      MeterRegistry meters = context.getBean(MeterRegistry.class);
      int code = SpringApplication.exit(context);
      return new Result(
          code,
          outBytes.toString(StandardCharsets.UTF_8),
          errBytes.toString(StandardCharsets.UTF_8),
          executions,
          meters);
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  /** Starts the job's command line in another JVM, its output going to {@code log}. */
  public Process startProcess(Path log, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(BackfillApplication.class.getName());
    command.addAll(processArguments(args));
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  /** The arguments for running the job in another JVM. */
  public List<String> processArguments(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    properties.forEach((k, v) -> all.add("--" + k + "=" + v));
    return all;
  }

  @Override
  public void close() {
    store.close();
    sink.close();
  }

  /** Writes to two streams. */
  private static final class TeeStream extends OutputStream {
    private final OutputStream a;
    private final OutputStream b;

    TeeStream(OutputStream a, OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public void write(int c) throws IOException {
      a.write(c);
      b.write(c);
    }

    @Override
    public void write(byte[] bytes, int off, int len) throws IOException {
      a.write(bytes, off, len);
      b.write(bytes, off, len);
    }
  }
}
