package io.nvsentinel.exporter.deploy;

import static io.nvsentinel.exporter.deploy.HelmChartTest.CHART;
import static io.nvsentinel.exporter.deploy.HelmChartTest.SCHEDULED;
import static io.nvsentinel.exporter.deploy.HelmChartTest.VALUES;
import static io.nvsentinel.exporter.deploy.HelmChartTest.applications;
import static io.nvsentinel.exporter.deploy.HelmChartTest.assertSecure;
import static io.nvsentinel.exporter.deploy.HelmChartTest.render;
import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.DryRun;
import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.nvsentinel.exporter.backfill.BackfillApplication;
import io.nvsentinel.exporter.backfill.config.BackfillJobProperties;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.io.ByteArrayResource;

/**
 * The chart's backfill for operators: GitOps-safe, hardened Jobs, one-command tasks, one writer,
 * pushed metrics.
 */
class BackfillChartTest {

  @TempDir Path tmp;

  @Test
  void withAPushgatewayTheBackfillPodsPushTheirMetrics() {
    Manifests manifests =
        Manifests.parse(
            render(
                t ->
                    t.set("backfillJob.metrics.pushgateway.address", "pushgateway.monitoring:9091"),
                "required"));
    PodSpec backfill = manifests.backfillPod();
    Map<String, String> env = new HashMap<>();
    backfill.getContainers().get(0).getEnv().stream()
        .filter(e -> e.getValue() != null)
        .forEach(e -> env.put(e.getName(), e.getValue()));
    assertThat(env)
        .containsEntry("MANAGEMENT_PROMETHEUS_METRICS_EXPORT_PUSHGATEWAY_ENABLED", "true")
        .containsEntry(
            "MANAGEMENT_PROMETHEUS_METRICS_EXPORT_PUSHGATEWAY_ADDRESS",
            "pushgateway.monitoring:9091")
        .containsEntry(
            "MANAGEMENT_PROMETHEUS_METRICS_EXPORT_PUSHGATEWAY_GROUPINGKEY_RELEASE", "nvsentinel");
    assertThat(manifests.livePod().getContainers().get(0).getEnv())
        .as("the live pod is scraped")
        .noneMatch(e -> e.getName().startsWith("MANAGEMENT_PROMETHEUS"));
    assertThat(Manifests.parse(render("required")).backfillPod().getContainers().get(0).getEnv())
        .noneMatch(e -> e.getName().startsWith("MANAGEMENT_PROMETHEUS"));
  }

  /** The backfill's own settings as the job binds them from the rendered ConfigMap. */
  BackfillJobProperties boundBackfillProperties(String rendered) throws IOException {
    String yaml = Manifests.parse(rendered).one(ConfigMap.class).getData().get("application.yaml");
    Path secret = Files.writeString(tmp.resolve("oidc-client-secret"), "s3cret");
    AtomicReference<BackfillJobProperties> bound = new AtomicReference<>();
    applications(
            secret,
            new YamlPropertySourceLoader()
                .load("configmap", new ByteArrayResource(yaml.getBytes()))
                .get(0))
        .run(context -> bound.set(context.getBean(BackfillJobProperties.class)));
    return bound.get();
  }

  static String jobRepositoryClaim(Manifests manifests) {
    return manifests.backfillPod().getVolumes().stream()
        .filter(v -> v.getName().equals("job-repository"))
        .findFirst()
        .orElseThrow()
        .getPersistentVolumeClaim()
        .getClaimName();
  }

  @Test
  void theJobRepositoryVolumeCanBeOneWriterOnlyOrAnExistingClaim() {
    Manifests standard = Manifests.parse(render("required"));
    assertThat(standard.one(PersistentVolumeClaim.class).getSpec().getAccessModes())
        .containsExactly("ReadWriteOnce");
    assertThat(jobRepositoryClaim(standard)).isEqualTo(SCHEDULED);

    Manifests onePod =
        Manifests.parse(
            render(
                t -> t.set("backfillJob.persistence.accessMode", "ReadWriteOncePod"), "required"));
    assertThat(onePod.one(PersistentVolumeClaim.class).getSpec().getAccessModes())
        .containsExactly("ReadWriteOncePod");

    Manifests existing =
        Manifests.parse(
            render(
                t -> t.set("backfillJob.persistence.existingClaim", "backfill-repo"), "required"));
    assertThat(existing.all(PersistentVolumeClaim.class)).isEmpty();
    assertThat(jobRepositoryClaim(existing)).isEqualTo("backfill-repo");
    assertThat(existing.cronPod(SCHEDULED + "-rerun-failed").getVolumes())
        .anyMatch(
            v ->
                v.getPersistentVolumeClaim() != null
                    && v.getPersistentVolumeClaim().getClaimName().equals("backfill-repo"));
  }

