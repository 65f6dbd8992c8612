package io.nvsentinel.exporter.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.mongodb.AuthenticationMechanism;
import com.mongodb.MongoClientSettings;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.nvsentinel.exporter.NVSentinelEnvironmentPostProcessor;
import io.nvsentinel.exporter.config.ExporterProperties;
import io.nvsentinel.exporter.datastore.DatastoreClients;
import io.nvsentinel.exporter.delivery.SelfSignedCertificate;
import io.nvsentinel.exporter.live.config.LiveProperties;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.io.ByteArrayResource;

/**
 * The chart as the {@code event-exporter} subchart of a test umbrella that reproduces NVSentinel's
 * contract (src/test/resources/umbrella): the rendered pods, with the environment Kubernetes would
 * give them and the files it would mount, bound by the applications' own configuration classes.
 */
class NVSentinelUmbrellaTest {

  static final Path UMBRELLA = Path.of("src", "test", "resources", "umbrella").toAbsolutePath();
  static final String MOUNT = "/etc/ssl/mongo-client";
  static final String PG_MOUNT = "/etc/ssl/client-certs";

  @TempDir Path tmp;
  Manifests manifests;

  @BeforeEach
  void render() throws IOException {
    Path umbrella = tmp.resolve("nvsentinel");
    HelmChartTest.copy(UMBRELLA, umbrella);
    HelmChartTest.copy(HelmChartTest.CHART, umbrella.resolve("charts").resolve("event-exporter"));
    manifests =
        Manifests.parse(
            new Helm(umbrella)
                .template()
                .withName("nvsentinel")
                .withNamespace("nvsentinel")
                .call());
  }

  PodTemplateSpec livePod() {
    return manifests.one(Deployment.class).getSpec().getTemplate();
  }

  @Test
  void theLiveExporterReadsNVSentinelsDatastoreAsItsComponentsDo() throws Exception {
    BoundPod pod = bind(livePod().getSpec());

    ExporterProperties.Datastore datastore = pod.properties.datastore();
    // the URI Secret of an external MongoDB comes after the ConfigMap, so its URI wins
    assertThat(datastore.uri())
        .isEqualTo(
            "mongodb://mongodb-0.example.net:27017,mongodb-1.example.net:27017/?replicaSet=rs0&tls=true");
    assertThat(datastore.database()).isEqualTo("HealthEventsDatabase");
    assertThat(datastore.collection()).isEqualTo("HealthEvents");
    assertThat(datastore.tokenCollection()).isEqualTo("ResumeTokens");
    assertThat(pod.properties.resumeToken().database()).isEqualTo("HealthEventsDatabase");
    assertThat(pod.properties.resumeToken().collection()).isEqualTo("ResumeTokens");
    assertThat(pod.properties.resumeToken().clientName()).isEqualTo("event-exporter");
    assertThat(pod.inPod(datastore.caFile())).isEqualTo(MOUNT + "/ca.crt");
    assertThat(pod.inPod(datastore.certFile())).isEqualTo(MOUNT + "/tls.crt");
    assertThat(pod.inPod(datastore.keyFile())).isEqualTo(MOUNT + "/tls.key");
    // mutual TLS and X.509, as NVSentinel's MongoDB requires of its components
    MongoClientSettings client = DatastoreClients.settings(datastore);
    assertThat(client.getSslSettings().isEnabled()).isTrue();
    assertThat(client.getCredential().getAuthenticationMechanism())
        .isEqualTo(AuthenticationMechanism.MONGODB_X509);
    assertThat(pod.live.workers()).as("exporter.workers").isEqualTo(10);
    assertThat(pod.live.metricsPort()).isEqualTo(2112);
  }

