package io.nvsentinel.exporter.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.mongodb.client.MongoClients;
import io.nvsentinel.exporter.checkpoint.Checkpoint;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.config.TestProperties;
import io.nvsentinel.exporter.devstack.ArrivalSeries;
import io.nvsentinel.exporter.devstack.DatastoreProxy;
import io.nvsentinel.exporter.devstack.DemoHistory;
import io.nvsentinel.exporter.devstack.DevStore;
import io.nvsentinel.exporter.devstack.EmbeddedMongo;
import io.nvsentinel.exporter.devstack.EmbeddedPostgresStore;
import io.nvsentinel.exporter.devstack.ExporterProcess;
import io.nvsentinel.exporter.devstack.ReferenceSink;
import io.nvsentinel.exporter.devstack.StackSettings;
import io.nvsentinel.exporter.store.mongo.MongoCheckpointStore;
import io.nvsentinel.exporter.store.postgres.PostgresCheckpointStore;
import io.nvsentinel.exporter.store.postgres.PostgresConnections;
import io.nvsentinel.exporter.testkit.LocalStack;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.bson.BsonDocument;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live exporters as processes of their own under one lease, one leading and the others standing by,
 * while events arrive without pause: the leader's datastore connection is cut, the leader is frozen
 * (SIGSTOP) past its lease and woken, killed (SIGKILL), and rolled over (a new pod, then SIGTERM).
 * Through all of it every event arrives, every duplicate under its own id, and the stored position
 * never moves backwards. The times each change took are printed; the benchmark ({@code
 * bench/run-failover.sh}) measures them at the default lease.
 */
class HotStandbyTest {

  @RegisterExtension static final LocalStack stack = LocalStack.issuer().withSink();

  static final String CLIENT = "event-exporter";
  static final Duration LEASE = Duration.ofSeconds(2);

  @TempDir Path dir;
  final List<AutoCloseable> open = new ArrayList<>();
  final List<ExporterProcess> exporters = new CopyOnWriteArrayList<>();
  final List<String> regressions = new CopyOnWriteArrayList<>();
  final List<BsonDocument> inserted = new CopyOnWriteArrayList<>();
  ScheduledExecutorService background;