  @Test
  void eachBackfillCommandIsASuspendedCronJobToStartByHandWithTheBackfillsOwnPod() {
    Manifests manifests = Manifests.parse(render("required"));
    var backfill = manifests.backfillPod();
    Map<String, String> commands =
        Map.of("rerun-failed", "rerun-failed", "list", "list", "redrive", "redrive-dead-letters");
    commands.forEach(
        (suffix, command) -> {
          CronJob cron =
              manifests.named(CronJob.class, "nvsentinel-event-exporter-backfill-" + suffix);
          assertThat(cron.getSpec().getSuspend()).as("never scheduled").isTrue();
          assertThat(cron.getSpec().getConcurrencyPolicy()).isEqualTo("Forbid");
          assertThat(cron.getMetadata().getAnnotations())
              .containsEntry(
                  "event-exporter.nvsentinel.io/run-with",
                  "kubectl create job --from=cronjob/nvsentinel-event-exporter-backfill-"
                      + suffix
                      + " "
                      + suffix
                      + "-$(date +%s)");
          var job = cron.getSpec().getJobTemplate().getSpec();
          assertThat(job.getPodFailurePolicy().getRules()).hasSize(2);
          var pod = job.getTemplate().getSpec();
          assertThat(pod.getContainers().get(0).getArgs()).containsExactly(command);
          assertSecure(pod);
          // the same configuration, environment and job repository as the backfill itself
          assertThat(pod.getVolumes()).isEqualTo(backfill.getVolumes());
          assertThat(pod.getContainers().get(0).getEnv())
              .isEqualTo(backfill.getContainers().get(0).getEnv());
          assertThat(pod.getContainers().get(0).getEnvFrom())
              .isEqualTo(backfill.getContainers().get(0).getEnvFrom());
        });
    assertThat(
            Manifests.parse(render(t -> t.set("backfillJob.commands.enabled", "false"), "required"))
                .all(CronJob.class))
        .isEmpty();
  }

  @Test
  void theInstallNotesGiveTheOneCommandOfEachOperatorTask() {
    String notes =
        new Helm(CHART)
            .install()
            .withName("nvsentinel")
            .withNamespace("nvsentinel")
            .withDryRunOption(DryRun.CLIENT)
            .clientOnly()
            .withValuesFile(VALUES.resolve("required.yaml"))
            .call()
            .getOutput();

    assertThat(notes)
        .contains(
            "kubectl -n nvsentinel create job"
                + " --from=cronjob/nvsentinel-event-exporter-backfill-rerun-failed rerun-$(date +%s)")
        .contains("--from=cronjob/nvsentinel-event-exporter-backfill-list list-$(date +%s)")
        .contains("--from=cronjob/nvsentinel-event-exporter-backfill-redrive redrive-$(date +%s)")
        .as("the Job it names is the one the chart renders")
        .contains("get job " + backfillJobName(render("required")))
        .contains("curl localhost:2112/metrics");
  }

  static String backfillJobName(String rendered) {
    return Manifests.parse(rendered).one(Job.class).getMetadata().getName();
  }

  @Test
  void theBackfillJobIsNamedAfterWhatItRunsSoGitOpsToolsNeverMeetAnImmutableField() {
    String name = backfillJobName(render("required"));

    assertThat(backfillJobName(render("required")))
        .as("rendered again, as Argo CD does on every sync")
        .isEqualTo(name);
    assertThat(
            backfillJobName(
                render(t -> t.set("metrics.serviceMonitor.interval", "60s"), "required")))
        .as("a change outside the Job keeps it")
        .isEqualTo(name);
    assertThat(backfillJobName(render(t -> t.set("exporter.backfill.rateLimit", 50), "required")))
        .as("a configuration change is a new Job")
        .isNotEqualTo(name);
    assertThat(backfillJobName(render(t -> t.set("backfillImage.tag", "v2"), "required")))
        .as("a new image is a new Job")
        .isNotEqualTo(name);
    assertThat(render("required")).doesNotContain("backfill-1\n");
  }

