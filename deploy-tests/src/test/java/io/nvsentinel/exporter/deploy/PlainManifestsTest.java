package io.nvsentinel.exporter.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobSpec;
import io.fabric8.kubernetes.api.model.batch.v1.PodFailurePolicyRule;
import io.nvsentinel.exporter.backfill.BackfillApplication;
import io.nvsentinel.exporter.backfill.config.BackfillJobProperties;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.config.ExporterPropertiesAutoConfiguration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.FileSystemResource;
import org.yaml.snakeyaml.Yaml;

/** The plain manifests of k8s-cronjob/ parse strictly, and their configuration binds. */
class PlainManifestsTest {

  static final Path DIR = Path.of("..", "k8s-cronjob").toAbsolutePath().normalize();

  @TempDir Path tmp;

  static Manifests read(String file) throws Exception {
    return Manifests.parse(Files.readString(DIR.resolve(file)));
  }

  @Test
  void theScheduledBackfillCannotOverlapAndKeepsItsState() throws Exception {
    CronJob cron = read("cronjob.yaml").one(CronJob.class);
    assertThat(cron.getSpec().getConcurrencyPolicy()).isEqualTo("Forbid");
    assertThat(cron.getSpec().getStartingDeadlineSeconds()).isEqualTo(600L);
    assertThat(cron.getSpec().getJobTemplate().getSpec().getBackoffLimit()).isEqualTo(6);
    assertThat(cron.getSpec().getJobTemplate().getSpec().getTtlSecondsAfterFinished())
        .isEqualTo(86400);
    HelmChartTest.assertSecure(cron.getSpec().getJobTemplate().getSpec().getTemplate().getSpec());
    assertHardened(cron.getSpec().getJobTemplate().getSpec());
    assertThat(cron.getSpec().getSuccessfulJobsHistoryLimit()).isEqualTo(3);
    assertThat(cron.getSpec().getFailedJobsHistoryLimit()).isEqualTo(3);
    PersistentVolumeClaim claim = read("pvc.yaml").one(PersistentVolumeClaim.class);
    assertThat(cron.getSpec().getJobTemplate().getSpec().getTemplate().getSpec().getVolumes())
        .filteredOn(v -> v.getPersistentVolumeClaim() != null)
        .extracting(v -> v.getPersistentVolumeClaim().getClaimName())
        .containsExactly(claim.getMetadata().getName());
  }

  @Test
  void theRerunJobResumesEveryFailedWindow() throws Exception {
    Job job = read("rerun-failed-job.yaml").one(Job.class);
    assertThat(job.getMetadata().getGenerateName()).isEqualTo("event-exporter-rerun-failed-");
    assertHardened(job.getSpec());
    assertThat(job.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
        .containsExactly("rerun-failed");
    HelmChartTest.assertSecure(job.getSpec().getTemplate().getSpec());
  }

  @Test
  @SuppressWarnings("unchecked")
  void theKustomizationNamesEveryFileAndTheConfigMapTheJobsMount() throws Exception {
    Map<String, Object> kustomization =
        new Yaml().load(Files.readString(DIR.resolve("kustomization.yaml")));
    List<String> resources = (List<String>) kustomization.get("resources");
    resources.forEach(file -> assertThat(DIR.resolve(file)).exists());
    Map<String, Object> generator =
        ((List<Map<String, Object>>) kustomization.get("configMapGenerator")).get(0);
    assertThat(generator.get("name")).isEqualTo("event-exporter-backfill-config");
    assertThat(
            read("cronjob.yaml")
                .one(CronJob.class)
                .getSpec()
                .getJobTemplate()
                .getSpec()
                .getTemplate()
                .getSpec()
                .getVolumes())
        .anySatisfy(
            v ->
                assertThat(v.getConfigMap().getName()).isEqualTo("event-exporter-backfill-config"));
  }

  @Test
  void theExampleConfigurationBindsWithTheJob() throws Exception {
    Path secret = Files.writeString(tmp.resolve("secret"), "s3cret");
    var source =
        new YamlPropertySourceLoader()
            .load("k8s", new FileSystemResource(DIR.resolve("application.yaml")))
            .get(0);
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(ExporterPropertiesAutoConfiguration.class))
        .withUserConfiguration(JobProperties.class)
        .withInitializer(ctx -> ctx.getEnvironment().getPropertySources().addLast(source))
        .withPropertyValues(
            "exporter.oidc.clientSecretFile=" + secret, "exporter.oidc.clientSecretEnv=")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context.getBean(ExporterProperties.class).backfill().maxAge())
                  .isEqualTo(Duration.ofHours(720));
              assertThat(context.getBean(BackfillJobProperties.class).jobRepositoryPath())
                  .isEqualTo(Path.of("/var/lib/event-exporter-backfill"));
            });
  }

  @Configuration(proxyBeanMethods = false)
  @EnableConfigurationProperties(BackfillJobProperties.class)
  static class JobProperties {}

  /** The same Job hardening as the chart's. */
  static void assertHardened(JobSpec spec) {
    assertThat(spec.getActiveDeadlineSeconds()).isEqualTo(21600L);
    assertThat(spec.getPodFailurePolicy().getRules())
        .extracting(PodFailurePolicyRule::getAction)
        .containsExactly("FailJob", "Ignore");
    assertThat(spec.getPodFailurePolicy().getRules().get(0).getOnExitCodes().getValues())
        .containsExactly(BackfillApplication.CONFIGURATION_ERROR);
    assertThat(spec.getTemplate().getSpec().getTerminationGracePeriodSeconds()).isEqualTo(60L);
    assertThat(spec.getTemplate().getSpec().getEnableServiceLinks())
        .as("no EXPORTER_* variables from a Service named exporter-...")
        .isFalse();
  }
}