  @Test
  void theBackfillJobReadsTheSameDatastore() throws Exception {
    BoundPod pod = bind(manifests.backfillPod());

    assertThat(pod.properties.datastore().database()).isEqualTo("HealthEventsDatabase");
    assertThat(pod.properties.resumeToken().collection()).isEqualTo("ResumeTokens");
    assertThat(pod.inPod(pod.properties.datastore().certFile())).isEqualTo(MOUNT + "/tls.crt");
  }

  @Test
  void theUmbrellasPodMonitorFindsThePortItScrapesAndItsNetworkPolicyAdmitsIt() {
    PodTemplateSpec pod = livePod();
    GenericKubernetesResource monitor =
        (GenericKubernetesResource) manifests.kind("PodMonitor").orElseThrow();
    Map<String, String> selector = monitor.get("spec", "selector", "matchLabels");
    List<Map<String, Object>> endpoints = monitor.get("spec", "podMetricsEndpoints");

    assertThat(pod.getMetadata().getLabels()).containsAllEntriesOf(selector);
    String portName = (String) endpoints.get(0).get("port");
    assertThat(endpoints.get(0)).containsEntry("path", "/metrics");
    ContainerPort port =
        pod.getSpec().getContainers().get(0).getPorts().stream()
            .filter(p -> portName.equals(p.getName()))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no container port named " + portName));
    assertThat(port.getContainerPort()).isEqualTo(2112);

    NetworkPolicy policy = manifests.one(NetworkPolicy.class);
    assertThat(pod.getMetadata().getLabels())
        .containsAllEntriesOf(policy.getSpec().getPodSelector().getMatchLabels());
    assertThat(
            policy.getSpec().getIngress().stream()
                .flatMap(rule -> rule.getPorts().stream())
                .map(NetworkPolicyPort::getPort)
                .map(p -> p.getIntVal()))
        .contains(port.getContainerPort());
  }

  @Test
  void theUmbrellasGlobalValuesApplyToBothPods() {
    for (PodSpec pod : List.of(livePod().getSpec(), manifests.backfillPod())) {
      Container container = pod.getContainers().get(0);
      assertThat(container.getImage()).endsWith(":v0.9.0");
      assertThat(pod.getImagePullSecrets()).extracting("name").containsExactly("nvcr-pull");
      assertThat(pod.getNodeSelector()).containsEntry("node-role.kubernetes.io/system", "true");
      assertThat(pod.getTolerations()).extracting("key").containsExactly("dedicated");
      assertThat(pod.getAffinity().getNodeAffinity()).isNotNull();
      assertThat(env(container))
          .containsEntry("OTEL_EXPORTER_OTLP_ENDPOINT", "otel-collector.monitoring:4317")
          .containsEntry("OTEL_EXPORTER_OTLP_INSECURE", "true");
      // no EXPORTER_* variables from a Service that happens to be named "exporter"
      assertThat(pod.getEnableServiceLinks()).isFalse();
    }
  }

  @Test
  void theUmbrellasTracingReachesBothApplicationsAsAnOtlpGrpcExporter() throws Exception {
    for (PodSpec pod : List.of(livePod().getSpec(), manifests.backfillPod())) {
      BoundPod bound = bind(pod);
      assertThat(bound.tracingExport).isEqualTo("true");
      assertThat(bound.tracingTransport).as("the Go exporter's protocol").isEqualTo("grpc");
      assertThat(bound.tracingEndpoint)
          .as("global.tracing.insecure: plain text to the collector")
          .isEqualTo("http://otel-collector.monitoring:4317");
    }
  }

