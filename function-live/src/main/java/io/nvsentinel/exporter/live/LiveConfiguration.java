package io.nvsentinel.exporter.live;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.cloudevent.Conversion;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import io.nvsentinel.exporter.delivery.AutomaticRedrive;
import io.nvsentinel.exporter.delivery.DeadLetterRedrive;
import io.nvsentinel.exporter.delivery.EventDeliverer;
import io.nvsentinel.exporter.live.config.LeaseProperties;
import io.nvsentinel.exporter.live.config.LiveProperties;
import io.nvsentinel.exporter.live.function.BatchExport;
import io.nvsentinel.exporter.live.function.ExportFunctions;
import io.nvsentinel.exporter.live.function.ExportHttpTrigger;
import io.nvsentinel.exporter.live.function.ExportResult;
import io.nvsentinel.exporter.live.metrics.MetricsPort;
import io.nvsentinel.exporter.live.metrics.PendingGapWindows;
import io.nvsentinel.exporter.live.stream.ChangeStreamRunner;
import io.nvsentinel.exporter.live.stream.Leadership;
import io.nvsentinel.exporter.live.stream.LiveRunnerWiring;
import io.nvsentinel.exporter.store.ChangeEvent;
import io.nvsentinel.exporter.store.ChangeSource;
import io.nvsentinel.exporter.store.Datastore;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Function;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.context.event.ApplicationStartedEvent;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.cloud.function.context.FunctionCatalog;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Wires the change-stream runner to the export function from the function catalog. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties({LiveProperties.class, LeaseProperties.class})
class LiveConfiguration {

  @Bean
  Function<ChangeEvent, ExportResult> exportFunction(FunctionCatalog catalog) {
    Function<ChangeEvent, ExportResult> function =
        catalog.lookup(Function.class, ExportFunctions.DEFINITION);
    if (function == null) {
      throw new IllegalStateException(
          "the function catalog has no '" + ExportFunctions.DEFINITION + "'");
    }
    return function;
  }

  /** The export of a batch of changes, used with {@code exporter.sink.batch.enabled}. */
  @Bean
  BatchExport batchExport(
      Function<ChangeEvent, Conversion> toCloudEvent,
      EventDeliverer deliverer,
      DeadLetterStore deadLetters) {
    return ExportFunctions.batched(toCloudEvent, deliverer, deadLetters);
  }

  @Bean
  @ConditionalOnProperty(name = "exporter.live.http-trigger", havingValue = "true")
  ExportHttpTrigger exportHttpTrigger(
      Function<ChangeEvent, ExportResult> exportFunction,
      Datastore datastore,
      ExporterProperties properties,
      LiveProperties live) {
    return new ExportHttpTrigger(
        exportFunction,
        id -> datastore.find(id).orElse(null),
        properties.datastore(),
        live.httpTriggerTokenFile(),
        live.httpTriggerPort(),
        live.workers(),
        live.maxInFlight());
  }

  @Bean(destroyMethod = "close")
  PendingGapWindows pendingGapWindows(GapWindowStore gaps, MeterRegistry meters, Clock clock) {
    return new PendingGapWindows(gaps, meters, clock, Duration.ofSeconds(30));
  }

  @Bean
  MetricsPort metricsPort(
      PrometheusMeterRegistry registry, ApplicationAvailability availability, LiveProperties live) {
    return new MetricsPort(registry, availability, live.metricsPort());
  }

  /**
   * Fetches the sink's access token as the exporter starts, beside the opening of the stream: the
   * first event then waits for no token request, and a credential the identity provider refuses
   * shows in the token metrics and the log at start, not at the first event hours later. A failure
   * is not fatal: the first delivery asks again. (A standby keeps its token fresh on its own.)
   */
  @Bean
  ApplicationListener<ApplicationStartedEvent> tokenAtStart(EventDeliverer deliverer) {
    return started -> {
      Thread warmUp = new Thread(deliverer::warmUp, "token-at-start");
      warmUp.setDaemon(true);
      warmUp.start();
    };
  }

  @Bean
  AutomaticRedrive automaticRedrive(
      EventDeliverer deliverer, DeadLetterRedrive redrive, DeadLetterStore deadLetters) {
    return new AutomaticRedrive(deliverer.availability(), redrive, deadLetters);
  }

  @Bean
  @ConditionalOnMissingBean
  ChangeSource changeSource(Datastore datastore, LiveProperties live) {
    return datastore.changeSource(live.operationTypes());
  }

  @Bean
  @ConditionalOnProperty(
      name = "exporter.live.lease.enabled",
      havingValue = "false",
      matchIfMissing = true)
  ChangeStreamRunner changeStreamRunner(
      ChangeSource changeSource,
      Function<ChangeEvent, ExportResult> exportFunction,
      BatchExport batchExport,
      CheckpointStore checkpoints,
      GapWindowStore gaps,
      LiveProperties live,
      ExporterProperties properties,
      EventDeliverer deliverer,
      MeterRegistry meters,
      Clock clock,
      ApplicationEventPublisher events) {
    return LiveRunnerWiring.runner(
        changeSource,
        exportFunction,
        batchExport,
        checkpoints,
        gaps,
        live,
        properties,
        deliverer,
        meters,
        clock,
        events);
  }

  /** With {@code exporter.live.lease.enabled}: one leader reads, the other replicas stand by. */
  @Bean
  @ConditionalOnProperty(name = "exporter.live.lease.enabled", havingValue = "true")
  Leadership leadership(
      ChangeSource changeSource,
      Function<ChangeEvent, ExportResult> exportFunction,
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
    return LiveRunnerWiring.leadership(
        changeSource,
        exportFunction,
        batchExport,
        checkpoints,
        gaps,
        live,
        lease,
        properties,
        deliverer,
        meters,
        clock,
        events);
  }
}
