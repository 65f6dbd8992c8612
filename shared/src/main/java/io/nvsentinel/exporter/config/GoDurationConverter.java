package io.nvsentinel.exporter.config;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationPropertiesBinding;
import org.springframework.core.convert.converter.Converter;

/** Lets every {@code exporter.*} duration be written in Go syntax, as in the operator docs. */
@ConfigurationPropertiesBinding
final class GoDurationConverter implements Converter<String, Duration> {

  @Override
  public Duration convert(String source) {
    return GoDuration.parse(source);
  }
}