  @Test
  void onPostgresqlBothApplicationsReadNVSentinelsPostgresqlEnvironmentAndCertificates()
      throws Exception {
    manifests = render("postgres", "global.datastore.provider", "postgresql");

    for (PodSpec pod : List.of(livePod().getSpec(), manifests.backfillPod())) {
      assertThat(pod.getVolumes())
          .filteredOn(v -> v.getSecret() != null)
          .extracting(v -> v.getSecret().getSecretName())
          .contains("postgresql-client-cert")
          .doesNotContain("mongo-app-client-cert-secret");
      assertThat(env(pod.getContainers().get(0)))
          .containsEntry("POSTGRESQL_CLIENT_CERT_MOUNT_PATH", PG_MOUNT)
          .doesNotContainKey("MONGODB_CLIENT_CERT_MOUNT_PATH");

      BoundPod bound = bind(pod);
      ExporterProperties.Datastore datastore = bound.properties.datastore();
      ExporterProperties.Postgresql postgresql = datastore.postgresql();
      assertThat(datastore.provider()).isEqualTo(ExporterProperties.Provider.POSTGRESQL);
      assertThat(postgresql.host()).isEqualTo("nvsentinel-postgresql.nvsentinel.svc.cluster.local");
      assertThat(postgresql.port()).isEqualTo(5432);
      assertThat(postgresql.database()).isEqualTo("nvsentinel");
      assertThat(postgresql.username()).isEqualTo("postgresql");
      assertThat(postgresql.password()).as("from the datastore Secret").isEqualTo("pg-password");
      assertThat(postgresql.sslmode()).isEqualTo("verify-full");
      assertThat(bound.inPod(postgresql.sslrootcert())).isEqualTo(PG_MOUNT + "/ca.crt");
      assertThat(bound.inPod(postgresql.sslcert())).isEqualTo(PG_MOUNT + "/tls.crt");
      assertThat(bound.inPod(postgresql.sslkey())).isEqualTo(PG_MOUNT + "/tls.key");
      assertThat(datastore.eventCollection()).isEqualTo("health_events");
    }
  }

  @Test
  void anotherDatastoreProviderIsRefusedAtInstallNamingTheValue() throws IOException {
    assertThatThrownBy(() -> render("other", "global.datastore.provider", "cassandra"))
        .hasMessageContaining("global.datastore.provider must be one of the following")
        .hasMessageContaining("\"mongodb\", \"postgresql\"");
  }

  /** The test umbrella with one value set, rendered. */
  Manifests render(String name, String key, String value) throws IOException {
    Path umbrella = tmp.resolve(name);
    HelmChartTest.copy(UMBRELLA, umbrella);
    HelmChartTest.copy(HelmChartTest.CHART, umbrella.resolve("charts").resolve("event-exporter"));
    return Manifests.parse(
        new Helm(umbrella)
            .template()
            .withName("nvsentinel")
            .withNamespace("nvsentinel")
            .set(key, value)
            .call());
  }

  /** A pod's configuration as its applications would bind it. */
  final class BoundPod {
    ExporterProperties properties;
    LiveProperties live;
    String tracingExport;
    String tracingEndpoint;
    String tracingTransport;
    final Path root;

    BoundPod(Path root) {
      this.root = root;
    }

    /** A file's path as the pod sees it. */
    String inPod(Path file) {
      return "/" + root.relativize(file).toString().replace('\\', '/');
    }
  }

