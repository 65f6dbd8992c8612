package io.nvsentinel.exporter.deploy;

import static io.nvsentinel.exporter.deploy.HelmChartTest.CHART;
import static io.nvsentinel.exporter.deploy.HelmChartTest.assertSecure;
import static io.nvsentinel.exporter.deploy.HelmChartTest.bothPods;
import static io.nvsentinel.exporter.deploy.HelmChartTest.render;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.nvsentinel.exporter.metrics.ExporterMetric;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The values operators expect of a chart, the opt-in monitors, network policy, alerts and
 * dashboard.
 */
class OperatorValuesChartTest {

  @TempDir Path tmp;

  @Test
  void theValuesOperatorsExpectReachBothPods() {
    Manifests manifests =
        Manifests.parse(
            render(
                t ->
                    t.set("extraEnv[0].name", "JAVA_TOOL_OPTIONS")
                        .set("extraEnv[0].value", "-XX:MaxRAMPercentage=70")
                        .set("extraEnvFrom[0].secretRef.name", "proxy-settings")
                        .set("extraVolumes[0].name", "ca-bundle")
                        .set("extraVolumes[0].configMap.name", "corporate-ca")
                        .set("extraVolumeMounts[0].name", "ca-bundle")
                        .set("extraVolumeMounts[0].mountPath", "/etc/ca")
                        .set("priorityClassName", "system-cluster-critical")
                        .set("topologySpreadConstraints[0].maxSkew", "1")
                        .set("topologySpreadConstraints[0].topologyKey", "kubernetes.io/hostname")
                        .set("topologySpreadConstraints[0].whenUnsatisfiable", "ScheduleAnyway")
                        .set("image.digest", "sha256:" + "a".repeat(64))
                        .set("commonLabels.team", "gpu-ops")
                        .set("commonAnnotations.owner", "gpu-ops@example.com"),
                "required"));
    for (PodSpec pod : bothPods(manifests)) {
      Container container = pod.getContainers().get(0);
      assertThat(container.getEnv())
          .anyMatch(
              e ->
                  e.getName().equals("JAVA_TOOL_OPTIONS")
                      && e.getValue().equals("-XX:MaxRAMPercentage=70"));
      assertThat(container.getEnvFrom())
          .anyMatch(
              e -> e.getSecretRef() != null && e.getSecretRef().getName().equals("proxy-settings"));
      assertThat(pod.getVolumes()).anyMatch(v -> v.getName().equals("ca-bundle"));
      assertThat(container.getVolumeMounts())
          .anyMatch(m -> m.getName().equals("ca-bundle") && m.getMountPath().equals("/etc/ca"));
      assertThat(pod.getPriorityClassName()).isEqualTo("system-cluster-critical");
      assertThat(pod.getTopologySpreadConstraints()).hasSize(1);
      assertSecure(pod);
    }
    assertThat(manifests.livePod().getContainers().get(0).getImage())
        .isEqualTo("nvsentinel/event-exporter-live@sha256:" + "a".repeat(64));
    assertThat(manifests.resources)
        .allSatisfy(
            r -> {
              assertThat(r.getMetadata().getLabels())
                  .as(r.getKind())
                  .containsEntry("team", "gpu-ops");
              assertThat(r.getMetadata().getAnnotations())
                  .as(r.getKind())
                  .containsEntry("owner", "gpu-ops@example.com");
            });
  }

  @Test
  void securityContextsProbesAndGraceAreTheOperatorsToSet() {
    Manifests openShift =
        Manifests.parse(
            render(
                t ->
                    t.set("podSecurityContext.runAsUser", "null")
                        .set("podSecurityContext.runAsGroup", "null")
                        .set("podSecurityContext.fsGroup", "null")
                        .set("probes.readiness.timeoutSeconds", "5")
                        .set("terminationGracePeriodSeconds", "90"),
                "required"));
    for (PodSpec pod : bothPods(openShift)) {
      assertThat(pod.getSecurityContext().getRunAsUser())
          .as("the platform assigns the uid")
          .isNull();
      assertThat(pod.getSecurityContext().getFsGroup()).isNull();
      assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
      assertThat(pod.getContainers().get(0).getSecurityContext().getReadOnlyRootFilesystem())
          .isTrue();
    }
    PodSpec live = openShift.livePod();
    assertThat(live.getTerminationGracePeriodSeconds()).isEqualTo(90L);
    Container container = live.getContainers().get(0);
    assertThat(container.getReadinessProbe().getTimeoutSeconds()).isEqualTo(5);
    assertThat(container.getLivenessProbe().getTimeoutSeconds())
        .as("more than Kubernetes' 1 s by default: a JVM on 1 CPU")
        .isEqualTo(3);
    assertThat(container.getStartupProbe().getFailureThreshold()).isEqualTo(24);
  }

