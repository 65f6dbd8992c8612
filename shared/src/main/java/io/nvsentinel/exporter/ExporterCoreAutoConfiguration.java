package io.nvsentinel.exporter;

import com.mongodb.client.MongoClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.cloudevent.CloudEventMapper;
import io.nvsentinel.exporter.cloudevent.EventConverter;
import io.nvsentinel.exporter.config.ClientSecret;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.config.ExporterPropertiesAutoConfiguration;
import io.nvsentinel.exporter.datastore.DatastoreClients;
import io.nvsentinel.exporter.delivery.DeadLetterRedrive;
import io.nvsentinel.exporter.delivery.DeadLetterStore;
import io.nvsentinel.exporter.delivery.EventDeliverer;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * The shared core as beans, for both applications: decoding, mapping, dead letters and delivery,
 * over one MongoDB client for the datastore.
 */
@AutoConfiguration(after = ExporterPropertiesAutoConfiguration.class)
public class ExporterCoreAutoConfiguration {

  private static final Logger log = LoggerFactory.getLogger(ExporterCoreAutoConfiguration.class);

  @Bean
  @ConditionalOnMissingBean
  Clock clock() {
    return Clock.systemUTC();
  }

  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  MongoClient mongoClient(ExporterProperties properties) {
    return DatastoreClients.open(properties.datastore());
  }

  @Bean
  @ConditionalOnMissingBean
  CheckpointStore checkpointStore(MongoClient mongo, ExporterProperties properties) {
    properties.checkpointApartFromContract().ifPresent(log::warn);
    return new CheckpointStore(mongo, properties.resumeToken());
  }

  @Bean
  @ConditionalOnMissingBean
  GapWindowStore gapWindowStore(MongoClient mongo, ExporterProperties properties) {
    return new GapWindowStore(mongo, properties.resumeToken());
  }

  @Bean
  @ConditionalOnMissingBean
  HealthEventDecoder healthEventDecoder(
      ExporterProperties properties, ObjectProvider<MeterRegistry> meters) {
    return new HealthEventDecoder(properties.maxMessageLength(), meters(meters));
  }

  @Bean
  @ConditionalOnMissingBean
  CloudEventMapper cloudEventMapper(ExporterProperties properties, Clock clock) {
    return new CloudEventMapper(properties, clock);
  }

  @Bean
  @ConditionalOnMissingBean
  EventConverter eventConverter(HealthEventDecoder decoder, CloudEventMapper mapper) {
    return new EventConverter(decoder, mapper);
  }

  @Bean
  @ConditionalOnMissingBean
  DeadLetterRedrive deadLetterRedrive(EventDeliverer deliverer, DeadLetterStore deadLetters) {
    return new DeadLetterRedrive(deliverer, deadLetters);
  }

  @Bean
  @ConditionalOnMissingBean
  DeadLetterStore deadLetterStore(
      MongoClient mongo,
      ExporterProperties properties,
      ObjectProvider<MeterRegistry> meters,
      Clock clock) {
    return new DeadLetterStore(mongo, properties.deadLetter(), meters(meters), clock);
  }

  @Bean
  @ConditionalOnMissingBean
  EventDeliverer eventDeliverer(
      ExporterProperties properties,
      DeadLetterStore deadLetters,
      ObjectProvider<MeterRegistry> meters,
      Clock clock) {
    ClientSecret secret = ClientSecret.resolve(properties.oidc(), System::getenv);
    return EventDeliverer.create(properties, secret, deadLetters, meters(meters), clock);
  }

  private static MeterRegistry meters(ObjectProvider<MeterRegistry> meters) {
    return meters.getIfAvailable(() -> Metrics.globalRegistry);
  }
}
