package io.nvsentinel.exporter.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.nvsentinel.exporter.backfill.config.BackfillJobProperties;
import io.nvsentinel.exporter.config.DocumentedDefaults;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.config.ExporterPropertiesAutoConfiguration;
import io.nvsentinel.exporter.live.config.LeaseProperties;
import io.nvsentinel.exporter.live.config.LiveProperties;
import io.nvsentinel.exporter.live.config.WorkersSynonym;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
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
  @EnableConfigurationProperties({
    LiveProperties.class,
    LeaseProperties.class,
    BackfillJobProperties.class
  })
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
    return List.of(manifests.livePod(), manifests.backfillPod());
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
      Container live = manifests.livePod().getContainers().get(0);
      assertThat(live.getResources().getLimits()).containsEntry("memory", new Quantity("2Gi"));
      assertThat(secretVolume(manifests.livePod()).getSecret().getSecretName())
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
    assertThat(manifests.livePod().getContainers().get(0).getResources().getRequests())
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

  @ParameterizedTest(name = "replicaCount {0}: one leader under the lease, standbys, hand-off")
  @ValueSource(ints = {2, 3})
  void moreReplicasAreALeaderAndStandbysThatHandOffAndSpreadOverNodes(int replicas)
      throws IOException {
    Manifests manifests = Manifests.parse(render(t -> t.set("replicaCount", replicas), "required"));
    Deployment deployment = manifests.one(Deployment.class);
    assertThat(deployment.getSpec().getReplicas()).isEqualTo(replicas);
    assertThat(deployment.getSpec().getStrategy().getType()).isEqualTo("RollingUpdate");
    assertThat(
            deployment.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable().getIntVal())
        .isZero();
    assertThat(deployment.getSpec().getStrategy().getRollingUpdate().getMaxSurge().getIntVal())
        .isOne();
    PodSpec pod = deployment.getSpec().getTemplate().getSpec();
    assertThat(pod.getTopologySpreadConstraints())
        .singleElement()
        .satisfies(
            spread -> {
              assertThat(spread.getTopologyKey()).isEqualTo("kubernetes.io/hostname");
              assertThat(spread.getLabelSelector().getMatchLabels())
                  .containsEntry("app.kubernetes.io/component", "live");
            });
    PodDisruptionBudget budget = manifests.one(PodDisruptionBudget.class);
    assertThat(budget.getSpec().getMaxUnavailable().getIntVal()).isOne();
    assertThat(budget.getSpec().getSelector().getMatchLabels())
        .isEqualTo(deployment.getSpec().getSelector().getMatchLabels());
    ConfigMap config = manifests.one(ConfigMap.class);
    var source =
        new YamlPropertySourceLoader()
            .load(
                "configmap",
                new ByteArrayResource(config.getData().get("application.yaml").getBytes()))
            .get(0);
    applications(Files.writeString(tmp.resolve("secret"), "s"), source)
        .run(
            context ->
                assertThat(context.getBean(LeaseProperties.class).enabled())
                    .as("the lease is on")
                    .isTrue());
  }

  @Test
  void oneReplicaIsAsBeforeWithoutLeaseBudgetOrSpread() {
    Manifests manifests = Manifests.parse(render("required"));
    Deployment deployment = manifests.one(Deployment.class);
    assertThat(deployment.getSpec().getStrategy().getType()).isEqualTo("Recreate");
    assertThat(deployment.getSpec().getTemplate().getSpec().getTopologySpreadConstraints())
        .isNullOrEmpty();
    assertThat(manifests.all(PodDisruptionBudget.class)).isEmpty();
    assertThat(manifests.one(ConfigMap.class).getData().get("application.yaml"))
        .doesNotContain("lease");
  }

  @Test
  void moreReplicasThanTestedOrWithoutTheLeaseAreRefusedWithTheReason() {
    assertThatThrownBy(() -> render(t -> t.set("replicaCount", 4), "required"))
        .hasMessageContaining("- replicaCount: Must be less than or equal to 3");
    assertThatThrownBy(
            () ->
                render(
                    t -> t.set("replicaCount", 2).set("exporter.live.lease.enabled", "false"),
                    "required"))
        .hasMessageContaining("exporter.live.lease.enabled is false, but replicaCount is 2")
        .hasMessageContaining("every replica would export every health event");
  }

  @Test
  void theNoLeaderAlertComesWithStandbys() {
    String rule =
        render(t -> t.set("replicaCount", 2).set("prometheusRule.enabled", "true"), "required");
    assertThat(rule)
        .contains("alert: EventExporterNoLeader")
        .contains("health_events_exporter_leader{")
        .contains("for: 1m");
    assertThat(render(t -> t.set("prometheusRule.enabled", "true"), "required"))
        .doesNotContain("EventExporterNoLeader");
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
    assertThat(container.getReadinessProbe().getHttpGet().getPort().getStrVal())
        .isEqualTo("metrics");
    assertThat(container.getPorts())
        .as("no web server in the live pod: the metrics port serves the probes")
        .extracting(p -> p.getName())
        .containsExactly("metrics");
    assertThat(container.getResources().getLimits())
        .containsEntry("cpu", new Quantity("1"))
        .containsEntry("memory", new Quantity("1Gi"));
    assertThat(container.getResources().getRequests())
        .containsEntry("cpu", new Quantity("500m"))
        .containsEntry("memory", new Quantity("512Mi"));
    assertThat(deployment.getSpec().getTemplate().getMetadata().getAnnotations())
        .containsKey("checksum/config");
    assertThat(manifests.one(ServiceAccount.class).getAutomountServiceAccountToken()).isFalse();
    assertThat(manifests.one(Service.class).getSpec().getPorts())
        .extracting(p -> p.getName())
        .containsExactly("metrics");
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
    Container container = manifests.livePod().getContainers().get(0);
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
  void batchedDeliveryIsOffByDefaultAndItsKeysReachBothApplications() throws IOException {
    bindsWithTheApplications(
        Manifests.parse(render("required")), p -> assertThat(p.sink().batch().enabled()).isFalse());
    bindsWithTheApplications(
        Manifests.parse(
            render(
                t ->
                    t.set("exporter.sink.batch.enabled", "true")
                        .set("exporter.sink.batch.maxEvents", "250")
                        .set("exporter.sink.batch.maxWait", "250ms"),
                "required")),
        p -> {
          assertThat(p.sink().batch().enabled()).isTrue();
          assertThat(p.sink().batch().maxEvents()).isEqualTo(250);
          assertThat(p.sink().batch().maxWait()).isEqualTo(Duration.ofMillis(250));
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

  static final String SCHEDULED = "nvsentinel-event-exporter-backfill";

  @Test
  void aConfigurationChangeRollsThePods() {
    String before = checksum(render("required"));
    String after = checksum(render(t -> t.set("exporter.backfill.rateLimit", 50), "required"));
    assertThat(after).isNotEqualTo(before);
  }

  @Test
  void theDatastoreComesFromNVSentinelsEnvironmentUnlessTheValuesSetIt() throws IOException {
    Manifests standard = Manifests.parse(render("required"));
    PodSpec pod = standard.livePod();
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
    assertThat(existing.livePod().getContainers().get(0).getEnv())
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