  @Test
  void theGrafanaDashboardIsAnOptInConfigMapForTheSidecar() throws IOException {
    assertThat(Manifests.parse(render("required")).all(ConfigMap.class)).hasSize(1);
    ConfigMap dashboard =
        Manifests.parse(
                render(
                    t ->
                        t.set("dashboard.enabled", "true")
                            .set("dashboard.annotations.grafana_folder", "NVSentinel"),
                    "required"))
            .named(ConfigMap.class, "nvsentinel-event-exporter-dashboard");
    assertThat(dashboard.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1");
    assertThat(dashboard.getMetadata().getAnnotations())
        .containsEntry("grafana_folder", "NVSentinel");
    assertThat(dashboard.getData().get("event-exporter.json"))
        .as("the chart's dashboard file, as it is")
        .isEqualTo(Files.readString(CHART.resolve("dashboards/event-exporter.json")).strip());
  }

  @Test
  void zeroReplicasPausesTheExporter() {
    assertThat(
            Manifests.parse(render(t -> t.set("replicaCount", "0"), "required"))
                .one(Deployment.class)
                .getSpec()
                .getReplicas())
        .isZero();
  }

  @Test
  void monitorsAndTheNetworkPolicyAreOptIn() {
    Manifests plain = Manifests.parse(render("required"));
    assertThat(plain.kind("PodMonitor")).isEmpty();
    assertThat(plain.kind("NetworkPolicy")).isEmpty();
    assertThat(plain.kind("PrometheusRule")).isEmpty();

    String rendered =
        render(
            t ->
                t.set("metrics.serviceMonitor.enabled", "true")
                    .set("metrics.serviceMonitor.scrapeTimeout", "10s")
                    .set("metrics.serviceMonitor.relabelings[0].action", "labeldrop")
                    .set("metrics.serviceMonitor.relabelings[0].regex", "pod_template_hash")
                    .set("metrics.podMonitor.enabled", "true")
                    .set("networkPolicy.enabled", "true"),
            "required");
    assertThat(rendered)
        .contains("scrapeTimeout: 10s")
        .contains("kind: PodMonitor")
        .contains("podMetricsEndpoints:")
        .contains("regex: pod_template_hash");
    NetworkPolicy policy = Manifests.parse(rendered).one(NetworkPolicy.class);
    assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress");
    assertThat(policy.getSpec().getIngress())
        .extracting(rule -> rule.getPorts().get(0).getPort().getStrVal())
        .containsExactly("metrics");
  }

  @Test
  void theHttpTriggerRequiresTheNetworkPolicyAndItsCallers() {
    assertThatThrownBy(() -> render(t -> t.set("exporter.live.httpTrigger", "true"), "required"))
        .hasMessageContaining("set networkPolicy.enabled=true");
    assertThatThrownBy(
            () ->
                render(
                    t ->
                        t.set("exporter.live.httpTrigger", "true")
                            .set("networkPolicy.enabled", "true"),
                    "required"))
        .hasMessageContaining("networkPolicy.httpTriggerFrom is required");
    NetworkPolicy policy = httpTriggerPolicy(t -> {});
    assertThat(policy.getSpec().getIngress()).hasSize(2);
    assertThat(policy.getSpec().getIngress().get(1).getPorts().get(0).getPort().getIntVal())
        .isEqualTo(8081);
    assertThat(
            policy.getSpec().getIngress().get(1).getFrom().get(0).getPodSelector().getMatchLabels())
        .containsEntry("app", "remediation");
  }

  /** The HTTP trigger reads a health_events row by its id on NVSentinel's PostgreSQL store too. */
  @Test
  void theHttpTriggerRendersWithThePostgresqlStore() {
    assertThat(
            httpTriggerPolicy(t -> t.set("global.datastore.provider", "postgresql"))
                .getSpec()
                .getIngress())
        .hasSize(2);
  }

  /** The network policy when the HTTP trigger is on and remediation pods may call it. */
  private static NetworkPolicy httpTriggerPolicy(Consumer<TemplateCommand> more) {
    return Manifests.parse(
            render(
                t -> {
                  t.set("exporter.live.httpTrigger", "true")
                      .set("networkPolicy.enabled", "true")
                      .set(
                          "networkPolicy.httpTriggerFrom[0].podSelector.matchLabels.app",
                          "remediation");
                  more.accept(t);
                },
                "required"))
        .one(NetworkPolicy.class);
  }

  @Test
  void theAlertsReadOnlyMetricsTheExporterHasOrKubeStateMetricsProvides() {
    String rules =
        render(t -> t.set("prometheusRule.enabled", "true"), "required")
            .lines()
            .dropWhile(l -> !l.contains("kind: PrometheusRule"))
            .reduce("", (a, b) -> a + b + "\n");
    assertThat(rules)
        .contains("alert: EventExporterBackfillJobFailed")
        .contains("alert: EventExporterPublishErrorsRising")
        .contains("alert: EventExporterLagging")
        .contains("alert: EventExporterGapWindowsPending")
        .contains("alert: EventExporterDeadLettersGrowing")
        .contains("alert: EventExporterNotReady");
    Set<String> exported =
        Arrays.stream(ExporterMetric.values())
            .map(ExporterMetric::prometheusName)
            .collect(Collectors.toSet());
    Matcher names = Pattern.compile("\\b(health_events_exporter_\\w+|kube_\\w+)").matcher(rules);
    Set<String> used = new TreeSet<>();
    while (names.find()) {
      used.add(names.group(1));
    }
    assertThat(used).isNotEmpty();
    for (String name : used) {
      if (name.startsWith("kube_")) {
        assertThat(name).isIn("kube_job_status_failed", "kube_pod_status_ready");
      } else {
        assertThat(exported).as("a metric the exporter registers").contains(name);
      }
    }
  }

  @Test
  void withoutTheMandatoryKeysTheInstallFailsAtRenderNamingEach() {
    assertThatThrownBy(() -> render())
        .hasMessageContaining("exporter.metadata.cluster is required")
        .hasMessageContaining("--set exporter.metadata.cluster=");
    for (String key :
        List.of(
            "exporter.sink.endpoint",
            "exporter.oidc.tokenUrl",
            "exporter.oidc.clientId",
            "exporter.oidc.scope")) {
      assertThatThrownBy(() -> render(t -> t.set(key, ""), "required"))
          .as(key)
          .hasMessageContaining(key + " is required");
    }
    assertThat(
            Manifests.parse(render(t -> t.set("global.eventExporter.enabled", "false"))).resources)
        .as("a disabled subchart asks for nothing")
        .isEmpty();
  }
}