  @Test
  void theBackfillFailsAtOnceOnAConfigurationErrorIgnoresDisruptionsAndCannotHangForever()
      throws IOException {
    Job job = Manifests.parse(render("required")).one(Job.class);
    var spec = job.getSpec();
    assertThat(spec.getActiveDeadlineSeconds()).isEqualTo(21600L);
    assertThat(spec.getBackoffLimit()).isEqualTo(6);
    assertThat(spec.getTtlSecondsAfterFinished()).isEqualTo(86400);
    var rules = spec.getPodFailurePolicy().getRules();
    assertThat(rules.get(0).getAction()).isEqualTo("FailJob");
    assertThat(rules.get(0).getOnExitCodes().getContainerName()).isEqualTo("backfill");
    assertThat(rules.get(0).getOnExitCodes().getOperator()).isEqualTo("In");
    assertThat(rules.get(0).getOnExitCodes().getValues())
        .containsExactly(BackfillApplication.CONFIGURATION_ERROR);
    assertThat(rules.get(1).getAction()).isEqualTo("Ignore");
    assertThat(rules.get(1).getOnPodConditions())
        .extracting("type")
        .containsExactly("DisruptionTarget");
    var pod = spec.getTemplate().getSpec();
    assertThat(pod.getRestartPolicy()).as("podFailurePolicy needs it").isEqualTo("Never");
    Duration stopTimeout = boundBackfillProperties(render("required")).stopTimeout();
    assertThat(Duration.ofSeconds(pod.getTerminationGracePeriodSeconds()))
        .as("the running chunk gets exporter.backfill.stopTimeout to finish on SIGTERM")
        .isGreaterThan(stopTimeout.plusSeconds(10));
    // Kubernetes waits 10s, 20s, 40s, ... (at most 6 min) before each retry
    long retriesLast = 0;
    for (int retry = 0; retry < spec.getBackoffLimit(); retry++) {
      retriesLast += Math.min(360, 10L << retry);
    }
    assertThat(Duration.ofSeconds(retriesLast))
        .as("the retries outlast the time after which a killed pod's window may be taken over")
        .isGreaterThanOrEqualTo(Duration.ofMinutes(10));

    Job kept =
        Manifests.parse(
                render(
                    t ->
                        t.set("backfillJob.ttlSecondsAfterFinished", "null")
                            .set(
                                "backfillJob.annotations.argocd\\.argoproj\\.io/sync-options",
                                "Replace=true"),
                    "required"))
            .one(Job.class);
    assertThat(kept.getSpec().getTtlSecondsAfterFinished()).isNull();
    assertThat(kept.getMetadata().getAnnotations())
        .containsEntry("argocd.argoproj.io/sync-options", "Replace=true");
  }

  @Test
  void theScheduledBackfillHasHistoryLimitsSuspendAndATimeZone() {
    CronJob cron =
        Manifests.parse(
                render(
                    t ->
                        t.set("backfillJob.schedule", "17 3 * * *")
                            .set("backfillJob.suspend", "true")
                            .set("backfillJob.timeZone", "Europe/Berlin")
                            .set("backfillJob.failedJobsHistoryLimit", "5"),
                    "required"))
            .named(CronJob.class, SCHEDULED);
    assertThat(cron.getSpec().getSuspend()).isTrue();
    assertThat(cron.getSpec().getTimeZone()).isEqualTo("Europe/Berlin");
    assertThat(cron.getSpec().getSuccessfulJobsHistoryLimit()).isEqualTo(3);
    assertThat(cron.getSpec().getFailedJobsHistoryLimit()).isEqualTo(5);
    var job = cron.getSpec().getJobTemplate().getSpec();
    assertThat(job.getActiveDeadlineSeconds()).isEqualTo(21600L);
    assertThat(job.getPodFailurePolicy().getRules()).hasSize(2);
    assertThat(job.getTemplate().getSpec().getTerminationGracePeriodSeconds()).isEqualTo(60L);
    assertThat(
            Manifests.parse(render(t -> t.set("backfillJob.schedule", "17 3 * * *"), "required"))
                .named(CronJob.class, SCHEDULED)
                .getSpec())
        .satisfies(spec -> assertThat(spec.getSuspend()).isFalse())
        .satisfies(spec -> assertThat(spec.getTimeZone()).isNull());
  }
}
