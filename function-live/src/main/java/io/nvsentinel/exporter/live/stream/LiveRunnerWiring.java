package io.nvsentinel.exporter.live.stream;

import io.micrometer.core.instrument.MeterRegistry;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.delivery.EventDeliverer;
import io.nvsentinel.exporter.delivery.SinkAvailability;
import io.nvsentinel.exporter.live.config.LiveProperties;
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
 * tests and the benchmarks.
 */
public final class LiveRunnerWiring {

  private LiveRunnerWiring() {}

  public static ChangeStreamRunner runner(
      ChangeSource source,
      Function<ChangeEvent, ExportResult> export,
      CheckpointStore checkpoints,
      GapWindowStore gaps,
      LiveProperties live,
      ExporterProperties properties,
      EventDeliverer deliverer,
      MeterRegistry meters,
      Clock clock,
      ApplicationEventPublisher events) {
    String client = properties.resumeToken().clientName();
    Takeover takeover =
        new Takeover(
            checkpoints, gaps, client, properties.backfill().maxAge(), live.startOverlap(), clock);
    Supplier<Instant> serverTime = () -> source.serverTime().orElseGet(clock::instant);
    Checkpointing checkpointing =
        new Checkpointing(checkpoints, takeover, client, live, clock, serverTime);
    SinkAvailability sink = deliverer.availability();
    LiveMetrics metrics =
        new LiveMetrics(meters, checkpointing, () -> sink.problem() != null, clock, client);
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
        properties.datastore());
  }
}