  /**
   * Binds a rendered pod: its environment as Kubernetes assembles it (envFrom in order, then env),
   * its ConfigMap at /config, its client-certificate Secret written where it is mounted — below a
   * directory standing for the pod's file system root.
   */
  BoundPod bind(PodSpec pod) throws Exception {
    Container container = pod.getContainers().get(0);
    BoundPod bound = new BoundPod(Files.createTempDirectory(tmp, "pod-root"));
    Map<String, String> environment = env(container);
    environment.replaceAll(
        (name, value) ->
            value.startsWith(MOUNT) || value.startsWith(PG_MOUNT) ? bound.root + value : value);
    writeMountedSecret(pod, container, bound.root);
    ConfigMap config =
        manifests.all(ConfigMap.class).stream()
            .filter(c -> c.getData().containsKey("application.yaml"))
            .findFirst()
            .orElseThrow();
    var file =
        new YamlPropertySourceLoader()
            .load(
                "file [/config/application.yaml]",
                new ByteArrayResource(
                    config.getData().get("application.yaml").getBytes(StandardCharsets.UTF_8)))
            .get(0);
    Path secret = Files.writeString(tmp.resolve("oidc-client-secret"), "s3cret");
    HelmChartTest.applications(secret, file)
        .withInitializer(
            ctx ->
                new NVSentinelEnvironmentPostProcessor(environment::get)
                    .postProcessEnvironment(ctx.getEnvironment(), null))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              bound.properties = context.getBean(ExporterProperties.class);
              bound.live = context.getBean(LiveProperties.class);
              var settings = context.getEnvironment();
              bound.tracingExport = settings.getProperty("management.tracing.export.enabled");
              bound.tracingEndpoint =
                  settings.getProperty("management.opentelemetry.tracing.export.otlp.endpoint");
              bound.tracingTransport =
                  settings.getProperty("management.opentelemetry.tracing.export.otlp.transport");
            });
    return bound;
  }

  /** The container's environment: envFrom sources in order (a later one wins), then env. */
  Map<String, String> env(Container container) {
    Map<String, String> env = new LinkedHashMap<>();
    container
        .getEnvFrom()
        .forEach(
            from -> {
              if (from.getConfigMapRef() != null) {
                manifests.all(ConfigMap.class).stream()
                    .filter(c -> c.getMetadata().getName().equals(from.getConfigMapRef().getName()))
                    .forEach(c -> env.putAll(c.getData()));
              }
              if (from.getSecretRef() != null) {
                env.putAll(secretData(from.getSecretRef().getName()));
              }
            });
    for (EnvVar var : container.getEnv()) {
      if (var.getValue() != null) {
        env.put(var.getName(), var.getValue());
      }
    }
    return env;
  }

  Map<String, String> secretData(String name) {
    Map<String, String> data = new LinkedHashMap<>();
    manifests.all(Secret.class).stream()
        .filter(s -> s.getMetadata().getName().equals(name))
        .forEach(
            s -> {
              if (s.getStringData() != null) {
                data.putAll(s.getStringData());
              }
              if (s.getData() != null) {
                s.getData()
                    .forEach(
                        (k, v) ->
                            data.put(
                                k,
                                new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
              }
            });
    return data;
  }

  /**
   * Writes the keys of the client-certificate Secret where the pod mounts it. The PEM contents are
   * a generated certificate (the test umbrella's Secret holds placeholders); names and places are
   * the Secret's and the chart's.
   */
  void writeMountedSecret(PodSpec pod, Container container, Path root) throws Exception {
    Path keys = Files.createTempDirectory(tmp, "certificate");
    SelfSignedCertificate certificate = SelfSignedCertificate.create(keys);
    Path key = certificate.writeKeyPem(keys.resolve("key.pem"));
    Map<String, Path> contents =
        Map.of("ca.crt", certificate.pem(), "tls.crt", certificate.pem(), "tls.key", key);
    List<String> written = new ArrayList<>();
    BiConsumer<Volume, VolumeMount> write =
        (volume, mount) -> {
          for (String name : secretData(volume.getSecret().getSecretName()).keySet()) {
            try {
              Path target = root.resolve(mount.getMountPath().substring(1)).resolve(name);
              Files.createDirectories(target.getParent());
              Files.copy(contents.get(name), target);
              written.add(name);
            } catch (IOException e) {
              throw new IllegalStateException(e);
            }
          }
        };
    for (VolumeMount mount : container.getVolumeMounts()) {
      pod.getVolumes().stream()
          .filter(v -> v.getName().equals(mount.getName()) && v.getSecret() != null)
          .filter(v -> List.of(MOUNT, PG_MOUNT).contains(mount.getMountPath()))
          .forEach(v -> write.accept(v, mount));
    }
    assertThat(written).containsExactlyInAnyOrder("ca.crt", "tls.crt", "tls.key");
  }
}
