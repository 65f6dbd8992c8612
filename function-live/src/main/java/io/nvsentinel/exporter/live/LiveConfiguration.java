package io.nvsentinel.exporter.live;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationPredicate;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.datastore.postgres.PostgresConnections;
import io.nvsentinel.exporter.datastore.postgres.StoredDocuments;
import io.nvsentinel.exporter.delivery.AutomaticRedrive;
import io.nvsentinel.exporter.delivery.DeadLetterRedrive;
import io.nvsentinel.exporter.delivery.DeadLetterStore;
import io.nvsentinel.exporter.delivery.EventDeliverer;
import io.nvsentinel.exporter.live.changestream.ChangeStreamRunner;
import io.nvsentinel.exporter.live.changestream.ChangeStreamSource;
import io.nvsentinel.exporter.live.changestream.LiveRunnerWiring;
import io.nvsentinel.exporter.live.changestream.MongoChangeStreamSource;
import io.nvsentinel.exporter.live.changestream.PostgresChangelogSource;
import io.nvsentinel.exporter.live.config.LiveProperties;
import io.nvsentinel.exporter.live.function.ChangeEvent;
import io.nvsentinel.exporter.live.function.ExportFunctions;
import io.nvsentinel.exporter.live.function.ExportHttpTrigger;
import io.nvsentinel.exporter.live.function.ExportResult;
import io.nvsentinel.exporter.live.metrics.MetricsPort;
import io.nvsentinel.exporter.live.metrics.PendingGapWindows;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Function;
import org.bson.BsonDocument;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.cloud.function.context.FunctionCatalog;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.server.observation.ServerRequestObservationContext;

/** Wires the change-stream runner to the export function from the function catalog. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(LiveProperties.class)
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

  @Bean
  @ConditionalOnProperty(name = "exporter.live.http-trigger", havingValue = "true")
  ExportHttpTrigger exportHttpTrigger(
      Function<ChangeEvent, ExportResult> exportFunction,
      ObjectProvider<MongoClient> mongo,
      ObjectProvider<PostgresConnections> postgres,
      ExporterProperties properties,
      LiveProperties live) {
    ExporterProperties.Datastore datastore = properties.datastore();
    ExportHttpTrigger.StoredEvents events;
    if (datastore.provider() == ExporterProperties.Provider.POSTGRESQL) {
      PostgresConnections db = postgres.getObject();
      events = id -> StoredDocuments.find(db, id);
    } else {
      MongoCollection<BsonDocument> collection =
          mongo
              .getObject()
              .getDatabase(datastore.database())
              .getCollection(datastore.collection(), BsonDocument.class);
      events = id -> collection.find(Filters.eq("_id", id)).first();
    }
    return new ExportHttpTrigger(
        exportFunction,
        events,
        datastore,
        live.httpTriggerTokenFile(),
        live.httpTriggerPort(),
        live.workers(),
        live.maxInFlight());
  }

  /**
   * No span (and no request timer) for the probes and actuator endpoints: with tracing on, every
   * readiness probe and scrape would otherwise be a trace of its own, burying the events' traces.
   */
  @Bean
  ObservationPredicate noProbeObservations() {
    return (name, context) ->
        !(context instanceof ServerRequestObservationContext request
            && probePath(request.getCarrier().getRequestURI()));
  }

  static boolean probePath(String path) {
    return path.startsWith("/actuator/") || path.equals("/readyz") || path.equals("/livez");
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

  @Bean
  AutomaticRedrive automaticRedrive(
      EventDeliverer deliverer, DeadLetterRedrive redrive, DeadLetterStore deadLetters) {
    return new AutomaticRedrive(deliverer.availability(), redrive, deadLetters);
  }

  @Bean
  @ConditionalOnMissingBean
  ChangeStreamSource changeStreamSource(
      ObjectProvider<MongoClient> mongo,
      ObjectProvider<PostgresConnections> postgres,
      ExporterProperties properties,
      LiveProperties live) {
    if (properties.datastore().provider() == ExporterProperties.Provider.POSTGRESQL) {
      return new PostgresChangelogSource(
          postgres.getObject()::open,
          live.operationTypes(),
          Duration.ofMillis(ChangeStreamRunner.POLL_MILLIS),
          CHANGELOG_BATCH);
    }
    return new MongoChangeStreamSource(
        mongo.getObject(), properties.datastore(), live.operationTypes());
  }

  /** Change-log rows read at once, at most. */
  static final int CHANGELOG_BATCH = 500;

  @Bean
  ChangeStreamRunner changeStreamRunner(
      ChangeStreamSource changeStreamSource,
      Function<ChangeEvent, ExportResult> exportFunction,
      CheckpointStore checkpoints,
      GapWindowStore gaps,
      LiveProperties live,
      ExporterProperties properties,
      EventDeliverer deliverer,
      MeterRegistry meters,
      Clock clock,
      ApplicationEventPublisher events) {
    return LiveRunnerWiring.runner(
        changeStreamSource,
        exportFunction,
        checkpoints,
        gaps,
        live,
        properties,
        deliverer,
        meters,
        clock,
        events);
  }
}
