package io.nvsentinel.exporter.config;

import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.context.properties.ConfigurationPropertiesBinding;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Role;
import org.springframework.core.env.Environment;
import org.springframework.validation.Validator;

/** Binds and validates {@code exporter.*} in every application that has the shared core. */
@AutoConfiguration
@EnableConfigurationProperties(ExporterProperties.class)
public class ExporterPropertiesAutoConfiguration {

  // both are used while configuration-properties binding is itself being set up: infrastructure,
  // never proxied or post-processed, so Spring has nothing to warn about
  @Bean
  @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
  @ConfigurationPropertiesBinding
  static GoDurationConverter goDurationConverter() {
    return new GoDurationConverter();
  }

  /** Spring Boot applies the bean of this name to every configuration-properties class it binds. */
  @Bean(name = "configurationPropertiesValidator")
  @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
  static Validator configurationPropertiesValidator(Environment environment) {
    return new ExporterPropertiesValidator(System::getenv, environment);
  }
}
