package io.nvsentinel.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import io.nvsentinel.exporter.cloudevent.CloudEventMapper;
import io.nvsentinel.exporter.config.ExporterPropertiesAutoConfiguration;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import io.nvsentinel.exporter.delivery.EventDeliverer;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

@ExtendWith(OutputCaptureExtension.class)
class ExporterCoreAutoConfigurationTest {

  @TempDir Path tmp;

  @Test
  void anApplicationWithTheSharedCoreGetsEveryPieceFromConfigurationAlone(CapturedOutput output)
      throws Exception {
    Path secret = Files.writeString(tmp.resolve("secret"), "super-secret-value");
    new ApplicationContextRunner()
        .withConfiguration(
            AutoConfigurations.of(
                ExporterPropertiesAutoConfiguration.class, ExporterCoreAutoConfiguration.class))
        .withPropertyValues(
            "exporter.metadata.cluster=c",
            "exporter.sink.endpoint=https://sink.example/api/v1/events",
            "exporter.sink.insecureSkipVerify=true",
            "exporter.oidc.tokenUrl=https://idp.example/token",
            "exporter.oidc.clientId=nvsentinel-exporter",
            "exporter.oidc.scope=events:write",
            "exporter.oidc.clientSecretEnv=",
            "exporter.oidc.clientSecretFile=" + secret)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context)
                  .hasSingleBean(HealthEventDecoder.class)
                  .hasSingleBean(CloudEventMapper.class)
                  .hasSingleBean(DeadLetterStore.class)
                  .hasSingleBean(EventDeliverer.class);
            });
    assertThat(output.getAll())
        .contains("TLS verification for https://sink.example/api/v1/events is DISABLED")
        .doesNotContain("super-secret-value");
  }
}
