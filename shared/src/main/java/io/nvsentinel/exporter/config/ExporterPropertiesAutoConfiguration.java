package io.nvsentinel.exporter.config;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.context.properties.ConfigurationPropertiesBinding;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.validation.Validator;

/** Binds and validates {@code exporter.*} in every application that has the shared core. */
@AutoConfiguration
@EnableConfigurationProperties(ExporterProperties.class)
public class ExporterPropertiesAutoConfiguration {

  @Bean
  @ConfigurationPropertiesBinding
  static GoDurationConverter goDurationConverter() {
    return new GoDurationConverter();
  }

  /** Spring Boot applies the bean of this name to every configuration-properties class it binds. */
  @Bean(name = "configurationPropertiesValidator")
  static Validator configurationPropertiesValidator() {
    return new ExporterPropertiesValidator(System::getenv);
  }
}