  @AfterEach
  void tearDown() throws Exception {
    if (background != null) {
      background.shutdownNow();
      background.awaitTermination(10, TimeUnit.SECONDS);
    }
    for (ExporterProcess exporter : exporters) {
      exporter.close();
      // kept where CI keeps its reports, for a failure to be read
      Path logs = Files.createDirectories(Path.of("target", "hot-standby"));
      Files.writeString(logs.resolve(exporter.name() + ".log"), exporter.log());
    }
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  @Test
  void onMongoDbNothingIsLostThroughACutAPauseAKillAndARollout() throws Exception {
    EmbeddedMongo mongo = EmbeddedMongo.start();
    DevStore store = track(new DevStore.Mongo(mongo));
    DatastoreProxy proxy = track(new DatastoreProxy(mongo));
    TestProperties config = new TestProperties();
    config.mongoUri = mongo.connectionString();
    CheckpointStore checkpoints =
        new MongoCheckpointStore(
            track(MongoClients.create(mongo.connectionString())), config.build().resumeToken());
    scenario(store, checkpoints, Map.of("exporter.datastore.uri", proxy.connectionString()), proxy);
  }

  @Test
  void onPostgreSqlNothingIsLostThroughACutAPauseAKillAndARollout() throws Exception {
    EmbeddedPostgresStore postgres = EmbeddedPostgresStore.start(dir.resolve("pg"));
    DevStore store = track(new DevStore.Postgres(postgres));
    DatastoreProxy proxy =
        track(new DatastoreProxy(new InetSocketAddress("127.0.0.1", postgres.port())));
    CheckpointStore checkpoints =
        new PostgresCheckpointStore(new PostgresConnections(TestProperties.postgresqlOf(postgres)));
    scenario(
        store,
        checkpoints,
        Map.of(
            "exporter.datastore.postgresql.host",
            "127.0.0.1",
            "exporter.datastore.postgresql.port",
            String.valueOf(proxy.port())),
        proxy);
  }

  void scenario(
      DevStore store,
      CheckpointStore checkpoints,
      Map<String, String> throughProxy,
      DatastoreProxy proxy)
      throws Exception {
    ReferenceSink sink = stack.sink();
    Path secret = stack.tokens().writeClientSecret(dir);

    // a leader through the proxy, then a standby straight to the datastore
    ExporterProcess a = exporter("a", store, secret, throughProxy);
    await().atMost(Duration.ofSeconds(90)).until(() -> a.loggedAt(BECAME).isPresent());
    int tokensBefore = stack.tokens().tokenRequests();
    int standbyPort = freePort();
    ExporterProcess b =
        exporter(
            "b", store, secret, Map.of("exporter.live.metricsPort", String.valueOf(standbyPort)));
    await().atMost(Duration.ofSeconds(90)).until(() -> b.loggedAt(STANDING_BY).isPresent());
    // a healthy standby is ready: it can lead the moment the lease is free
    await().atMost(Duration.ofSeconds(30)).until(() -> readyz(standbyPort) == 200);
    // and warm: it has its access token before any event needs one (no event was stored yet)
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> stack.tokens().tokenRequests() > tokensBefore);

    background = Executors.newScheduledThreadPool(2);
    DemoHistory history = new DemoHistory(11);
    background.scheduleAtFixedRate(
        () -> {
          BsonDocument doc = history.event(Instant.now());
          store.insert(List.of(doc));
          inserted.add(doc);
        },
        0,
        20,
        TimeUnit.MILLISECONDS);
    background.scheduleAtFixedRate(() -> watchPosition(checkpoints), 0, 50, TimeUnit.MILLISECONDS);
    await().atMost(Duration.ofSeconds(30)).until(() -> sink.distinct().size() >= 50);

    // 1. the datastore unreachable for the leader only: the standby takes over
    Instant cut = Instant.now();
    proxy.cut();
    ExporterProcess second = awaitNewLeader(cut);
    assertThat(second).isSameAs(b);
    proxy.restore();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> a.loggedAt(STOPPED).filter(t -> t.isAfter(cut)).isPresent());
    report("datastore cut from the leader", cut, second);

    // the pod of the coming rollout, standing by from now on
    ExporterProcess c = exporter("c", store, secret, Map.of());

