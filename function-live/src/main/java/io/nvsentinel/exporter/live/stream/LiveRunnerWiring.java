package io.nvsentinel.exporter.live.stream;

import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.delivery.EventDeliverer;
import io.nvsentinel.exporter.delivery.SinkAvailability;
import io.nvsentinel.exporter.live.config.LeaseProperties;
import io.nvsentinel.exporter.live.config.LiveProperties;
import io.nvsentinel.exporter.live.function.BatchExport;
import io.nvsentinel.exporter.live.function.ExportResult;
import io.nvsentinel.exporter.live.metrics.LiveMetrics;
import io.nvsentinel.exporter.store.ChangeEvent;
import io.nvsentinel.exporter.store.ChangeSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Function;
import java.util.function.Supplier;
import org.springframework.context.ApplicationEventPublisher;

/**
 * Puts a {@link ChangeStreamRunner} together with its parts — checkpoint policy, token recovery,
 * probes, meters — from the configuration: the one place they are wired, for the application, the
 * tests and the benchmarks. Under a lease, a {@link Leadership} gets a runner of this wiring for
 * each term, sharing one set of meters.
 */
public final class LiveRunnerWiring {

  private LiveRunnerWiring() {}

  /**
   * The runner of an exporter that reads as the only one; {@code batchExport} is used when {@code
   * exporter.sink.batch.enabled} is (and may be null otherwise).
   */
  public static ChangeStreamRunner runner(
      ChangeSource source,
      Function<ChangeEvent, ExportResult> export,
      BatchExport batchExport,
      CheckpointStore checkpoints,
      GapWindowStore gaps,
      LiveProperties live,
      ExporterProperties properties,
      EventDeliverer deliverer,
      MeterRegistry meters,
      Clock clock,
      ApplicationEventPublisher events) {
    return new ChangeStreamRunnerParts(
            source, export, batchExport, live, properties, deliverer, meters, clock, events)
        .runner(checkpoints, gaps);
  }

  /** One leader among several exporters, each term a runner whose writes its lease fences. */
  public static Leadership leadership(
      ChangeSource source,
      Function<ChangeEvent, ExportResult> export,
      BatchExport batchExport,
      CheckpointStore checkpoints,
      GapWindowStore gaps,
      LiveProperties live,
      LeaseProperties lease,
      ExporterProperties properties,
      EventDeliverer deliverer,
      MeterRegistry meters,
      Clock clock,
      ApplicationEventPublisher events) {
    ChangeStreamRunnerParts parts =
        new ChangeStreamRunnerParts(
            source, export, batchExport, live, properties, deliverer, meters, clock, events);
    return new Leadership(
        checkpoints,
        properties.resumeToken().clientName(),
        lease,
        (term, lost) ->
            parts.runner(
                FencedStores.checkpoints(checkpoints, term, lost),
                FencedStores.gaps(gaps, checkpoints, term, lease.duration(), clock, lost)),
        deliverer::warmUp,
        events,
        meters,
        clock);
  }

  /** What every runner of one exporter shares: the source, the export, the meters. */
  private static final class ChangeStreamRunnerParts {
    private final ChangeSource source;
    private final Function<ChangeEvent, ExportResult> export;
    private final BatchExport batchExport;
    private final LiveProperties live;
    private final ExporterProperties properties;
    private final EventDeliverer deliverer;
    private final Clock clock;
    private final ApplicationEventPublisher events;
    private final String client;
    private final Supplier<Instant> serverTime;
    private final CurrentStream stream = new CurrentStream();
    private final LiveMetrics metrics;

    ChangeStreamRunnerParts(
        ChangeSource source,
        Function<ChangeEvent, ExportResult> export,
        BatchExport batchExport,
        LiveProperties live,
        ExporterProperties properties,
        EventDeliverer deliverer,
        MeterRegistry meters,
        Clock clock,
        ApplicationEventPublisher events) {
      ExporterProperties.Batch batch = properties.sink().batch();
      if (batch.enabled() && batchExport == null) {
        throw new IllegalArgumentException("exporter.sink.batch.enabled needs a batch export");
      }
      this.source = source;
      this.export = export;
      this.batchExport = batchExport;
      this.live = batch.enabled() ? live.forBatches(batch.maxEvents()) : live;
      this.properties = properties;
      this.deliverer = deliverer;
      this.clock = clock;
      this.events = events;
      this.client = properties.resumeToken().clientName();
      this.serverTime = () -> source.serverTime().orElseGet(clock::instant);
      SinkAvailability sink = deliverer.availability();
      this.metrics = new LiveMetrics(meters, stream, () -> sink.problem() != null, clock, client);
    }

    ChangeStreamRunner runner(CheckpointStore checkpoints, GapWindowStore gaps) {
      Takeover takeover =
          new Takeover(
              checkpoints,
              gaps,
              client,
              properties.backfill().maxAge(),
              live.startOverlap(),
              clock);
      Checkpointing checkpointing =
          new Checkpointing(checkpoints, takeover, client, live, clock, serverTime);
      stream.current = checkpointing;
      SinkAvailability sink = deliverer.availability();
      TokenRecovery recovery =
          new TokenRecovery(gaps, checkpointing, client, live.startOverlap(), serverTime, metrics);
      // an attempt is a token request and a POST, each bounded by sink.timeout
      Duration longestAttempt = properties.sink().timeout().multipliedBy(2);
      LiveProbes probes =
          new LiveProbes(
              events,
              source,
              clock,
              live.stuckAfter(),
              longestAttempt,
              deliverer::longestAttemptInProgress,
              () -> sink.problem() == null);
      return new ChangeStreamRunner(
          source,
          export,
          checkpointing,
          recovery,
          probes,
          metrics,
          live,
          sink,
          properties.datastore(),
          batchExport,
          properties.sink().batch());
    }
  }

  /** The meters' view of the stream being read now: the runner of the current term. */
  private static final class CurrentStream implements LiveMetrics.StreamState {
    private volatile Checkpointing current;

    @Override
    public long lastWriteEpochMillis() {
      Checkpointing c = current;
      return c == null ? 0 : c.lastWriteEpochMillis();
    }

    @Override
    public int inFlight() {
      Checkpointing c = current;
      return c == null ? 0 : c.inFlight();
    }

    @Override
    public Instant committedTime() {
      Checkpointing c = current;
      return c == null ? null : c.committedTime();
    }
  }
}
