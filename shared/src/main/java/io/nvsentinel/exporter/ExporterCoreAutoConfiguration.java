package io.nvsentinel.exporter;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.cloudevent.CloudEventMapper;
import io.nvsentinel.exporter.cloudevent.EventConverter;
import io.nvsentinel.exporter.config.ClientSecret;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.config.ExporterPropertiesAutoConfiguration;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import io.nvsentinel.exporter.delivery.DeadLetterRedrive;
import io.nvsentinel.exporter.delivery.EventDeliverer;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import io.nvsentinel.exporter.filter.EventFilter;
import io.nvsentinel.exporter.metrics.FeatureFlags;
import io.nvsentinel.exporter.store.Datastore;
import io.nvsentinel.exporter.tracing.EventTracing;
import io.nvsentinel.exporter.tracing.TracingEnvironment;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * The shared core as beans, for both applications: decoding, mapping, dead letters and delivery,
 * over the {@link Datastore} that the store's own auto-configuration registers ({@code store.mongo}
 * or {@code store.postgres}, as {@code exporter.datastore.provider} says).
 */
@AutoConfiguration(after = ExporterPropertiesAutoConfiguration.class)
public class ExporterCoreAutoConfiguration {

  private static final Logger log = LoggerFactory.getLogger(ExporterCoreAutoConfiguration.class);

  @Bean
  @ConditionalOnMissingBean
  Clock clock() {
    return Clock.systemUTC();
  }

  @Bean
  @ConditionalOnMissingBean
  CheckpointStore checkpointStore(Datastore datastore) {
    return datastore.checkpoints();
  }

  @Bean
  @ConditionalOnMissingBean
  GapWindowStore gapWindowStore(Datastore datastore) {
    return datastore.gapWindows();
  }

  @Bean
  @ConditionalOnMissingBean
  HealthEventDecoder healthEventDecoder(
      ExporterProperties properties, ObjectProvider<MeterRegistry> meters) {
    return new HealthEventDecoder(properties.maxMessageLength(), meters(meters));
  }

  /**
   * Spans when traces are exported ({@code OTEL_EXPORTER_OTLP_ENDPOINT} set, see {@link
   * TracingEnvironment}), else none at all: Spring Boot keeps a tracer either way, and spans nobody
   * exports would be cost without use.
   */
  @Bean
  @ConditionalOnMissingBean
  EventTracing eventTracing(
      ObjectProvider<Tracer> tracer, ObjectProvider<Propagator> propagator, Environment settings) {
    if (!settings.getProperty(TracingEnvironment.EXPORT_ENABLED, Boolean.class, false)) {
      return EventTracing.OFF;
    }
    return new EventTracing(
        tracer.getIfAvailable(() -> Tracer.NOOP), propagator.getIfAvailable(() -> Propagator.NOOP));
  }

  @Bean
  @ConditionalOnMissingBean
  EventFilter eventFilter(ExporterProperties properties, ObjectProvider<MeterRegistry> meters) {
    EventFilter filter = EventFilter.compile(properties.filter().expression(), meters(meters));
    if (filter.active()) {
      log.info("exporting only the events for which {} holds", filter.expression());
    }
    return filter;
  }

  @Bean
  @ConditionalOnMissingBean
  CloudEventMapper cloudEventMapper(
      ExporterProperties properties, Clock clock, EventTracing tracing) {
    return new CloudEventMapper(properties, clock, tracing);
  }

  @Bean
  @ConditionalOnMissingBean
  EventConverter eventConverter(
      HealthEventDecoder decoder,
      CloudEventMapper mapper,
      EventFilter filter,
      EventTracing tracing) {
    return new EventConverter(decoder, mapper, filter, tracing);
  }

  @Bean
  FeatureFlags featureFlags(ExporterProperties properties) {
    return new FeatureFlags(properties.backfill().enabled());
  }

  @Bean
  @ConditionalOnMissingBean
  DeadLetterRedrive deadLetterRedrive(EventDeliverer deliverer, DeadLetterStore deadLetters) {
    return new DeadLetterRedrive(deliverer, deadLetters);
  }

  @Bean
  @ConditionalOnMissingBean
  DeadLetterStore deadLetterStore(Datastore datastore) {
    return datastore.deadLetters();
  }

  @Bean
  @ConditionalOnMissingBean
  EventDeliverer eventDeliverer(
      ExporterProperties properties,
      DeadLetterStore deadLetters,
      ObjectProvider<MeterRegistry> meters,
      Clock clock,
      EventTracing tracing) {
    ClientSecret secret = ClientSecret.resolve(properties.oidc(), System::getenv);
    return EventDeliverer.create(properties, secret, deadLetters, meters(meters), clock, tracing);
  }

  private static MeterRegistry meters(ObjectProvider<MeterRegistry> meters) {
    return meters.getIfAvailable(() -> Metrics.globalRegistry);
  }
}
