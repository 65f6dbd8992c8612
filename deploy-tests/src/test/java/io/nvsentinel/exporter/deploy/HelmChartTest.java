package io.nvsentinel.exporter.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.DryRun;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.nvsentinel.exporter.backfill.BackfillApplication;
import io.nvsentinel.exporter.backfill.config.BackfillJobProperties;
import io.nvsentinel.exporter.config.DocumentedDefaults;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.config.ExporterPropertiesAutoConfiguration;
import io.nvsentinel.exporter.live.config.LiveProperties;
import io.nvsentinel.exporter.live.config.WorkersSynonym;
import io.nvsentinel.exporter.metrics.ExporterMetric;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.ByteArrayResource;
import org.yaml.snakeyaml.Yaml;

/** The chart under real Helm (helm-java embeds the Helm library), parsed with fabric8. */
class HelmChartTest {

  static final Path CHART = Path.of("..", "helm", "event-exporter").toAbsolutePath().normalize();
  static final Path VALUES = Path.of("src", "test", "resources", "values").toAbsolutePath();

  @TempDir Path tmp;

  static String render(String... valuesFiles) {
    return render(t -> {}, valuesFiles);
  }

  static String render(Consumer<TemplateCommand> settings, String... valuesFiles) {
    TemplateCommand template =
        new Helm(CHART).template().withName("nvsentinel").withNamespace("nvsentinel");
    for (String file : valuesFiles) {
      template.withValuesFile(VALUES.resolve(file + ".yaml"));
    }
    settings.accept(template);
    return template.call();
  }

  /** The ConfigMap's application.yaml, bound by the applications' own configuration classes. */
  void bindsWithTheApplications(Manifests manifests, Consumer<ExporterProperties> check)
      throws IOException {
    ConfigMap config = manifests.one(ConfigMap.class);
    String yaml = config.getData().get("application.yaml");
    Path secret = Files.writeString(tmp.resolve("oidc-client-secret"), "s3cret");
    var source =
        new YamlPropertySourceLoader()
            .load("configmap", new ByteArrayResource(yaml.getBytes()))
            .get(0);
    applications(secret, source)
        .run(
            context -> {
              assertThat(context).as(yaml).hasNotFailed();
              assertThat(
                      context
                          .getEnvironment()
                          .getProperty("exporter.oidc.clientSecretFile", String.class))
                  .isNotNull();
              check.accept(context.getBean(ExporterProperties.class));
              Object workers = source.getProperty("exporter.workers");
              if (workers != null) {
                assertThat(context.getBean(LiveProperties.class).workers())
                    .as("exporter.workers is the live exporter's concurrency")
                    .isEqualTo(Integer.parseInt(workers.toString()));
              }
              assertThat(context)
                  .hasSingleBean(LiveProperties.class)
                  .hasSingleBean(BackfillJobProperties.class);
            });
    assertThat(yaml).contains("clientSecretFile: \"/var/secrets/oidc-client-secret\"");
  }

