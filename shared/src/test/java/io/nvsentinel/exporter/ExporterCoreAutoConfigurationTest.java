package io.nvsentinel.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import com.mongodb.client.MongoClient;
import io.nvsentinel.exporter.checkpoint.CheckpointStore;
import io.nvsentinel.exporter.checkpoint.GapWindowStore;
import io.nvsentinel.exporter.cloudevent.CloudEventMapper;
import io.nvsentinel.exporter.config.ExporterPropertiesAutoConfiguration;
import io.nvsentinel.exporter.deadletter.DeadLetterStore;
import io.nvsentinel.exporter.delivery.EventDeliverer;
import io.nvsentinel.exporter.event.HealthEventDecoder;
import io.nvsentinel.exporter.store.Datastore;
import io.nvsentinel.exporter.store.mongo.MongoDatastore;
import io.nvsentinel.exporter.store.mongo.MongoStoreAutoConfiguration;
import io.nvsentinel.exporter.store.postgres.PostgresDatastore;
import io.nvsentinel.exporter.store.postgres.PostgresStoreAutoConfiguration;
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
    runner(secret)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context)
                  .hasSingleBean(HealthEventDecoder.class)
                  .hasSingleBean(CloudEventMapper.class)
                  .hasSingleBean(DeadLetterStore.class)
                  .hasSingleBean(EventDeliverer.class);
              assertThat(context).getBean(Datastore.class).isInstanceOf(MongoDatastore.class);
            });
    assertThat(output.getAll())
        .contains("TLS verification for https://sink.example/api/v1/events is DISABLED")
        .doesNotContain("super-secret-value");
  }

  @Test
  void theProviderAloneChoosesTheStoreAndEveryStorePieceComesFromIt() throws Exception {
    Path secret = Files.writeString(tmp.resolve("secret"), "s");
    runner(secret)
        .withPropertyValues(
            "exporter.datastore.provider=postgresql",
            "exporter.datastore.postgresql.username=exporter",
            "exporter.datastore.postgresql.sslmode=disable")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              Datastore datastore = context.getBean(Datastore.class);
              assertThat(datastore).isInstanceOf(PostgresDatastore.class);
              assertThat(context).doesNotHaveBean(MongoClient.class);
              assertThat(context.getBean(CheckpointStore.class)).isSameAs(datastore.checkpoints());
              assertThat(context.getBean(GapWindowStore.class)).isSameAs(datastore.gapWindows());
              assertThat(context.getBean(DeadLetterStore.class)).isSameAs(datastore.deadLetters());
            });
  }

  private static ApplicationContextRunner runner(Path secret) {
    return new ApplicationContextRunner()
        .withConfiguration(
            AutoConfigurations.of(
                ExporterPropertiesAutoConfiguration.class,
                MongoStoreAutoConfiguration.class,
                PostgresStoreAutoConfiguration.class,
                ExporterCoreAutoConfiguration.class))
        .withPropertyValues(
            "exporter.metadata.cluster=c",
            "exporter.sink.endpoint=https://sink.example/api/v1/events",
            "exporter.sink.insecureSkipVerify=true",
            "exporter.oidc.tokenUrl=https://idp.example/token",
            "exporter.oidc.clientId=nvsentinel-exporter",
            "exporter.oidc.scope=events:write",
            "exporter.oidc.clientSecretEnv=",
            "exporter.oidc.clientSecretFile=" + secret);
  }
}
