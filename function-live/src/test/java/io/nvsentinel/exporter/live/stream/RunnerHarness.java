package io.nvsentinel.exporter.live.stream;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.cloudevent.CloudEventMapper;
import io.nvsentinel.exporter.cloudevent.EventConverter;
import io.nvsentinel.exporter.cloudevent.EventIds;
import io.nvsentinel.exporter.config.ClientSecret;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.config.TestProperties;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import io.nvsentinel.exporter.delivery.EventDeliverer;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import io.nvsentinel.exporter.live.config.LeaseProperties;
import io.nvsentinel.exporter.live.config.LiveProperties;
import io.nvsentinel.exporter.live.function.BatchExport;
import io.nvsentinel.exporter.live.function.ExportFunctions;
import io.nvsentinel.exporter.live.function.ExportResult;
import io.nvsentinel.exporter.store.ChangeEvent;
import io.nvsentinel.exporter.store.ChangeSource;
import io.nvsentinel.exporter.store.Datastore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.springframework.context.ApplicationEventPublisher;

/**
 * A change-stream runner wired from real parts, without Spring: a datastore ({@link RunnerStore}),
 * a real sink and token issuer, the export functions of the application.
 */
final class RunnerHarness implements AutoCloseable {

  final RunnerStore store;
  final TestProperties config = new TestProperties();

  /** The pod's clock, which a test may set apart from the datastore's. */
  Clock clock = Clock.systemUTC();

  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final Datastore datastore;
  final CheckpointStore checkpoints;
  final GapWindowStore gaps;
  final DeadLetterStore deadLetters;
  private final Path secret;
  private EventDeliverer deliverer;

  /** On the MongoDB at {@code mongoUri}. */
  RunnerHarness(String mongoUri, String sinkEndpoint, String tokenUrl, String clientSecret)
      throws IOException {
    this(new MongoRunnerStore(mongoUri), sinkEndpoint, tokenUrl, clientSecret);
  }

  RunnerHarness(RunnerStore store, String sinkEndpoint, String tokenUrl, String clientSecret)
      throws IOException {
    this.store = store;
    this.secret = Files.createTempFile("secret", "");
    Files.writeString(secret, clientSecret);
    store.configure(config);
    config.sinkEndpoint = sinkEndpoint;
    config.tokenUrl = tokenUrl;
    config.secretFile = secret;
    config.maxRetries = 1000;
    config.initialBackoff = Duration.ofMillis(5);
    config.maxBackoff = Duration.ofMillis(50);
    ExporterProperties properties = config.build();
    this.datastore = store.datastore(properties, meters);
    this.checkpoints = datastore.checkpoints();
    this.gaps = datastore.gapWindows();
    this.deadLetters = datastore.deadLetters();
  }

  /** The MongoDB store, for tests of what only MongoDB does. */
  MongoRunnerStore mongo() {
    return (MongoRunnerStore) store;
  }

  static LiveProperties live(int workers, int maxInFlight) {
    return new LiveProperties(
        workers,
        maxInFlight,
        List.of("insert"),
        10,
        Duration.ofMillis(100),
        Duration.ofSeconds(10),
        Duration.ofSeconds(5),
        Duration.ofMinutes(2),
        false,
        8081,
        null,
        0);
  }

  /** The delivery stack, built once from the configuration as it stands at the first call. */
  EventDeliverer deliverer() {
    if (deliverer == null) {
      ExporterProperties properties = config.build();
      deliverer =
          EventDeliverer.create(
              properties,
              ClientSecret.resolve(properties.oidc(), name -> null),
              deadLetters,
              meters,
              Clock.systemUTC());
    }
    return deliverer;
  }

  /** The application's two functions, composed as its function definition composes them. */
  Function<ChangeEvent, ExportResult> exportFunction() {
    ExporterProperties properties = config.build();
    ExportFunctions functions = new ExportFunctions();
    return functions
        .toCloudEvent(
            new EventConverter(
                new HealthEventDecoder(65_536, meters),
                new CloudEventMapper(properties, Clock.systemUTC())))
        .andThen(functions.deliver(deliverer(), deadLetters));
  }

  /** The application's batched export, used when {@code config.batch} is enabled. */
  BatchExport batchExport() {
    ExporterProperties properties = config.build();
    return ExportFunctions.batched(
        new ExportFunctions()
            .toCloudEvent(
                new EventConverter(
                    new HealthEventDecoder(65_536, meters),
                    new CloudEventMapper(properties, Clock.systemUTC()))),
        deliverer(),
        deadLetters);
  }

  ChangeStreamRunner runner(LiveProperties live) {
    return runner(live, UnaryOperator.identity());
  }

  ChangeStreamRunner runner(LiveProperties live, UnaryOperator<ChangeSource> wrap) {
    return runner(live, wrap, event -> {});
  }

  ChangeStreamRunner runner(
      LiveProperties live, UnaryOperator<ChangeSource> wrap, ApplicationEventPublisher events) {
    return runner(live, wrap, events, UnaryOperator.identity());
  }

  ChangeStreamRunner runner(
      LiveProperties live,
      UnaryOperator<ChangeSource> wrap,
      ApplicationEventPublisher events,
      UnaryOperator<Function<ChangeEvent, ExportResult>> wrapExport) {
    ExporterProperties properties = config.build();
    ChangeSource source = wrap.apply(datastore.changeSource(live.operationTypes()));
    return LiveRunnerWiring.runner(
        source,
        wrapExport.apply(exportFunction()),
        batchExport(),
        checkpoints,
        gaps,
        live,
        properties,
        deliverer(),
        meters,
        clock,
        events);
  }

  /** One of several exporters under one lease, named {@code holder}, with meters of its own. */
  Leadership leadership(LiveProperties live, String holder, MeterRegistry meters) {
    ExporterProperties properties = config.build();
    return LiveRunnerWiring.leadership(
        datastore.changeSource(live.operationTypes()),
        exportFunction(),
        batchExport(),
        checkpoints,
        gaps,
        live,
        new LeaseProperties(
            true, Duration.ofSeconds(2), Duration.ofMillis(200), Duration.ofMillis(50), holder),
        properties,
        deliverer(),
        meters,
        clock,
        event -> {});
  }

  void insert(List<BsonDocument> docs) {
    store.insert(docs);
  }

  /** The id of the CloudEvent of the document stored with {@code documentId}. */
  String eventId(BsonValue documentId) {
    ExporterProperties.Datastore datastore = config.build().datastore();
    return EventIds.of(
        datastore.eventDatabase(), datastore.eventCollection(), store.storedId(documentId));
  }

  @Override
  public void close() throws Exception {
    store.close();
    Files.deleteIfExists(secret);
  }
}