  /**
   * Both applications' configuration classes, the replaced exporter's {@code exporter.workers}, and
   * the OIDC secret the chart mounts at /var/secrets/oidc-client-secret, here at {@code secret},
   * over the rendered configuration file.
   */
  static ApplicationContextRunner applications(Path secret, PropertySource<?> file) {
    return new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(ExporterPropertiesAutoConfiguration.class))
        .withUserConfiguration(ApplicationsProperties.class)
        .withInitializer(ctx -> ctx.getEnvironment().getPropertySources().addLast(file))
        .withInitializer(
            ctx -> new WorkersSynonym().postProcessEnvironment(ctx.getEnvironment(), null))
        .withPropertyValues(
            "exporter.oidc.clientSecretFile=" + secret, "exporter.oidc.clientSecretEnv=");
  }

  @Configuration(proxyBeanMethods = false)
  @EnableConfigurationProperties({LiveProperties.class, BackfillJobProperties.class})
  static class ApplicationsProperties {}

  @Test
  void lintPasses() throws IOException {
    // lint reads the chart's own values, where the mandatory keys are empty (and required): lint
    // a copy whose values carry what an operator must set
    Path chart = tmp.resolve("lint").resolve("event-exporter");
    copy(CHART, chart);
    Yaml yaml = new Yaml();
    Map<String, Object> values = yaml.load(Files.readString(chart.resolve("values.yaml")));
    Map<String, Object> required = yaml.load(Files.readString(VALUES.resolve("required.yaml")));
    deepMerge(values, required);
    Files.writeString(chart.resolve("values.yaml"), yaml.dump(values));
    LintResult result = new Helm(chart).lint().strict().call();
    assertThat(result.isFailed()).as(String.join("\n", result.getMessages())).isFalse();
  }

  @SuppressWarnings("unchecked")
  static void deepMerge(Map<String, Object> into, Map<String, Object> from) {
    from.forEach(
        (key, value) -> {
          if (value instanceof Map<?, ?> map && into.get(key) instanceof Map<?, ?> existing) {
            deepMerge((Map<String, Object>) existing, (Map<String, Object>) map);
          } else {
            into.put(key, value);
          }
        });
  }

  static List<PodSpec> bothPods(Manifests manifests) {
    return List.of(
        manifests.one(Deployment.class).getSpec().getTemplate().getSpec(),
        manifests.one(Job.class).getSpec().getTemplate().getSpec());
  }

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
    assertThat(
            manifests
                .one(Deployment.class)
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getImage())
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
    PodSpec live = openShift.one(Deployment.class).getSpec().getTemplate().getSpec();
    assertThat(live.getTerminationGracePeriodSeconds()).isEqualTo(90L);
    Container container = live.getContainers().get(0);
    assertThat(container.getReadinessProbe().getTimeoutSeconds()).isEqualTo(5);
    assertThat(container.getLivenessProbe().getTimeoutSeconds())
        .as("more than Kubernetes' 1 s by default: a JVM on 1 CPU")
        .isEqualTo(3);
    assertThat(container.getStartupProbe().getFailureThreshold()).isEqualTo(24);
  }

  @Test
  void withAPushgatewayTheBackfillPodsPushTheirMetrics() {
    Manifests manifests =
        Manifests.parse(
            render(
                t ->
                    t.set("backfillJob.metrics.pushgateway.address", "pushgateway.monitoring:9091"),
                "required"));
    PodSpec backfill = manifests.one(Job.class).getSpec().getTemplate().getSpec();
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
    assertThat(
            manifests
                .one(Deployment.class)
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getEnv())
        .as("the live pod is scraped")
        .noneMatch(e -> e.getName().startsWith("MANAGEMENT_PROMETHEUS"));
    assertThat(
            Manifests.parse(render("required"))
                .one(Job.class)
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getEnv())
        .noneMatch(e -> e.getName().startsWith("MANAGEMENT_PROMETHEUS"));
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
        .containsExactly("metrics", "http");
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
    NetworkPolicy policy =
        Manifests.parse(
                render(
                    t ->
                        t.set("exporter.live.httpTrigger", "true")
                            .set("networkPolicy.enabled", "true")
                            .set(
                                "networkPolicy.httpTriggerFrom[0].podSelector.matchLabels.app",
                                "remediation"),
                    "required"))
            .one(NetworkPolicy.class);
    assertThat(policy.getSpec().getIngress()).hasSize(3);
    assertThat(policy.getSpec().getIngress().get(2).getPorts().get(0).getPort().getIntVal())
        .isEqualTo(8081);
    assertThat(
            policy.getSpec().getIngress().get(2).getFrom().get(0).getPodSelector().getMatchLabels())
        .containsEntry("app", "remediation");
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

  @Test
  void theDefaultValuesRender() {
    Manifests manifests = Manifests.parse(render("required"));
    assertThat(manifests.resources)
        .extracting(r -> r.getKind())
        .containsExactlyInAnyOrder(
            "ConfigMap",
            "ServiceAccount",
            "Service",
            "Deployment",
            "Job",
            "PersistentVolumeClaim",
            "CronJob",
            "CronJob",
            "CronJob");
  }

  @Test
  void theOperatorsMinimumBindsWithTheDocumentedDefaults() throws IOException {
    bindsWithTheApplications(
        Manifests.parse(render("required")),
        p -> {
          assertThat(p.cluster()).isEqualTo("my-cluster");
          assertThat(p.sink().endpoint()).isEqualTo("https://events.example.com/api/v1/events");
          DocumentedDefaults.assertHeldBy(p);
          assertThat(p.datastore().collection()).isEqualTo("HealthEvents");
        });
  }

  @ParameterizedTest(name = "the documented example {0} renders and binds")
  @ValueSource(
      strings = {
        "conservative-backfill",
        "aggressive-backfill",
        "disabled-backfill",
        "fast-retries",
        "conservative-retries",
        "custom-metadata",
        "resources-and-secret"
      })
  void everyDocumentedExampleRendersAndBinds(String example) throws IOException {
    Manifests manifests = Manifests.parse(render("required", example));
    bindsWithTheApplications(
        manifests,
        p -> {
          switch (example) {
            case "conservative-backfill" ->
                assertThat(p.backfill())
                    .isEqualTo(
                        new ExporterProperties.Backfill(
                            true, Duration.ofDays(7), 10_000, 100, 100));
            case "aggressive-backfill" ->
                assertThat(p.backfill())
                    .isEqualTo(
                        new ExporterProperties.Backfill(
                            true, Duration.ofDays(90), 5_000_000, 1000, 5000));
            case "disabled-backfill" -> assertThat(p.backfill().enabled()).isFalse();
            case "fast-retries" ->
                assertThat(p.failureHandling())
                    .isEqualTo(
                        new ExporterProperties.FailureHandling(
                            10, Duration.ofMillis(100), Duration.ofSeconds(10), 1.5));
            case "conservative-retries" ->
                assertThat(p.failureHandling())
                    .isEqualTo(
                        new ExporterProperties.FailureHandling(
                            30, Duration.ofSeconds(5), Duration.ofMinutes(15), 2.5));
            case "custom-metadata" ->
                assertThat(p.metadata())
                    .containsEntry("cluster", "prod-us-west-2")
                    .containsEntry("region", "us-west-2")
                    .containsEntry("datacenter", "dc01")
                    .containsEntry("tenant", "acme-corp");
            default -> assertThat(p.cluster()).isEqualTo("my-cluster");
          }
        });
    if (example.equals("disabled-backfill")) {
      assertThat(manifests.all(Job.class)).isEmpty();
      assertThat(manifests.all(PersistentVolumeClaim.class)).isEmpty();
    }
    if (example.equals("resources-and-secret")) {
      Container live =
          manifests.one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);
      assertThat(live.getResources().getLimits()).containsEntry("memory", new Quantity("2Gi"));
      assertThat(
              secretVolume(manifests.one(Deployment.class).getSpec().getTemplate().getSpec())
                  .getSecret()
                  .getSecretName())
          .isEqualTo("my-oidc-secret");
    }
  }

  @Test
  void asASubchartOfAnUmbrellaChartTheDocumentedKeysApply() throws IOException {
    Path umbrella = tmp.resolve("nvsentinel");
    Files.createDirectories(umbrella.resolve("charts"));
    Files.writeString(
        umbrella.resolve("Chart.yaml"), "apiVersion: v2\nname: nvsentinel\nversion: 1.0.0\n");
    copy(CHART, umbrella.resolve("charts").resolve("event-exporter"));
    String yaml =
        new Helm(umbrella)
            .template()
            .withName("nvsentinel")
            .withValuesFile(VALUES.resolve("umbrella-values.yaml"))
            .call();
    Manifests manifests = Manifests.parse(yaml);
    bindsWithTheApplications(
        manifests,
        p -> {
          assertThat(p.cluster()).isEqualTo("prod-us-west-2");
          assertThat(p.metadata()).containsEntry("region", "us-west-2");
          assertThat(p.oidc().clientId()).isEqualTo("nvsentinel-exporter");
        });
    assertThat(
            manifests
                .one(Deployment.class)
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getResources()
                .getRequests())
        .containsEntry("cpu", new Quantity("500m"));

    String disabled =
        new Helm(umbrella)
            .template()
            .withName("nvsentinel")
            .withValuesFile(VALUES.resolve("umbrella-values.yaml"))
            .set("global.eventExporter.enabled", "false")
            .call();
    assertThat(Manifests.parse(disabled).resources).isEmpty();
  }

  @Test
  void disabledRendersNothing() {
    assertThat(
            Manifests.parse(render(t -> t.set("global.eventExporter.enabled", "false"), "required"))
                .resources)
        .isEmpty();
  }

  @ParameterizedTest(name = "{0}={1} is refused naming the key")
  @CsvSource({
    "exporter.backfill.rateLimit, -5, exporter.backfill.rateLimit",
    "exporter.backfill.batchSize, 0, exporter.backfill.batchSize",
    "exporter.backfill.maxAge, 30 days, exporter.backfill.maxAge",
    "exporter.failureHandling.backoffMultiplier, 0.5, exporter.failureHandling.backoffMultiplier",
    "exporter.sink.endpoint, ftp://x, exporter.sink.endpoint",
    "exporter.sink.timeout, soon, exporter.sink.timeout",
    "exporter.sink.subject, maybe, exporter.sink.subject",
  })
  void invalidValuesAreRefusedByTheSchema(String key, String value, String named) {
    assertThatThrownBy(() -> render(t -> t.set(key, value), "required"))
        .hasMessageContaining("don't meet the specifications of the schema")
        .hasMessageContaining("- " + named + ":");
  }

  @ParameterizedTest(name = "{0} is refused at install")
  @CsvSource({
    "exporter.sinkk.endpoint, exporter, sinkk",
    "exporter.live.tokenFlushIntervall, exporter.live, tokenFlushIntervall",
  })
  void aKeyNoApplicationReadsIsRefusedByTheSchema(String key, String section, String property) {
    assertThatThrownBy(() -> render(t -> t.set(key, "x"), "required"))
        .hasMessageContaining(
            "- " + section + ": Additional property " + property + " is not allowed");
  }

  @Test
  void twoReplicasAreRefusedWithTheReason() {
    assertThatThrownBy(() -> render(t -> t.set("replicaCount", 2), "required"))
        .hasMessageContaining("replicaCount is 2")
        .hasMessageContaining("no leader election")
        .hasMessageContaining("every event 2 times");
  }

  @Test
  void theDeploymentIsSecureByDefaultWithTheSecretMountedAndTheProbesWired() {
    Manifests manifests = Manifests.parse(render("required"));
    Deployment deployment = manifests.one(Deployment.class);
    assertThat(deployment.getSpec().getReplicas()).isEqualTo(1);
    PodSpec pod = deployment.getSpec().getTemplate().getSpec();
    assertSecure(pod);
    Container container = pod.getContainers().get(0);
    assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(container.getLivenessProbe().getHttpGet().getPort().getStrVal())
        .isEqualTo("metrics");
    assertThat(container.getStartupProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(container.getResources().getLimits())
        .containsEntry("cpu", new Quantity("1"))
        .containsEntry("memory", new Quantity("1Gi"));
    assertThat(container.getResources().getRequests())
        .containsEntry("cpu", new Quantity("500m"))
        .containsEntry("memory", new Quantity("512Mi"));
    assertThat(deployment.getSpec().getTemplate().getMetadata().getAnnotations())
        .containsKey("checksum/config");
    assertThat(manifests.one(ServiceAccount.class).getAutomountServiceAccountToken()).isFalse();
    assertThat(manifests.one(Service.class).getSpec().getPorts().get(0).getPort()).isEqualTo(8080);
    assertThat(manifests.one(Service.class).getSpec().getPublishNotReadyAddresses())
        .as("metrics stay scrapeable while the exporter is not ready (sink or datastore out)")
        .isTrue();
  }

  @Test
  void metricsAreServedOnThePortNamedMetricsThatTheUmbrellaScrapes() throws IOException {
    String rendered = render(t -> t.set("metrics.serviceMonitor.enabled", "true"), "required");
    assertMetricsPort(Manifests.parse(rendered), 2112);
    assertThat(rendered)
        .as("the ServiceMonitor scrapes what the umbrella's PodMonitor does")
        .contains("kind: ServiceMonitor")
        .containsPattern("- port: metrics\\s+path: /metrics");

    // the umbrella's global.metricsPort wins over the chart's own value, as in its other subcharts
    Manifests umbrella =
        Manifests.parse(
            render(
                t -> t.set("global.metricsPort", "9400").set("metrics.port", "9500"), "required"));
    assertMetricsPort(umbrella, 9400);
    bindsWithTheApplications(umbrella, p -> {});
    assertThat(umbrella.one(ConfigMap.class).getData().get("application.yaml"))
        .contains("metricsPort: 9400");
  }

  private static void assertMetricsPort(Manifests manifests, int port) {
    Container container =
        manifests.one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(container.getPorts())
        .filteredOn(p -> "metrics".equals(p.getName()))
        .singleElement()
        .satisfies(p -> assertThat(p.getContainerPort()).isEqualTo(port));
    assertThat(manifests.one(Service.class).getSpec().getPorts())
        .filteredOn(p -> "metrics".equals(p.getName()))
        .singleElement()
        .satisfies(p -> assertThat(p.getPort()).isEqualTo(port));
    assertThat(manifests.one(ConfigMap.class).getData().get("application.yaml"))
        .contains("metricsPort: " + port);
  }

  @Test
  void theFilterAndTheCloudEventSwitchesReachBothApplications() throws IOException {
    bindsWithTheApplications(
        Manifests.parse(render("required")),
        p -> {
          assertThat(p.filter().expression()).isEmpty();
          assertThat(p.sink().subject()).isTrue();
          assertThat(p.sink().traceContextExtension()).isFalse();
        });
    bindsWithTheApplications(
        Manifests.parse(render("required", "filter-and-tracing")),
        p -> {
          assertThat(p.filter().expression())
              .isEqualTo("event.recommendedAction != 'NONE' && !('45' in event.errorCode)");
          assertThat(p.sink().subject()).isFalse();
          assertThat(p.sink().traceContextExtension()).isTrue();
        });
  }

  @Test
  void aFilterThatIsNoBooleanRendersButStopsStartUpNamingTheKey() throws IOException {
    Manifests manifests =
        Manifests.parse(
            render(t -> t.set("exporter.filter.expression", "event.isFatal"), "required"));
    String yaml = manifests.one(ConfigMap.class).getData().get("application.yaml");
    Path secret = Files.writeString(tmp.resolve("oidc-client-secret"), "s3cret");
    applications(
            secret,
            new YamlPropertySourceLoader()
                .load("configmap", new ByteArrayResource(yaml.getBytes()))
                .get(0))
        .run(
            context ->
                assertThat(context)
                    .hasFailed()
                    .getFailure()
                    .rootCause()
                    .hasMessageContaining(
                        "exporter.filter.expression 'event.isFatal' cannot be used")
                    .hasMessageContaining("event.isFatal == true"));
  }

  @Test
  void theReplacedExportersWorkersKeyIsTheLiveConcurrency() throws IOException {
    Manifests manifests = Manifests.parse(render(t -> t.set("exporter.workers", "10"), "required"));
    assertThat(manifests.one(ConfigMap.class).getData().get("application.yaml"))
        .contains("workers: 10");
    bindsWithTheApplications(manifests, p -> {});
  }

  @Test
  void theBackfillJobAndCronJobAreSecureToo() {
    Manifests once = Manifests.parse(render("required"));
    Job job = once.one(Job.class);
    assertThat(job.getMetadata().getName())
        .matches("nvsentinel-event-exporter-backfill-[0-9a-f]{10}");
    assertSecure(job.getSpec().getTemplate().getSpec());
    assertThat(job.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
        .containsExactly("run");

    Manifests scheduled =
        Manifests.parse(render(t -> t.set("backfillJob.schedule", "17 3 * * *"), "required"));
    assertThat(scheduled.all(Job.class)).isEmpty();
    CronJob cron = scheduled.named(CronJob.class, SCHEDULED);
    assertThat(cron.getSpec().getConcurrencyPolicy()).isEqualTo("Forbid");
    assertSecure(cron.getSpec().getJobTemplate().getSpec().getTemplate().getSpec());
    Volume repository =
        cron.getSpec().getJobTemplate().getSpec().getTemplate().getSpec().getVolumes().stream()
            .filter(v -> v.getName().equals("job-repository"))
            .findFirst()
            .orElseThrow();
    assertThat(repository.getPersistentVolumeClaim().getClaimName())
        .isEqualTo(scheduled.one(PersistentVolumeClaim.class).getMetadata().getName());
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

  static final String SCHEDULED = "nvsentinel-event-exporter-backfill";

  static String jobRepositoryClaim(Manifests manifests) {
    return manifests.one(Job.class).getSpec().getTemplate().getSpec().getVolumes().stream()
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
    assertThat(
            existing
                .named(CronJob.class, SCHEDULED + "-rerun-failed")
                .getSpec()
                .getJobTemplate()
                .getSpec()
                .getTemplate()
                .getSpec()
                .getVolumes())
        .anyMatch(
            v ->
                v.getPersistentVolumeClaim() != null
                    && v.getPersistentVolumeClaim().getClaimName().equals("backfill-repo"));
  }

  @Test
  void eachBackfillCommandIsASuspendedCronJobToStartByHandWithTheBackfillsOwnPod() {
    Manifests manifests = Manifests.parse(render("required"));
    var backfill = manifests.one(Job.class).getSpec().getTemplate().getSpec();
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
    assertThat(backfillJobName(render(t -> t.set("service.port", "9090"), "required")))
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

  @Test
  void aConfigurationChangeRollsThePods() {
    String before = checksum(render("required"));
    String after = checksum(render(t -> t.set("exporter.backfill.rateLimit", 50), "required"));
    assertThat(after).isNotEqualTo(before);
  }

  @Test
  void theDatastoreComesFromNVSentinelsEnvironmentUnlessTheValuesSetIt() throws IOException {
    Manifests standard = Manifests.parse(render("required"));
    PodSpec pod = standard.one(Deployment.class).getSpec().getTemplate().getSpec();
    Container container = pod.getContainers().get(0);
    assertThat(container.getEnvFrom())
        .singleElement()
        .satisfies(
            from -> {
              assertThat(from.getConfigMapRef().getName()).isEqualTo("mongodb-config");
              assertThat(from.getConfigMapRef().getOptional()).isTrue();
            });
    assertThat(container.getEnv())
        .anySatisfy(
            e ->
                assertThat(e.getName() + "=" + e.getValue())
                    .isEqualTo("MONGODB_CLIENT_CERT_MOUNT_PATH=/etc/ssl/mongo-client"));
    Volume certificate =
        pod.getVolumes().stream()
            .filter(v -> v.getName().equals("mongo-app-client-cert"))
            .findFirst()
            .orElseThrow();
    assertThat(certificate.getSecret().getSecretName()).isEqualTo("mongo-app-client-cert-secret");
    assertThat(certificate.getSecret().getOptional()).isTrue();
    // nothing in the ConfigMap overrides the environment...
    String yaml = standard.one(ConfigMap.class).getData().get("application.yaml");
    assertThat(yaml).doesNotContain("datastore:").doesNotContain("resumeToken:");

    // ...unless the values set it
    Manifests set =
        Manifests.parse(
            render(
                t ->
                    t.set("mongodb.uri", "mongodb://standalone:27017")
                        .set("mongodb.database", "events"),
                "required"));
    bindsWithTheApplications(
        set,
        p -> {
          assertThat(p.datastore().database()).isEqualTo("events");
          assertThat(p.resumeToken().database()).isEqualTo("events");
        });
    // the connection string may hold credentials: a Secret, never the ConfigMap
    assertThat(set.one(ConfigMap.class).getData().get("application.yaml"))
        .doesNotContain("standalone");
    Secret uri = set.named(Secret.class, "nvsentinel-event-exporter-mongodb");
    assertThat(uri.getStringData()).containsEntry("MONGODB_URI", "mongodb://standalone:27017");
    for (PodSpec withUri : bothPods(set)) {
      var fromSecret =
          withUri.getContainers().get(0).getEnv().stream()
              .filter(e -> e.getName().equals("MONGODB_URI"))
              .findFirst()
              .orElseThrow()
              .getValueFrom()
              .getSecretKeyRef();
      assertThat(fromSecret.getName()).isEqualTo("nvsentinel-event-exporter-mongodb");
      assertThat(fromSecret.getKey()).isEqualTo("MONGODB_URI");
    }
    Manifests existing =
        Manifests.parse(
            render(
                t ->
                    t.set("mongodb.existingSecret", "atlas-uri")
                        .set("mongodb.existingSecretKey", "uri"),
                "required"));
    assertThat(existing.all(Secret.class)).isEmpty();
    assertThat(
            existing
                .one(Deployment.class)
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getEnv())
        .anyMatch(
            e ->
                e.getName().equals("MONGODB_URI")
                    && e.getValueFrom().getSecretKeyRef().getName().equals("atlas-uri")
                    && e.getValueFrom().getSecretKeyRef().getKey().equals("uri"));
  }

  private static String checksum(String yaml) {
    return Manifests.parse(yaml)
        .one(Deployment.class)
        .getSpec()
        .getTemplate()
        .getMetadata()
        .getAnnotations()
        .get("checksum/config");
  }

  static Volume secretVolume(PodSpec pod) {
    return pod.getVolumes().stream()
        .filter(v -> v.getSecret() != null && v.getName().equals("oidc-client-secret"))
        .findFirst()
        .orElseThrow();
  }

  static void assertSecure(PodSpec pod) {
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(pod.getAutomountServiceAccountToken()).isFalse();
    Container container = pod.getContainers().get(0);
    assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(container.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    Volume secret = secretVolume(pod);
    assertThat(secret.getSecret().getItems())
        .singleElement()
        .satisfies(
            item -> {
              assertThat(item.getKey()).isEqualTo("oidc-client-secret");
              assertThat(item.getPath()).isEqualTo("oidc-client-secret");
            });
    VolumeMount mount =
        container.getVolumeMounts().stream()
            .filter(m -> m.getName().equals("oidc-client-secret"))
            .findFirst()
            .orElseThrow();
    assertThat(mount.getMountPath()).isEqualTo("/var/secrets");
    assertThat(mount.getReadOnly()).isTrue();
  }

  static void copy(Path from, Path to) throws IOException {
    List<Path> paths = new ArrayList<>();
    try (var walk = Files.walk(from)) {
      walk.forEach(paths::add);
    }
    for (Path source : paths) {
      Path target = to.resolve(from.relativize(source).toString());
      if (Files.isDirectory(source)) {
        Files.createDirectories(target);
      } else {
        Files.copy(source, target);
      }
    }
  }
}
