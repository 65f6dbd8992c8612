package io.nvsentinel.exporter.store.mongo;

import com.mongodb.client.MongoClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.nvsentinel.exporter.ExporterCoreAutoConfiguration;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.config.ExporterPropertiesAutoConfiguration;
import io.nvsentinel.exporter.store.Datastore;
import io.nvsentinel.exporter.store.StoreProvider;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/** The MongoDB store, for {@code exporter.datastore.provider: mongodb} (the default). */
@AutoConfiguration(
    after = ExporterPropertiesAutoConfiguration.class,
    before = ExporterCoreAutoConfiguration.class)
@ConditionalOnProperty(
    name = StoreProvider.PROPERTY,
    havingValue = StoreProvider.MONGODB,
    matchIfMissing = true)
public class MongoStoreAutoConfiguration {

  private static final Logger log = LoggerFactory.getLogger(MongoStoreAutoConfiguration.class);

  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  MongoClient mongoClient(ExporterProperties properties) {
    return MongoConnections.open(properties.datastore());
  }

  @Bean
  @ConditionalOnMissingBean
  Datastore datastore(
      MongoClient mongoClient,
      ExporterProperties properties,
      ObjectProvider<MeterRegistry> meters,
      ObjectProvider<Clock> clock) {
    properties.checkpointApartFromContract().ifPresent(log::warn);
    return new MongoDatastore(
        mongoClient,
        properties,
        meters.getIfAvailable(() -> Metrics.globalRegistry),
        clock.getIfAvailable(Clock::systemUTC));
  }
}
