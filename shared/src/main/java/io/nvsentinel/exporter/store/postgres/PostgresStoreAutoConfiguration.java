package io.nvsentinel.exporter.store.postgres;

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

/** NVSentinel's PostgreSQL store, for {@code exporter.datastore.provider: postgresql}. */
@AutoConfiguration(
    after = ExporterPropertiesAutoConfiguration.class,
    before = ExporterCoreAutoConfiguration.class)
@ConditionalOnProperty(name = StoreProvider.PROPERTY, havingValue = StoreProvider.POSTGRESQL)
public class PostgresStoreAutoConfiguration {

  private static final Logger log = LoggerFactory.getLogger(PostgresStoreAutoConfiguration.class);

  @Bean
  @ConditionalOnMissingBean
  PostgresConnections postgresConnections(ExporterProperties properties) {
    log.info(
        "health events from NVSentinel's PostgreSQL store at {}",
        properties.datastore().postgresql());
    return new PostgresConnections(properties.datastore().postgresql());
  }

  @Bean
  @ConditionalOnMissingBean
  Datastore datastore(
      PostgresConnections postgresConnections,
      ObjectProvider<MeterRegistry> meters,
      ObjectProvider<Clock> clock) {
    return new PostgresDatastore(
        postgresConnections,
        meters.getIfAvailable(() -> Metrics.globalRegistry),
        clock.getIfAvailable(Clock::systemUTC));
  }
}