    // 2. the leader frozen past its lease, then woken: it must not move the position again
    Instant frozen = Instant.now();
    second.pause();
    ExporterProcess third = awaitNewLeader(frozen);
    // frozen a whole lease longer: long past the moment the other took over
    await().pollDelay(LEASE).atMost(LEASE.multipliedBy(2)).until(() -> true);
    second.resume();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> second.loggedAt(STOPPED).filter(t -> t.isAfter(frozen)).isPresent());
    report("leader frozen (SIGSTOP)", frozen, third);

    // 3. the leader killed
    await().atMost(Duration.ofSeconds(90)).until(() -> c.loggedAt(STANDING_BY).isPresent());
    ExporterProcess leader = leader();
    Instant killed = Instant.now();
    leader.kill();
    ExporterProcess fourth = awaitNewLeader(killed);
    report("leader killed (SIGKILL)", killed, fourth);

    // 4. a rollout: with the new pod standing by, SIGTERM to the leader, which hands off
    ExporterProcess old = leader();
    Instant terminated = Instant.now();
    // a JVM ends on SIGTERM with 128 + 15 once its shutdown (the hand-off) is done
    assertThat(old.terminate()).isEqualTo(143);
    assertThat(old.log()).contains("shutting down, lease released");
    ExporterProcess fifth = awaitNewLeader(terminated);
    report("leader stopped (SIGTERM)", terminated, fifth);

    // not interrupted: an insert cut short could reach the store without being counted
    background.shutdown();
    assertThat(background.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    Set<String> expected =
        inserted.stream()
            .map(
                d ->
                    EventIds.of(store.database(), store.collection(), store.storedId(d.get("_id"))))
            .collect(Collectors.toSet());
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                sink.distinct().stream()
                    .map(ReferenceSink.Received::id)
                    .collect(Collectors.toSet())
                    .containsAll(expected));
    assertThat(sink.distinct()).as("nothing but the inserted events").hasSize(expected.size());
    // every copy beyond the first came under the id of the first, so the sink recognised it
    assertThat(sink.accepted().size() - sink.distinct().size()).isEqualTo(sink.duplicates());
    assertThat(regressions).as("the stored position never moved backwards").isEmpty();
    System.out.printf(
        "%s: %d events, %d duplicates, largest pause in arrivals %d ms%n",
        store.describe(),
        expected.size(),
        sink.duplicates(),
        ArrivalSeries.longestPause(sink.accepted(), Instant.EPOCH, Instant.now()).toMillis());
  }

  static final String BECAME = "became the leader";
  static final String STOPPED = "stopped being the leader";
  static final String STANDING_BY = "standing by as";

  ExporterProcess exporter(String name, DevStore store, Path secret, Map<String, String> extra)
      throws Exception {
    Map<String, String> settings =
        new LinkedHashMap<>(
            StackSettings.exporter("standby-cluster", stack.sink(), stack.tokens(), secret));
    settings.putAll(store.settings());
    settings.put("exporter.live.metricsPort", "0");
    settings.putAll(extra);
    settings.put("exporter.live.tokenFlushInterval", "200ms");
    settings.put("exporter.live.lease.enabled", "true");
    settings.put("exporter.live.lease.duration", LEASE.toMillis() + "ms");
    settings.put("exporter.live.lease.renewInterval", "500ms");
    settings.put("exporter.live.lease.retryInterval", "100ms");
    settings.put("exporter.live.lease.holder", name);
    settings.put("exporter.failureHandling.initialBackoff", "50ms");
    settings.put("exporter.failureHandling.maxBackoff", "500ms");
    ExporterProcess process =
        ExporterProcess.start(name, LiveExporterApplication.class.getName(), settings, dir);
    exporters.add(process);
    return process;
  }

  /** The live exporter that leads now: it became the leader after it last stopped being it. */
  ExporterProcess leader() {
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> exporters.stream().filter(ExporterProcess::leading).findFirst(),
            Optional::isPresent)
        .orElseThrow();
  }

  /** The exporter that logged becoming the leader after {@code since}. */
  ExporterProcess awaitNewLeader(Instant since) {
    return await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                exporters.stream()
                    .filter(ExporterProcess::alive)
                    .filter(e -> e.loggedAt(BECAME).filter(t -> t.isAfter(since)).isPresent())
                    .findFirst(),
            Optional::isPresent)
        .orElseThrow();
  }

  void report(String what, Instant at, ExporterProcess next) {
    Instant led = next.loggedAt(BECAME).orElseThrow();
    System.out.printf(
        "%s: %s led %d ms later%n", what, next.name(), Duration.between(at, led).toMillis());
  }

  private Instant lastSeen;

  void watchPosition(CheckpointStore checkpoints) {
    try {
      Instant now = checkpoints.load(CLIENT).map(Checkpoint::lastEventTime).orElse(null);
      if (now != null && lastSeen != null && now.isBefore(lastSeen)) {
        regressions.add(lastSeen + " -> " + now);
      }
      if (now != null) {
        lastSeen = now;
      }
    } catch (RuntimeException e) {
      // the datastore is busy; the next look tells
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  static int readyz(int port) {
    try {
      return HttpClient.newHttpClient()
          .send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz")).build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 0;
    }
  }

  <T extends AutoCloseable> T track(T resource) {
    open.add(resource);
    return resource;
  }
}
